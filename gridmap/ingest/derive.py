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


def with_grid_codes(store: Store, spec: Layer, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """`frame` with `grid_code` derived against the store's grids (null where no grid holds it)."""
    if "grid_code" not in spec.field_names or frame.empty:
        return frame
    grids = store.read("grids")
    locator = GridLocator(grids)
    if spec.name == "buildings":
        positions = building_grids(grids, frame)
    elif spec.name == "households":
        wanted = frame["building_code"].dropna().unique().tolist()
        buildings = store.read("buildings", codes=wanted)
        positions = household_grids(locator, frame, buildings["code"], building_grids(grids, buildings))
    else:
        positions = locator.locate(*point_xy(frame))
    out = frame.copy()
    out["grid_code"] = codes_at(locator.codes, np.asarray(positions, dtype=np.intp))
    return out
