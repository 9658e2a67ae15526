"""A year of door-to-door visits over a district, for the demo and benchmarks (seeded, reproducible).

About one household in twelve is given a care category; each grid's worker
visits its households at their frequency, a little ahead of it — except the
workers of one grid in five, who fall behind (their visits come later than
the rule asks, so their grids show overdue households and a lower coverage).
Patrols cover the last `PATROL_WEEKS` weeks (a year): most workers patrol six days a
week along most of their grid's roads, the workers behind once or twice a week
along a few of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridmap.localtime import BEIJING
from gridmap.visits.rules import CARE_CATEGORIES, FREQUENCY_DAYS, ORDINARY
from gridmap.visits.tracks import Track

DEFAULT_SEED = 25
CARE_SHARE = 0.08
CARE_WEIGHTS = {"hardship": 3.0, "elderly_alone": 3.0, "migrant": 2.0, "disabled": 1.5, "correction": 0.5}
BEHIND_SHARE = 0.2
PATROL_WEEKS = 52
WALK_M_PER_S = 1.2
EDGE_DEG = 0.0001
"""Roads this close (about 10 m) to a grid are walked by its patrols: grids are drawn along roads."""
INWARD = 0.97
GEOD = pyproj.Geod(ellps="WGS84")
PatrolSeed = tuple[str, str, str, dt.datetime, Track, shapely.Geometry]
NOTES = ("家中一切正常", "反映楼道灯不亮", "老人身体状况良好", "询问低保政策", "反映噪音扰民", "")


def sample_visits(
    households: pd.DataFrame, grids: pd.DataFrame, now: dt.datetime, seed: int = DEFAULT_SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(visits, care register) for `households` (code, grid_code) over the year up to `now` (aware).

    The visitor is the grid's `worker_name` (网格员 + grid code where the grid names none).
    """
    rng = np.random.default_rng(seed)
    codes = households["code"].astype(str).to_numpy(dtype=object)
    grid = households["grid_code"].astype("string").fillna("").to_numpy(dtype=object)
    n = len(codes)
    categories = list(CARE_CATEGORIES)
    weights = np.array([CARE_WEIGHTS[c] for c in categories])
    in_care = rng.random(n) < CARE_SHARE
    chosen = rng.choice(len(categories), size=n, p=weights / weights.sum())
    category = np.where(in_care, np.array(categories, dtype=object)[chosen], ORDINARY)
    care = pd.DataFrame(
        {
            "household_code": codes[in_care],
            "category": category[in_care],
            "noted_by": "seed",
            "noted_at": pd.Timestamp(now - dt.timedelta(days=365)),
        }
    )
    days = np.array([FREQUENCY_DAYS[c] for c in category], dtype=np.float64)
    grid_codes = np.unique(grid)
    behind = dict(zip(grid_codes, rng.random(len(grid_codes)) < BEHIND_SHARE, strict=True))
    late = np.array([behind[g] for g in grid], dtype=bool)
    factor = np.where(late, rng.uniform(1.3, 2.4, n), rng.uniform(0.6, 0.95, n))
    interval = days * factor
    offset = rng.uniform(0, 1, n) * interval
    per = np.floor((365 - offset) / interval).astype(np.int64) + 1
    per = np.maximum(per, 0)
    rows = np.repeat(np.arange(n), per)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(per) - per, per)
    ago = offset[rows] + k * interval[rows] + rng.uniform(-0.2, 0.2, len(rows))
    ago = np.clip(ago, 0.01, 365)
    workers = _workers(grids)
    visited = pd.Timestamp(now) - pd.to_timedelta(ago, unit="D")
    visits = pd.DataFrame(
        {
            "key": [f"seed-{i}" for i in range(len(rows))],
            "household_code": codes[rows],
            "grid_code": pd.Series(grid[rows], dtype="string").replace("", pd.NA),
            "visitor": [workers.get(g) or f"网格员{g}" for g in grid[rows]],
            "visited_at": visited.round("min"),
            "reached": rng.random(len(rows)) < 0.85,
            "notes": np.array(NOTES, dtype=object)[rng.integers(0, len(NOTES), len(rows))],
            "follow_up": rng.random(len(rows)) < 0.05,
            "case_code": None,
            "recorded_at": visited.round("min"),
        }
    )
    visits["notes"] = visits["notes"].replace("", None)
    return visits.sort_values("visited_at", kind="stable").reset_index(drop=True), care


def _workers(grids: pd.DataFrame) -> dict[str, str]:
    if "worker_name" not in grids.columns:
        return {}
    names = grids["worker_name"].astype("string")
    return {str(c): str(w) for c, w in zip(grids["code"], names, strict=True) if not pd.isna(w) and w}


def sample_patrols(
    grids: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, now: dt.datetime, seed: int = DEFAULT_SEED
) -> Iterator[PatrolSeed]:
    """(key, worker, grid code, start, track, grid shape) of the patrols of the weeks up to `now`.

    A patrol walks a random choice of the grid's road pieces one after another (crossing straight
    between them) at a walking pace; a grid without roads is walked round just inside its edge.
    """
    rng = np.random.default_rng(seed + 1)
    workers = _workers(grids)
    today = now.astimezone(BEIJING).date()
    days = [today - dt.timedelta(days=d) for d in range(PATROL_WEEKS * 7, 0, -1)]
    behind = rng.random(len(grids)) < BEHIND_SHARE
    lines = roads.geometry.to_numpy() if len(roads) else np.array([], dtype=object)
    for i, (code, shape) in enumerate(zip(grids["code"].astype(str), grids.geometry, strict=True)):
        pieces = _road_pieces(lines, shape)
        odds, share = (0.25, 0.3) if behind[i] else (6 / 7, 0.35)
        worker = workers.get(code) or f"网格员{code}"
        for day in days:
            if rng.random() >= odds:
                continue
            minutes = int(rng.integers(0, 120))
            start = dt.datetime.combine(day, dt.time(9), BEIJING) + dt.timedelta(minutes=minutes)
            if start >= now:
                continue
            xy = _walk(pieces, share, rng)
            step = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])[2]
            seconds = np.concatenate([[0.0], np.cumsum(step / WALK_M_PER_S)])
            track = Track(xy[:, 0].copy(), xy[:, 1].copy(), np.round(seconds, 1))
            yield f"seed-patrol-{code}-{day.isoformat()}", worker, code, start, track, shape


def _road_pieces(lines: np.ndarray, shape: shapely.Geometry) -> list[np.ndarray]:
    """The lon/lat coordinates of each piece of road inside the grid, in order round its centre
        (a patrol takes them in that order, so it walks a round rather than criss-crossing), drawn
    a little towards the centre;
        a grid without roads: its edge, a little inside."""
    parts = (
        shapely.get_parts(shapely.intersection(lines, shapely.buffer(shape, EDGE_DEG)))
        if len(lines)
        else lines
    )
    parts = parts[(shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)] if len(parts) else parts
    if not len(parts):
        edge = shapely.get_coordinates(shapely.boundary(shapely.buffer(shape, -0.0002)))
        return [edge if len(edge) > 1 else shapely.get_coordinates(shapely.boundary(shape))]
    centre = shapely.get_coordinates(shape.centroid)[0]
    middle = shapely.get_coordinates(shapely.line_interpolate_point(parts, 0.5, normalized=True)) - centre
    order = np.argsort(np.arctan2(middle[:, 1], middle[:, 0]))
    # The worker walks the grid's side of its edge roads: a few metres in, towards the centre.
    return [centre + (shapely.get_coordinates(parts[j]) - centre) * INWARD for j in order]


def _walk(pieces: list[np.ndarray], share: float, rng: np.random.Generator) -> np.ndarray:
    """The fixes of one patrol: a random `share` of the pieces in their order round the grid,
    each walked either way."""
    keep = np.sort(rng.permutation(len(pieces))[: max(1, round(len(pieces) * share))])
    return np.concatenate([pieces[j][:: 1 if rng.random() < 0.5 else -1] for j in keep])
