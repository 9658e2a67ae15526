"""Boundary versions: the validity dates of streets, communities and grids.

A redrawn boundary (split, merge, moved edge) closes the old version and
opens a new one; the store keeps closed versions in the layer's history with
the date they closed, so a lookup can be answered "as of" any date while the
current layer holds only the boundaries in force now. The rules:

- a new feature takes the `valid_from` it is given; without one, the date of
  the write (the first load of an empty layer keeps it empty: in force since
  before records began);
- a feature whose geometry changed (`gridmap.sameness`) is a new version: its `valid_from` is the
  one given when later than the old version's, else the write's effective
  date, and the old version closes on that date;
- a feature whose geometry did not change keeps its `valid_from` unless given
  another; a deleted feature's version closes on the write's effective date
  (the latest `valid_from` the write gives its new versions, else today);
- a code is never reused for a different area: a new version must overlap the
  previous one (or the retired version of a deleted code) by at least half of
  the smaller of the two.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.catalogue import Layer
from gridmap.errors import GridmapError, Problem, ValidationError
from gridmap.sameness import same_geometries

MIN_OVERLAP = 0.5
"""A new version of a code must share at least this part of the smaller area with its previous version."""


class InvalidDateError(GridmapError):
    """A date that is not an ISO calendar date (YYYY-MM-DD)."""


def parse_date(value: str) -> str:
    """`value` as an ISO date (YYYY-MM-DD), or an InvalidDateError saying what a date looks like."""
    try:
        return dt.date.fromisoformat(value.strip()).isoformat() if len(value.strip()) == 10 else _bad(value)
    except ValueError:
        return _bad(value)


def _bad(value: str) -> str:
    raise InvalidDateError(f"date must look like 2025-01-31, not {value!r}")


def today() -> str:
    """The effective date of a write that gives none (ISO, local calendar)."""
    return dt.date.today().isoformat()


def stamp_validity(
    spec: Layer,
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    populated: bool,
    retired: gpd.GeoDataFrame,
    on: str | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """`after` with validity dates set, and the closing date of each `before` code should it change.

    `before` holds the stored rows of the codes concerned, `retired` the last
    closed version of codes no longer in the layer, `populated` whether the
    layer held anything before this write.
    """
    out = after.copy()
    out["valid_to"] = pd.array([None] * len(out), dtype="string")
    index = pd.Index(before["code"].astype(str))
    position = index.get_indexer(out["code"].astype(str))
    common = position >= 0
    old_geoms = np.full(len(out), None, dtype=object)
    old_geoms[common] = np.asarray(before.geometry.values, dtype=object)[position[common]]
    new_geoms = np.asarray(out.geometry.values, dtype=object)
    moved = common & ~same_geometries(old_geoms, new_geoms)
    old_from = np.full(len(out), None, dtype=object)
    old_from[common] = before["valid_from"].to_numpy(dtype=object, na_value=None)[position[common]]
    given = out["valid_from"].to_numpy(dtype=object, na_value=None)
    valid_from = given.copy()
    inherit = common & ~moved & (given == None)  # noqa: E711 - elementwise over an object array
    valid_from[inherit] = old_from[inherit]
    fresh = ~common | moved
    explicit = [v for v in given[fresh] if v is not None]
    effective = max(explicit) if explicit else (on or today())
    stale = np.array(
        [g is None or (o is not None and g <= o) for g, o in zip(given, old_from, strict=True)], dtype=bool
    )
    valid_from[moved & stale] = effective
    valid_from[~common & (given == None) & populated] = effective  # noqa: E711
    out["valid_from"] = pd.array(valid_from, dtype="string")
    closed = pd.Series(effective, index=index, dtype="string")
    moved_codes = out["code"].astype(str)[moved]
    closed[moved_codes.to_numpy()] = valid_from[moved]
    _check_areas(spec, out, old_geoms, moved, retired)
    return out, closed


def _check_areas(
    spec: Layer, out: gpd.GeoDataFrame, old_geoms: np.ndarray, moved: np.ndarray, retired: gpd.GeoDataFrame
) -> None:
    """Refuse a code that comes back for a different area (ValidationError naming each code)."""
    codes = out["code"].astype(str).to_numpy(dtype=object)
    previous = old_geoms.copy()
    check = moved.copy()
    if len(retired):
        where = pd.Index(retired["code"].astype(str)).get_indexer(codes)
        back = (where >= 0) & ~moved & (old_geoms == None)  # noqa: E711
        previous[back] = np.asarray(retired.geometry.values, dtype=object)[where[back]]
        check |= back
    new = np.asarray(out.geometry.values, dtype=object)
    check &= ~shapely.is_missing(previous) & ~shapely.is_missing(new)
    if not check.any():
        return
    a, b = previous[check], new[check]
    smaller = np.minimum(shapely.area(a), shapely.area(b))
    shared = shapely.area(shapely.intersection(a, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(smaller > 0, shared / smaller, 1.0)
    bad = np.flatnonzero(ratio < MIN_OVERLAP)
    if not len(bad):
        return
    problems = [
        Problem(
            None,
            "geometry",
            f"code {codes[np.flatnonzero(check)[i]]} would be reused for a different area "
            f"(it shares {ratio[i]:.0%} with its previous version); a new area needs a new code "
            "(a mistaken import is undone with gridmap revert)",
            str(codes[np.flatnonzero(check)[i]]),
        )
        for i in bad
    ]
    raise ValidationError(spec.name, problems)
