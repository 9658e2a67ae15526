"""A large county cut into parts of whole communities, each with everything its analysis reads.

A city of millions of households is one county: analysed as one task it
outgrows a worker. Every figure of a grid and of a community depends only on
the layers inside that community and the sites within reach of it (the
argument of `gridmap.incremental`): topology compares grids of one community,
linkage pairs households of one grid, assignment ties are broken by code, and
distances are measured in the county's CRS (`Projections`), passed to every
part. So `split_county` assigns the county once (cheap next to analysing
it), packs its communities in (street, code) order into parts of at most
`max_households` households (a community is never cut; one larger than the
limit is a part alone), and writes each part's layers:

- its streets, communities and grids, and the buildings, households and sites
  assigned to those grids;
- as read-only guests, every other speaker and service point whose reach
  (radius, or the walking cut-off when roads are loaded) meets the box around
  the part's grids, buildings and households, as the county engine lends
  sites across county lines;
- the features in no grid go to one part of their own (`LOST`), with the
  sites reaching them.

Streets are summed from their communities again when the parts are merged
(`gridmap.distributed.engine.merge`), since a street's communities may lie
in several parts. On disk: `ROOT/parts/<county>/<part>/<layer>.parquet` and
`guests.json`; the walking network stays whole (`ROOT/roads`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap.analysis import WHOLE_LAYERS, AnalysisOptions, Projections, projections
from gridmap.arrays import IntArray
from gridmap.assignment import DERIVED_LAYERS, assign_positions
from gridmap.catalogue import LAYER_NAMES
from gridmap.distributed.partitions import MAX_HOUSEHOLDS, read_whole
from gridmap.distributed.spread import SITE_LAYERS, Moves, _reach_boxes, county_frames
from gridmap.frames import conform, empty_frame

PARTS = "parts"
LOST = "lost"
GUESTS = "guests.json"


@dataclass(frozen=True)
class CountySplit:
    """A county cut into parts: their names (in order) and the CRSs every part measures in."""

    county: str
    parts: list[str]
    measure: Projections


def part_dir(root: str | Path, county: str, part: str) -> Path:
    """Where one part's layers lie."""
    return Path(root) / PARTS / county / part


def split_county(
    root: str | Path,
    county: str,
    *,
    moves: Moves,
    options: AnalysisOptions,
    max_households: int = MAX_HOUSEHOLDS,
) -> CountySplit:
    """Assign a county once, cut it into parts of whole communities and write each part's layers."""
    frames, county_guests = county_frames(root, county, moves)
    measure = projections(frames)
    _, pos = assign_positions(frames, measure.analysis)
    grid_part, community_part, names = _pack(frames, pos["households"], max_households)
    lost = len(names)
    feature_part = {
        layer: np.where(pos[layer] >= 0, grid_part[np.maximum(pos[layer], 0)], lost)
        for layer in DERIVED_LAYERS
    }
    for layer, codes in county_guests.items():  # other counties' sites: never this county's own
        guest = frames[layer]["code"].isin(list(codes)).to_numpy(dtype=bool)
        feature_part[layer] = np.where(guest, -1, feature_part[layer])
    if any((feature_part[layer] == lost).any() for layer in DERIVED_LAYERS):
        names = [*names, LOST]
    walking_m = options.walking.cutoff_m if any(len(frames[layer]) for layer in WHOLE_LAYERS) else 0.0
    windows = _windows(frames, grid_part, feature_part, len(names))
    reached = {
        layer: _reached(_reach_boxes(frames[layer], layer, options.coverage, walking_m), windows)
        for layer in SITE_LAYERS
    }
    street_part = _street_parts(frames, community_part)
    for number, name in enumerate(names):
        target = part_dir(root, county, name)
        target.mkdir(parents=True, exist_ok=True)
        rows = {
            "streets": street_part == number,
            "communities": community_part == number,
            "grids": grid_part == number,
            "buildings": feature_part["buildings"] == number,
            "households": feature_part["households"] == number,
        }
        guests: dict[str, list[str]] = {}
        for layer in SITE_LAYERS:
            own = feature_part[layer] == number
            here = np.zeros(len(own), dtype=bool)
            here[reached[layer][1][reached[layer][0] == number]] = True
            rows[layer] = own | here
            guests[layer] = frames[layer]["code"][here & ~own].astype(str).tolist()
        for layer, keep in rows.items():
            frames[layer].iloc[np.flatnonzero(keep)].to_parquet(target / f"{layer}.parquet", index=False)
        (target / GUESTS).write_text(json.dumps(guests) + "\n", encoding="utf-8")
    return CountySplit(county, names, measure)


def part_frames(
    root: str | Path, county: str, part: str
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, set[str]]]:
    """One part's layers as its analysis must see them (the walking network whole), and its guest sites."""
    where = part_dir(root, county, part)
    frames: dict[str, gpd.GeoDataFrame] = {}
    for layer in LAYER_NAMES:
        if layer in WHOLE_LAYERS:
            frames[layer] = read_whole(root, layer)
            continue
        frame = gpd.read_parquet(where / f"{layer}.parquet")
        frames[layer] = conform(layer, frame) if len(frame) else empty_frame(layer)
    guests = json.loads((where / GUESTS).read_text(encoding="utf-8"))
    return frames, {layer: set(codes) for layer, codes in guests.items() if codes}


def _pack(
    frames: dict[str, gpd.GeoDataFrame], household_grid: IntArray, most: int
) -> tuple[IntArray, IntArray, list[str]]:
    """The part of each grid and each community, and the parts' names: communities in (street, code)
    order, packed while a part stays within `most` households; grids of no known community form one unit."""
    grids, communities = frames["grids"], frames["communities"]
    c_code = communities["code"].astype(str).to_numpy(dtype=object)
    unit_of_grid = pd.Index(c_code).get_indexer(grids["community_code"].astype(object).to_numpy())
    orphan = len(c_code)  # the unit of grids whose community is unknown
    unit_of_grid = np.where(unit_of_grid >= 0, unit_of_grid, orphan)
    per_grid = np.bincount(household_grid[household_grid >= 0], minlength=len(grids))
    per_unit = np.bincount(unit_of_grid, weights=per_grid, minlength=orphan + 1).astype(np.int64)
    street = communities["street_code"].astype("string").fillna("").to_numpy(dtype=object)
    order = [*sorted(range(orphan), key=lambda i: (street[i], c_code[i])), orphan]
    unit_part = np.zeros(orphan + 1, dtype=np.intp)
    part, held = 0, 0
    for unit in order:
        if held and held + per_unit[unit] > most:
            part, held = part + 1, 0
        unit_part[unit] = part
        held += int(per_unit[unit])
    names = [f"{i:04d}" for i in range(part + 1)]
    return unit_part[unit_of_grid], unit_part[:orphan], names


def _street_parts(frames: dict[str, gpd.GeoDataFrame], community_part: IntArray) -> IntArray:
    """A part holding each street: one of its communities' (the first part for a street without any)."""
    streets = frames["streets"]["code"].astype(str).to_numpy(dtype=object)
    first = (
        pd.Series(community_part)
        .groupby(frames["communities"]["street_code"].astype(object).to_numpy())
        .min()
    )
    return first.reindex(streets).fillna(0).to_numpy(dtype=np.intp)


def _windows(
    frames: dict[str, gpd.GeoDataFrame],
    grid_part: IntArray,
    feature_part: dict[str, IntArray],
    parts: int,
) -> npt.NDArray[np.object_]:
    """The lon/lat box around each part's grids, buildings and households (empty for a part without any)."""
    lo = np.full((parts, 2), np.inf)
    hi = np.full((parts, 2), -np.inf)
    for frame, part in (
        (frames["grids"], grid_part),
        (frames["buildings"], feature_part["buildings"]),
        (frames["households"], feature_part["households"]),
    ):
        bounds = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
        known = (part >= 0) & np.isfinite(bounds).all(axis=1)
        for axis in (0, 1):
            np.minimum.at(lo[:, axis], part[known], bounds[known, axis])
            np.maximum.at(hi[:, axis], part[known], bounds[known, axis + 2])
    found = np.isfinite(lo).all(axis=1)
    boxes = np.array([shapely.Polygon()] * parts, dtype=object)
    boxes[found] = shapely.box(lo[found, 0], lo[found, 1], hi[found, 0], hi[found, 1])
    return boxes


def _reached(reach: gpd.GeoDataFrame, windows: npt.NDArray[np.object_]) -> tuple[IntArray, IntArray]:
    """Pairs (part, site row) of every site whose reach box meets a part's window."""
    boxes = np.asarray(reach.geometry.values, dtype=object)
    usable = np.flatnonzero(np.isfinite(shapely.bounds(boxes)).all(axis=1))
    if not len(usable):
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    window, site = shapely.STRtree(boxes[usable]).query(windows, predicate="intersects")
    return window.astype(np.intp), usable[site].astype(np.intp)
