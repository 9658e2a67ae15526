"""The 5-, 10- and 15-minute life circles: households and buildings within 300 / 500 / 1,000 m on foot
of a service point (GB 50180-2018), walked along the roads (`gridmap.walking`).

Each household gets `service_walk_m` (metres to the nearest service point on
foot, empty beyond the cut-off) and `service_walk_code` (that service point);
each grid the households and buildings inside each circle. Buildings walk
from their representative point. Without roads nothing is measured and the
analysis says so (straight-line service coverage stands).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gridmap.coverage import metric_xy
from gridmap.crs import transformer
from gridmap.measures import Computation, Figures, Inputs
from gridmap.vocabulary import LIFE_CIRCLES
from gridmap.walking import snap, walk_to_nearest

NO_ROADS = (
    "未载入道路图层：步行距离（5/10/15 分钟生活圈）未计算，志愿服务点覆盖按直线距离计",
    "no roads loaded: walking distance (5/10/15-minute life circles) not measured; "
    "service point coverage is straight-line",
)

COUNTS = (
    "buildings",
    *(f"walk_{metres}_households" for _, metres in LIFE_CIRCLES),
    *(f"walk_{metres}_buildings" for _, metres in LIFE_CIRCLES),
)


def _walking(inputs: Inputs) -> Figures:
    roads = inputs.layers.get("roads")
    if roads is None or not len(roads):
        return Figures(note=NO_ROADS)
    network = inputs.walking.networks.network_of(roads, inputs.metric)
    if not network.segments:
        return Figures(note=NO_ROADS)
    sites = inputs.layers["service_points"]
    facilities = snap(network, metric_xy(sites, inputs.metric))
    cutoff = inputs.walking.cutoff_m
    households = walk_to_nearest(network, snap(network, inputs.households_xy), facilities, cutoff)
    buildings = inputs.layers["buildings"]
    centres = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object))
    x, y = transformer(buildings.crs, inputs.metric).transform(shapely.get_x(centres), shapely.get_y(centres))
    by_building = walk_to_nearest(network, snap(network, np.column_stack([x, y])), facilities, cutoff)
    codes = pd.array(sites["code"].astype("string").to_numpy(), dtype="string")
    counts = {"buildings": inputs.per_grid(inputs.building_grid)}
    for _, metres in LIFE_CIRCLES:
        counts[f"walk_{metres}_households"] = inputs.per_grid(
            inputs.household_grid, households.metres <= metres
        )
    for _, metres in LIFE_CIRCLES:
        counts[f"walk_{metres}_buildings"] = inputs.per_grid(
            inputs.building_grid, by_building.metres <= metres
        )
    return Figures(
        households={
            "service_walk_m": households.metres,
            "service_walk_code": codes.take(households.facility, allow_fill=True),
        },
        counts=counts,
    )


walking = Computation(
    _walking,
    reads=("service_points", "roads", "buildings"),
    columns=("service_walk_m", "service_walk_code"),
    counts=COUNTS,
)
