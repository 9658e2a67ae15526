"""`grid_code` of imported buildings and points, derived from the store's grids (never from input).

Same rules as `gridmap.assignment` (edge tie-break, largest area share, a
household in its building's grid), applied to the features being written, so
a store read after an import already says which grid each feature is in.
A later change of the grids themselves is picked up by `gridmap assign`,
`gridmap analyze` and `gridmap demo`, which rewrite every derived code.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from gridmap.assignment import (
    GridLocator,
    building_grids,
    codes_at,
    household_grids,
    point_xy,
)
from gridmap.catalogue import Layer
from gridmap.stores.base import Store

SMALL_WRITE = 1_000
"""Up to this many features, a write reads only the grids where they lie (a one-feature edit)."""
PAD = 1e-7
"""Degrees around the features' extent (about 1 cm): a point's zero-width box still meets its grids."""


def with_grid_codes(store: Store, spec: Layer, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """`frame` with `grid_code` derived against the store's grids (null where no grid holds it)."""
    if "grid_code" not in spec.field_names or frame.empty:
        return frame
    buildings = None
    if spec.name == "households":
        buildings = store.read("buildings", codes=frame["building_code"].dropna().unique().tolist())
    grids = _grids_near(store, frame, buildings)
    locator = GridLocator(grids)
    if spec.name == "buildings":
        positions = building_grids(grids, frame)
    elif buildings is not None:
        positions = household_grids(locator, frame, buildings["code"], building_grids(grids, buildings))
    else:
        positions = locator.locate(*point_xy(frame))
    out = frame.copy()
    out["grid_code"] = codes_at(locator.codes, np.asarray(positions, dtype=np.intp))
    return out


def _grids_near(
    store: Store, frame: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """The grids a small write's features (and their buildings) may fall in: those meeting their
    extent; every grid for a bulk import. A grid that holds or overlaps a feature meets its extent,
    so the rules (edge tie-break, largest share) see every candidate they would see in the whole
    layer."""
    if len(frame) > SMALL_WRITE:
        return store.read("grids")
    bounds = [frame.total_bounds]
    if buildings is not None and not buildings.empty:
        bounds.append(buildings.total_bounds)
    box = np.array(bounds, dtype=float)
    if np.isnan(box).all():
        return store.read("grids")
    x0, y0 = np.nanmin(box[:, 0]) - PAD, np.nanmin(box[:, 1]) - PAD
    x1, y1 = np.nanmax(box[:, 2]) + PAD, np.nanmax(box[:, 3]) + PAD
    return store.read("grids", bbox=(float(x0), float(y0), float(x1), float(y1)))


class GridDeriver:
    """`with_grid_codes` for the chunks of one bulk import: grids (and, for households, every
    building's grid) read and located once, not per chunk."""

    def __init__(self, store: Store, spec: Layer, *, buildings: gpd.GeoDataFrame | None = None) -> None:
        self._spec = spec
        self._active = "grid_code" in spec.field_names
        if not self._active:
            return
        self._grids = store.read("grids")
        self._locator = GridLocator(self._grids)
        if spec.name == "households":
            register = store.read("buildings") if buildings is None else buildings
            self._building_codes = register["code"]
            self._building_grid = building_grids(self._grids, register)

    def __call__(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """`frame` with `grid_code` derived (as `with_grid_codes` derives it)."""
        if not self._active or frame.empty:
            return frame
        if self._spec.name == "buildings":
            positions = building_grids(self._grids, frame)
        elif self._spec.name == "households":
            positions = household_grids(self._locator, frame, self._building_codes, self._building_grid)
        else:
            positions = self._locator.locate(*point_xy(frame))
        out = frame.copy()
        out["grid_code"] = codes_at(self._locator.codes, np.asarray(positions, dtype=np.intp))
        return out
