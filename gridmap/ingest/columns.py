"""Mapping a file's column names onto a layer's catalogue fields.

People name columns in Chinese or English, in any case, with spaces or
full-width characters (编码, ＣＯＤＥ, "Street Code"); all of these must land on
the same field, and the import report must say which column went where.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from gridmap.catalogue import Field, Layer

# Columns that carry a table's geometry rather than a field.
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬", "y坐标")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "几何", "空间信息")

_SEPARATORS = re.compile(r"[\s_\-]+")


def name_key(name: object) -> str:
    """The form two column names are compared in: NFKC (full-width → ASCII), no spaces, casefolded."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(name))).casefold()


@dataclass
class ColumnMapping:
    """Which source column feeds which field or geometry role, and what was left out (and why)."""

    fields: dict[str, str] = field(default_factory=dict)
    geometry: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)


def _candidates(f: Field) -> list[str]:
    """Names that mean `f`, best first: the canonical name, the labels, then the aliases."""
    return [f.name, f.label_zh, f.label_en, *f.aliases]


def map_columns(layer: Layer, columns: Iterable[object], *, tabular: bool) -> ColumnMapping:
    """Match each column to a field (or to lon/lat/WKT when `tabular`), preferring the best-ranked name.

    When two columns match the same field the better-ranked wins (the
    canonical name beats a label, a label beats an alias) and the other is
    reported as ignored, so nothing is silently overwritten.
    """
    ranks: dict[str, tuple[str, int]] = {}
    for f in layer.fields:
        for rank, candidate in enumerate(_candidates(f)):
            ranks.setdefault(name_key(candidate), (f.name, rank))
    if tabular:
        for role, names in (("lon", LON_NAMES), ("lat", LAT_NAMES), ("wkt", WKT_NAMES)):
            for rank, candidate in enumerate(names):
                ranks.setdefault(name_key(candidate), (f"@{role}", rank))

    best: dict[str, tuple[int, str]] = {}
    mapping = ColumnMapping()
    for column in columns:
        col = str(column)
        match = ranks.get(name_key(col))
        if match is None:
            mapping.ignored[col] = f"not a field of {layer.name}"
            continue
        target, rank = match
        previous = best.get(target)
        if previous is not None and previous[0] <= rank:
            mapping.ignored[col] = f"also matches {target.lstrip('@')}; column {previous[1]!r} is used"
            continue
        if previous is not None:
            mapping.ignored[previous[1]] = f"also matches {target.lstrip('@')}; column {col!r} is used"
        best[target] = (rank, col)

    for target, (_, col) in best.items():
        if target.startswith("@"):
            mapping.geometry[target[1:]] = col
        elif layer.get(target).derived:
            mapping.ignored[col] = f"{target} is derived by gridmap, never taken from input"
        else:
            mapping.fields[target] = col
    return mapping
