"""Mapping a file's column names onto a layer's catalogue fields.

People name columns in Chinese or English, in any case, with spaces or
full-width characters (编码, ＣＯＤＥ, "Street Code"); all of these must land on
the same field, and the import report must say which column went where.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from gridmap.catalogue import Field, Layer
from gridmap.texts import Message

# Columns that carry a table's geometry rather than a field.
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬", "y坐标")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "几何", "空间信息")

_SEPARATORS = re.compile(r"[\s_\-]+")

SHAPEFILE_NAME_LIMIT = 10
"""dBase field names hold at most 10 characters; GDAL and ArcGIS cut longer names there."""

_RESEMBLES_FROM = 4  # a shorter column name is too short to look like any field
_TRUNCATED = 1_000  # rank of a cut or abbreviated name: any spelled-out name beats it


def name_key(name: object) -> str:
    """The form two column names are compared in: NFKC (full-width → ASCII), no spaces, casefolded."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(name))).casefold()


@dataclass
class ColumnMapping:
    """Which source column feeds which field or geometry role, and what was left out (and why)."""

    fields: dict[str, str] = field(default_factory=dict)
    geometry: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)
    unmapped: dict[str, str] = field(default_factory=dict)
    """Columns that look like a field but cannot be mapped to one, with the reason: an import refuses them."""


def short_field_names(names: Sequence[str], limit: int = SHAPEFILE_NAME_LIMIT) -> dict[str, str]:
    """Map each name to a unique name of at most `limit` characters (the Shapefile rule of `gridmap.export`).

    A name that fits is kept; otherwise every word keeps its first letter and
    drops its later vowels (center_household → cntr_hshld); if that is still
    too long the underscores go, then the end is cut; a name that would repeat
    an earlier one ends in `_2`, `_3`, … instead.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        short = name if len(name) <= limit else _abbreviate(name, limit)
        n = 2
        while short.lower() in used:
            suffix = f"_{n}"
            short = short[: limit - len(suffix)] + suffix
            n += 1
        used.add(short.lower())
        out[name] = short
    return out


def _abbreviate(name: str, limit: int) -> str:
    words = [w[0] + re.sub("[aeiou]", "", w[1:]) for w in name.split("_") if w]
    short = "_".join(words)
    if len(short) > limit:
        short = "".join(words)
    return short[:limit]


def _candidates(f: Field) -> list[str]:
    """Names that mean `f`, best first: the canonical name, the labels, then the aliases."""
    return [f.name, f.label_zh, f.label_en, *f.aliases]


def _is_abbreviation(short: str, full: str) -> bool:
    """`short` keeps `full`'s first letter, then some of its letters in order (cntrhshld: centerhousehold)."""
    if not short or short[0] != full[0]:
        return False
    rest = iter(full)
    return all(ch in rest for ch in short)


def _field_keys(layer: Layer) -> dict[str, set[str]]:
    """Every name (as a name key) of each of the layer's fields."""
    return {f.name: {name_key(c) for c in _candidates(f)} for f in layer.fields}


def _cut_matches(column: str, keys: dict[str, set[str]]) -> set[str]:
    """Fields one of whose names starts with `column`: what a name cut to 10 characters may stand for."""
    key = name_key(column)
    return {name for name, names in keys.items() if any(k.startswith(key) for k in names)}


def _resembles(column: str, keys: dict[str, set[str]]) -> list[str]:
    """Fields `column` looks like (a cut or an abbreviation of one of their names), however it came to be."""
    key = name_key(column)
    if len(key) < _RESEMBLES_FROM:
        return []
    return [
        name
        for name, names in keys.items()
        if any(k.startswith(key) or _is_abbreviation(key, k) for k in names if len(k) > len(key))
    ]


def map_columns(
    layer: Layer, columns: Iterable[object], *, tabular: bool, ignore: Collection[str] = ()
) -> ColumnMapping:
    """Match each column to a field (or to lon/lat/WKT when `tabular`), preferring the best-ranked name.

    When two columns match the same field the better-ranked wins (the
    canonical name beats a label, a label beats an alias) and the other is
    reported as ignored, so nothing is silently overwritten. Shapefile names
    are recognised too: gridmap's own shortening (cmmnty_cd), and a name cut
    at 10 characters by GDAL or ArcGIS (party_bran) when it starts the names
    of exactly one field. A column that looks like a field (a cut or an
    abbreviation of its name) but maps to none lands in `unmapped`, unless
    it is in `ignore`.
    """
    ranks: dict[str, tuple[str, int]] = {}
    for f in layer.fields:
        for rank, candidate in enumerate(_candidates(f)):
            ranks.setdefault(name_key(candidate), (f.name, rank))
    for full, short in short_field_names(layer.field_names).items():
        ranks.setdefault(name_key(short), (full, _TRUNCATED))
    keys = _field_keys(layer)
    if tabular:
        for role, names in (("lon", LON_NAMES), ("lat", LAT_NAMES), ("wkt", WKT_NAMES)):
            for rank, candidate in enumerate(names):
                ranks.setdefault(name_key(candidate), (f"@{role}", rank))

    best: dict[str, tuple[int, str]] = {}
    mapping = ColumnMapping()
    wanted = set(ignore)
    for column in columns:
        col = str(column)
        if col in wanted:
            mapping.ignored[col] = Message("columns.ignored_as_asked")
            continue
        match = ranks.get(name_key(col))
        if match is None and len(col) == SHAPEFILE_NAME_LIMIT:
            cut = _cut_matches(col, keys)
            if len(cut) == 1:
                match = (cut.pop(), _TRUNCATED)
            elif cut:
                mapping.unmapped[col] = Message(
                    "columns.cut_name", limit=SHAPEFILE_NAME_LIMIT, fields=", ".join(sorted(cut))
                )
                continue
        if match is None:
            alike = _resembles(col, keys)
            if alike:
                mapping.unmapped[col] = Message(
                    "columns.looks_like", fields=" / ".join(alike), layer=layer.name
                )
            else:
                mapping.ignored[col] = Message("columns.not_a_field", layer=layer.name)
            continue
        target, rank = match
        previous = best.get(target)
        if previous is not None and previous[0] <= rank:
            mapping.ignored[col] = Message("columns.also", field=target.lstrip("@"), used=repr(previous[1]))
            continue
        if previous is not None:
            mapping.ignored[previous[1]] = Message("columns.also", field=target.lstrip("@"), used=repr(col))
        best[target] = (rank, col)

    for target, (_, col) in best.items():
        if target.startswith("@"):
            mapping.geometry[target[1:]] = col
        elif layer.get(target).derived:
            mapping.ignored[col] = Message("columns.derived", field=target)
        else:
            mapping.fields[target] = col
    return mapping
