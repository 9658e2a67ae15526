"""Two adjacent counties generated side by side, with features that cross the county line."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.frames import conform
from gridmap.sample import generate
from gridmap.sample.layout import Place

EAST_COUNTY, WEST_COUNTY = "420111", "420106"


def two_counties() -> dict[str, gpd.GeoDataFrame]:
    """Two one-street districts 60 m apart (speakers reach across), plus three features filed wrongly.

    - household `…0001` of the west county's first building lies in an east county building;
    - the west county's first speaker stands in the east county;
    - a household whose code has no county lies in the west county.
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
    frames["households"] = pd.concat([households, stray], ignore_index=True)
    first = speakers["code"].str.contains(WEST_COUNTY).idxmax()
    speakers.loc[first, "geometry"] = shapely.Point(target.x + 0.0005, target.y)
    frames["speakers"] = speakers
    return {
        layer: conform(layer, frame).sort_values("code", ignore_index=True) for layer, frame in frames.items()
    }
