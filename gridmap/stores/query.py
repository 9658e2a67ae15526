"""What `Store.query` is asked and what it answers: one page of a layer, filtered by the database.

A page costs what the page holds, not what the layer holds: both stores
filter, order and cut the page in SQL over their indexes (GiST and B-tree in
PostGIS, the R-tree and the code index in a GeoPackage). Counting every match
of a city-sized layer would cost as much as reading it, so `Page.matched` is
exact only up to `COUNT_LIMIT` matches and None beyond (OGC API – Features
lets a server omit numberMatched); `Page.more` always says whether another
page follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd

from gridmap.catalogue import Field, Layer
from gridmap.errors import StoreError

COUNT_LIMIT = 10_000
"""Matches counted exactly; a selection with more has `matched` None."""

Value = str | int | float | bool


@dataclass(frozen=True)
class Page:
    """Features of one page, in the requested order, and what is known of the whole selection."""

    frame: gpd.GeoDataFrame
    matched: int | None
    more: bool


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


def check_window(limit: int | None, offset: int) -> None:
    """A page window the stores can cut: limit ≥ 0 (None: every match), offset ≥ 0."""
    if (limit is not None and limit < 0) or offset < 0:
        raise StoreError(f"a page needs limit ≥ 0 and offset ≥ 0, not limit={limit}, offset={offset}")


def matched_from_page(offset: int, returned: int, more: bool) -> int | None:
    """The number matched when the page itself tells it (first page, nothing after); else None."""
    return returned if offset == 0 and not more else None
