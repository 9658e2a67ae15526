"""The 5-, 10- and 15-minute life circles: households and buildings within 300 / 500 / 1,000 m on foot
of a service point (GB 50180-2018), walked along the roads (`gridmap.walking`).

Each household gets `service_walk_m` (metres to the nearest service point on
foot, empty beyond the cut-off) and `service_walk_code` (that service point);
each grid the households and buildings inside each circle. Buildings walk
from their representative point. Without roads nothing is measured and the
analysis says so (straight-line service coverage stands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridmap.arrays import FloatArray, IntArray
from gridmap.coverage import metric_xy
from gridmap.crs import metric_crs, transformer
from gridmap.measures import Computation, Figures, Inputs, per_grid
from gridmap.vocabulary import LIFE_CIRCLES, column_terms, share_measures
from gridmap.walking import Reach, Snap, WalkingOptions, snap, walk_to_nearest

if TYPE_CHECKING:
    from gridmap.analysis import Analysis

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
    # A part of the city walks to the whole city's service points when it is told them (as the whole
    # analysis does); points and service points are snapped once per network, a moved one searched around.
    sites = inputs.walking.sites if inputs.walking.sites is not None else inputs.layers["service_points"]
    networks = inputs.walking.networks
    facilities = networks.sources_of(network, metric_xy(sites, inputs.metric), inputs.walking.cutoff_m)
    households = facilities.walk(networks.snap(network, inputs.households_xy))
    buildings = inputs.layers["buildings"]
    by_building = facilities.walk(networks.snap(network, building_xy(buildings, inputs.metric)))
    return Figures(
        households=household_columns(households, sites),
        counts=circle_counts(
            inputs.grids, inputs.household_grid, households, inputs.building_grid, by_building
        ),
    )


def building_xy(buildings: gpd.GeoDataFrame, metric: pyproj.CRS) -> FloatArray:
    """Where each building walks from (its representative point), in `metric` (n × 2)."""
    centres = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object))
    x, y = transformer(buildings.crs, metric).transform(shapely.get_x(centres), shapely.get_y(centres))
    return np.column_stack([x, y])


def household_columns(households: Reach, sites: pd.DataFrame) -> dict[str, Any]:
    """The household columns of the walks `households` to the service points `sites`."""
    codes = pd.array(sites["code"].astype("string").to_numpy(), dtype="string")
    return {
        "service_walk_m": households.metres,
        "service_walk_code": codes.take(households.facility, allow_fill=True),
    }


def circle_counts(
    grids: int, household_grid: IntArray, households: Reach, building_grid: IntArray, buildings: Reach
) -> dict[str, IntArray]:
    """`COUNTS` of `grids` grids from the walks of their households and buildings (grid positions)."""
    counts = {"buildings": per_grid(building_grid, grids)}
    for _, metres in LIFE_CIRCLES:
        counts[f"walk_{metres}_households"] = per_grid(household_grid, grids, households.metres <= metres)
    for _, metres in LIFE_CIRCLES:
        counts[f"walk_{metres}_buildings"] = per_grid(building_grid, grids, buildings.metres <= metres)
    return counts


walking = Computation(
    _walking,
    reads=("service_points", "roads", "buildings"),
    columns=("service_walk_m", "service_walk_code"),
    counts=COUNTS,
)


LEVELS = (("grids", "网格"), ("communities", "社区"), ("streets", "街道"))
NO_KIND = "未分类"
_ALL_KINDS = ""  # the kind of the rows counting every household and building of a grid


def life_circles_by_kind(
    analysis: Analysis, roads: gpd.GeoDataFrame | None, options: WalkingOptions | None = None
) -> pd.DataFrame:
    """Per grid, community and street and per service-point kind: households and buildings within
    300 / 500 / 1,000 m on foot of a service point of that kind (the workbook's 生活圈 sheet).

    Kinds are the service points' `kind` (未分类 where empty); one multi-source search per kind on
    the network the analysis walked. Empty without roads. Labels come from the registry.
    """
    return life_circles_of(analysis, life_circle_counts(analysis, roads, options))


def life_circle_counts(
    analysis: Analysis,
    roads: gpd.GeoDataFrame | None,
    options: WalkingOptions | None = None,
    metric: pyproj.CRS | None = None,
) -> pd.DataFrame:
    """The grid counts `life_circles_of` sums: per grid its households and buildings (kind ""), and
    per service-point kind and grid those within each circle; a kind when there are no grids, one
    row without a code. Parts of a whole (the distributed engine) count their own grids, walking
    to every service point that reaches them, in the whole's `metric`; their rows add up."""
    opts = options or WalkingOptions()
    if roads is None or not len(roads):
        return pd.DataFrame()
    metric = metric or metric_crs(analysis.grids)
    network = opts.networks.network_of(roads, metric)
    if not network.segments:
        return pd.DataFrame()
    households, buildings = analysis.households, analysis.frames["buildings"]
    index = pd.Index(analysis.grids["code"].astype(str))
    at = {
        unit: index.get_indexer(pd.Index(frame["grid_code"].astype(object)))
        for unit, frame in (("households", households), ("buildings", buildings))
    }

    def count(unit: str, within: np.ndarray | bool = True) -> np.ndarray:
        return np.bincount(at[unit][(at[unit] >= 0) & within], minlength=len(index))

    rows = [pd.DataFrame({"kind": _ALL_KINDS, "code": index, **{unit: count(unit) for unit in at}})]
    sites = analysis.frames["service_points"]
    if not len(sites):
        return rows[0]
    homes = opts.networks.snap(network, metric_xy(households, metric))
    centres = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object))
    bx, by = transformer(buildings.crs, metric).transform(shapely.get_x(centres), shapely.get_y(centres))
    places = {"households": homes, "buildings": opts.networks.snap(network, np.column_stack([bx, by]))}
    kinds = sites["kind"].astype("string").fillna(NO_KIND).str.strip().replace("", NO_KIND)
    site_places = snap(network, metric_xy(sites, metric))
    for kind in sorted(kinds.unique()):
        mine = (kinds == kind).to_numpy(dtype=bool)
        facilities = Snap(site_places.segment[mine], site_places.along[mine], site_places.leg[mine])
        table: dict[str, object] = {"kind": str(kind), "code": index if len(index) else [None]}
        for unit, snapped in places.items():
            metres = walk_to_nearest(network, snapped, facilities, opts.cutoff_m).metres
            for _, m in LIFE_CIRCLES:
                table[f"walk_{m}_{unit}"] = count(unit, metres <= m) if len(index) else [0]
        rows.append(pd.DataFrame(table))
    return pd.concat(rows, ignore_index=True)


def life_circles_of(analysis: Analysis, counts: pd.DataFrame) -> pd.DataFrame:
    """The 生活圈 sheet from `life_circle_counts` rows (of the whole, or of its parts together)."""
    kinds = sorted(set(counts["kind"]) - {_ALL_KINDS}) if len(counts) else []
    if not kinds:
        return pd.DataFrame()
    codes = analysis.grids["code"].astype(str)
    known = counts[counts["code"].notna()]
    units = ("households", "buildings")
    base = known[known["kind"] == _ALL_KINDS].set_index("code")[list(units)].reindex(codes, fill_value=0)
    parts = []
    for kind in kinds:
        walks = known[known["kind"] == kind].set_index("code")
        per_grid = pd.DataFrame(index=pd.Index(codes.to_numpy()))
        for unit in units:
            per_grid[unit] = base[unit].to_numpy(dtype=np.int64)
            for _, m in LIFE_CIRCLES:
                name = f"walk_{m}_{unit}"
                per_grid[name] = walks[name].reindex(codes, fill_value=0).to_numpy(dtype=np.int64)
        parts.extend(_levels(analysis, per_grid, kind))
    return _labelled(pd.concat(parts, ignore_index=True))


def _levels(analysis: Analysis, per_grid: pd.DataFrame, kind: str) -> list[pd.DataFrame]:
    """The grid counts and their sums per community and street, each with its shares."""
    community = analysis.grids.set_index(analysis.grids["code"].astype(str))["community_code"].astype(str)
    street = analysis.communities.set_index(analysis.communities["code"].astype(str))["street_code"]
    by = {
        "grids": per_grid,
        "communities": per_grid.groupby(community.reindex(per_grid.index).to_numpy()).sum(),
        "streets": per_grid.groupby(
            street.astype(str).reindex(community.reindex(per_grid.index).to_numpy()).to_numpy()
        ).sum(),
    }
    out = []
    for level, label in LEVELS:
        table = by[level].copy()
        names = getattr(analysis, level).set_index(getattr(analysis, level)["code"].astype(str))["name"]
        table.insert(0, "name", names.reindex(table.index).to_numpy())
        table.insert(0, "code", table.index.to_numpy())
        table.insert(0, "kind", kind)
        table.insert(0, "level", label)
        for m in share_measures():
            if m.count in table and m.base in table:  # this table holds the walking counts alone
                total = table[m.base].to_numpy(dtype=np.float64)
                with np.errstate(divide="ignore", invalid="ignore"):
                    table[m.column] = np.where(total > 0, table[m.count] / total, np.nan).round(4)
        out.append(table.reset_index(drop=True))
    return out


def _labelled(table: pd.DataFrame) -> pd.DataFrame:
    """Headers people read, from the registry."""
    terms = column_terms()
    named = {"level": "层级", "kind": "服务点类型"}
    return table.rename(columns=lambda c: named.get(c) or (terms[c].zh if c in terms else c))
