"""Two adjacent counties generated side by side, with features that cross the county line."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.frames import conform
from gridmap.sample import generate
from gridmap.sample.layout import Place

EAST_COUNTY, WEST_COUNTY = "420111", "420106"
LOST_HOUSEHOLD = f"{EAST_COUNTY}999999999999"
EDGE_SPEAKER = f"{EAST_COUNTY}SPK999"


def two_counties() -> dict[str, gpd.GeoDataFrame]:
    """Two one-street districts 60 m apart (speakers reach across), plus three features filed wrongly.

    - household `…0001` of the west county's first building lies in an east county building;
    - the west county's first speaker stands in the east county;
    - a household whose code has no county lies in the west county;
    - a household of the east county lies in no grid, east of everything, where a speaker reaches it.
    """
    west = generate(1, 11, Place.at(WEST_COUNTY, 114.300, 30.565))
    east_edge = float(west["grids"].total_bounds[2])
    east = generate(1, 12, Place.at(EAST_COUNTY, east_edge + 60 / 95_935, 30.565))
    frames = {layer: pd.concat([west[layer], east[layer]], ignore_index=True) for layer in west}
    households, speakers = frames["households"].copy(), frames["speakers"].copy()
    target = east["buildings"].geometry.iloc[0].centroid
    moved = households["code"].str.startswith(WEST_COUNTY).idxmax()
    households.loc[moved, "geometry"] = target
    households.loc[moved, "building_code"] = None
    stray = households.iloc[[1]].copy()
    stray["code"], stray["building_code"] = "NOCODE-1", None
    stray["geometry"] = [west["buildings"].geometry.iloc[3].centroid]
    _, y0, x1, y1 = frames["grids"].total_bounds
    lost = households.iloc[[5]].copy()
    lost["code"], lost["building_code"] = LOST_HOUSEHOLD, None
    lost["geometry"] = [shapely.Point(x1 + 0.002, (y0 + y1) / 2)]
    frames["households"] = pd.concat([households, stray, lost], ignore_index=True)
    first = speakers["code"].str.contains(WEST_COUNTY).idxmax()
    speakers.loc[first, "geometry"] = shapely.Point(target.x + 0.0005, target.y)
    edge = speakers.iloc[[0]].copy()
    edge["code"], edge["status"], edge["radius_m"] = EDGE_SPEAKER, "working", 300.0
    edge["geometry"] = [shapely.Point(x1 - 0.001, (y0 + y1) / 2)]
    frames["speakers"] = pd.concat([speakers, edge], ignore_index=True)
    return {
        layer: conform(layer, frame).sort_values("code", ignore_index=True) for layer, frame in frames.items()
    }
