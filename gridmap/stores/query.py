"""What `Store.query` is asked and what it answers: one page of a layer, filtered by the database.

A page costs what the page holds, not what the layer holds: both stores
filter, order and cut the page in SQL over their indexes (GiST and B-tree in
PostGIS, the R-tree and the code index in a GeoPackage). Counting every match
of a city-sized layer would cost as much as reading it, so `Page.matched` is
exact up to `COUNT_LIMIT` matches and on a last page (offset + the rows it
holds), and None otherwise (OGC API – Features lets a server omit
numberMatched); `Page.more` always says whether another page follows.

Pages are cut two ways. By `offset` (skip that many matches), which costs
what the skipped rows cost: PostgreSQL walks 400,000 index entries to skip
them. Or by a keyset cursor on `code` (`after`: the codes following the
last one seen; `before`: the codes preceding the first one seen, read
backwards), which starts from the code index, so every page costs what the
first does and a feature inserted or deleted between two pages neither
repeats nor skips any other. A cursor page's `matched` counts the whole
selection (the filters without the cursor), capped like any other.

Callers that receive a query as text (the API's query string, the command
line's options) turn it into typed arguments with `parse_bbox` and
`typed_equals`, so both read a box and a filter value the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from gridmap.catalogue import Field, Layer
from gridmap.errors import GridmapError, StoreError

if TYPE_CHECKING:
    from gridmap.stores.base import BBox
    from gridmap.stores.conditions import Condition

COUNT_LIMIT = 10_000
"""Matches counted exactly; past it `matched` is None, except on a last page (which tells the total)."""

Value = str | int | float | bool

MAX_OFFSET = 2**53
"""The largest page offset asked of a store: past any layer's end, and inside every database's integers."""

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class QueryError(GridmapError):
    """A query given as text that cannot be used; `field` names the part at fault (a field, or bbox)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Page:
    """Features of one page, in the requested order, and what is known of the whole selection."""

    frame: gpd.GeoDataFrame
    matched: int | None
    more: bool


_PLAIN: dict[str, Callable[[Any], object]] = {"boolean": bool, "integer": int, "real": float, "text": str}


@dataclass(frozen=True)
class Records:
    """Features as plain Python values, without a frame: what a page served as GeoJSON needs.

    `rows` hold the values of `names` in order (bool, int, float, str or None,
    as a frame's `to_numpy(dtype=object, na_value=None)` gives them), and
    `geometries` one shapely geometry (or None) per row. Building a
    GeoDataFrame for a page of ten costs tens of milliseconds of pandas
    overhead; these cost what their values do.
    """

    names: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    geometries: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """One field's values, row by row."""
        at = self.names.index(name)
        return [row[at] for row in self.rows]

    @classmethod
    def of_frame(cls, frame: gpd.GeoDataFrame) -> Records:
        """The records of a frame (its columns but the geometry, in order)."""
        geometry = frame.geometry.name
        names = tuple(str(name) for name in frame.columns if name != geometry)
        columns = [frame[name].to_numpy(dtype=object, na_value=None) for name in names]
        rows = list(zip(*columns, strict=True)) if columns else [()] * len(frame)
        return cls(names, rows, np.asarray(frame.geometry.values, dtype=object))

    @classmethod
    def of_stored(cls, spec: Layer, rows: Sequence[Sequence[Any]], geometries: np.ndarray) -> Records:
        """Records of a store's rows (the spec's fields in order), each value as the field's Python type.

        A driver may hand a boolean as 0/1 (SQLite) or a number as another numeric type; NaN is None.
        """
        kinds = [_PLAIN[f.type] for f in spec.fields]
        plain = [
            tuple(
                None if v is None or (isinstance(v, float) and math.isnan(v)) else kind(v)
                for kind, v in zip(kinds, row, strict=True)
            )
            for row in rows
        ]
        return cls(tuple(spec.field_names), plain, np.asarray(geometries, dtype=object))

    def reversed(self) -> Records:
        return Records(self.names, self.rows[::-1], self.geometries[::-1])

    def head(self, n: int | None) -> Records:
        return self if n is None else Records(self.names, self.rows[:n], self.geometries[:n])


@dataclass(frozen=True)
class RecordPage:
    """`Page` as records (`Store.query_records`): the same features, matched and more."""

    records: Records
    matched: int | None
    more: bool


@dataclass(frozen=True)
class PageRequest:
    """What one page asks of a layer (`Store.query`): its filters, its order and where it is cut.

    `equals` maps fields to values of their type; `where` is a further condition over
    the layer's columns (`stores.conditions`: a CQL2 filter, a validity interval);
    `order` is a field, `-field` for descending (ties by code, nulls last); `limit`
    None returns every match. `after` / `before` cut the page by a keyset cursor
    instead of `offset` (code order only).
    """

    bbox: BBox | None = None
    codes: Sequence[str] | None = None
    equals: Mapping[str, Value] | None = None
    where: Condition | None = None
    limit: int | None = None
    offset: int = 0
    order: str = "code"
    after: str | None = None
    before: str | None = None

    def checked(self, spec: Layer) -> tuple[Order, Cursor | None, dict[str, Value]]:
        """The order, the cursor (None: an offset page) and the typed equalities, or a StoreError."""
        by = parse_order(spec, self.order)
        check_window(self.limit, self.offset)
        cursor = check_cursor(self.order, self.offset, self.after, self.before)
        return by, cursor, check_equals(spec, self.equals)


@dataclass(frozen=True)
class Order:
    """A catalogue field to order by (ties broken by code, so pages never overlap)."""

    field: Field
    descending: bool = False

    @property
    def name(self) -> str:
        return self.field.name


def parse_order(spec: Layer, order: str) -> Order:
    """`"name"` or `"-name"` (descending) of a field of `spec`; anything else is a StoreError."""
    name = order.removeprefix("-")
    if name not in spec.field_names:
        raise StoreError(
            f"{spec.name} cannot be ordered by {name!r}: not one of {', '.join(spec.field_names)}"
        )
    return Order(spec.get(name), descending=order.startswith("-"))


def check_equals(spec: Layer, equals: Mapping[str, Value] | None) -> dict[str, Value]:
    """Field → value filters, each value of its field's type (bool, number or text)."""
    out: dict[str, Value] = {}
    for name, value in (equals or {}).items():
        if name not in spec.field_names:
            raise StoreError(f"{spec.name} has no field {name!r} to filter by")
        kind = spec.get(name).type
        fits = {
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int | float) and not isinstance(value, bool),
            "real": isinstance(value, int | float) and not isinstance(value, bool),
            "text": isinstance(value, str),
        }[kind]
        if not fits:
            raise StoreError(f"{spec.name}.{name} is {kind}: cannot compare it with {value!r}")
        out[name] = value
    return out


@dataclass(frozen=True)
class Cursor:
    """A keyset position in code order: the codes after `after`, or the `limit` codes just before `before`."""

    after: str | None = None
    before: str | None = None

    @property
    def backwards(self) -> bool:
        """Whether the page is read from `before` backwards (then `Page.more` says earlier rows exist)."""
        return self.before is not None

    @property
    def bound(self) -> str | None:
        return self.before if self.before is not None else self.after


def check_cursor(order: str, offset: int, after: str | None, before: str | None) -> Cursor | None:
    """The keyset cursor of a query (None: an offset page); one of after/before, by code, no offset."""
    if after is None and before is None:
        return None
    if after is not None and before is not None:
        raise StoreError("a page is cut after one code or before one, not both")
    if offset:
        raise StoreError(f"a page is cut by offset or by a cursor on code, not both (offset={offset})")
    if order != "code":
        raise StoreError(f"a cursor pages in code order only, not by {order!r}")
    if "\x00" in (after or before or ""):
        raise StoreError("a cursor is a code, and no code holds a NUL character")
    return Cursor(after=after, before=before)


def check_window(limit: int | None, offset: int) -> None:
    """A page window the stores can cut: limit ≥ 0 (None: every match), 0 ≤ offset ≤ MAX_OFFSET."""
    if (limit is not None and limit < 0) or not 0 <= offset <= MAX_OFFSET:
        raise StoreError(
            f"a page needs limit ≥ 0 and 0 ≤ offset ≤ {MAX_OFFSET}, not limit={limit}, offset={offset}"
        )


def matched_from_page(offset: int, returned: int, more: bool) -> int | None:
    """The number matched when the page itself tells it, without counting; else None.

    A page with nothing after it ends the selection: offset + returned. An
    empty page past the first tells nothing (its offset may lie past the end).
    """
    if more or (returned == 0 and offset > 0):
        return None
    return offset + returned


def bbox_parts(bbox: BBox) -> list[BBox]:
    """The box as boxes with min ≤ max: two when it crosses the antimeridian (minlon > maxlon)."""
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        return [bbox]
    return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]


def bbox_shape(bbox: BBox) -> shapely.Geometry:
    """The area a box covers, for exact tests (a MultiPolygon when it crosses the antimeridian)."""
    boxes = [shapely.box(*part) for part in bbox_parts(bbox)]
    return boxes[0] if len(boxes) == 1 else shapely.MultiPolygon(boxes)


def parse_bbox(text: str) -> BBox:
    """`minlon,minlat,maxlon,maxlat` in WGS84 (a 3D box loses its heights); anything else is a QueryError.

    minlon > maxlon is a box crossing the antimeridian (OGC API – Features, /req/core/fc-bbox-response).
    """
    shape = "bbox must be four or six numbers: minlon,minlat,maxlon,maxlat"
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise QueryError(shape, "bbox") from None
    if len(parts) == 6:  # a 3D box: drop the heights
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise QueryError(shape, "bbox")
    return check_bbox((parts[0], parts[1], parts[2], parts[3]))


def check_bbox(bbox: BBox) -> BBox:
    """A WGS84 box with minlat ≤ maxlat and every value in range; anything else is a QueryError."""
    minx, miny, maxx, maxy = bbox
    inside = all(-180 <= x <= 180 for x in (minx, maxx)) and all(-90 <= y <= 90 for y in (miny, maxy))
    if miny > maxy or not inside:
        raise QueryError("bbox must have minlat ≤ maxlat, lon in [-180, 180], lat in [-90, 90]", "bbox")
    return bbox


_INT64 = 2.0**63


def typed_equals(spec: Layer, raw: Mapping[str, str]) -> dict[str, Value]:
    """Field → text filters as `equals` for `Store.query`: each value read as its field's type.

    Booleans accept true/false/1/0, numbers must be finite; an unknown field
    or a value its field cannot hold is a QueryError naming the field.
    """
    out: dict[str, Value] = {}
    for name, text in raw.items():
        if name not in spec.field_names:
            raise QueryError(
                f"{spec.name} has no field {name!r}; it can be filtered by: {', '.join(spec.field_names)}",
                name,
            )
        out[name] = _typed(spec.get(name), text)
    return out


def _typed(field: Field, text: str) -> Value:
    if field.type == "boolean":
        wanted = _BOOLEANS.get(text.strip().lower())
        if wanted is None:
            raise QueryError(f"{field.name} must be true or false", field.name)
        return wanted
    if field.type in ("integer", "real"):
        try:
            number = float(text)
        except ValueError:
            raise QueryError(f"{field.name} must be a number", field.name) from None
        if not math.isfinite(number):
            raise QueryError(f"{field.name} must be a finite number", field.name)
        if not -_INT64 <= number < _INT64:  # beyond what either store's integers hold
            raise QueryError(f"{field.name} must lie between -2^63 and 2^63", field.name)
        return int(number) if field.type == "integer" and number.is_integer() else number
    return text
