"""The demo's year of visits: reproducible, within the year, with some workers behind."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.frames import WGS84
from gridmap.localtime import BEIJING
from gridmap.visits.due import visit_status
from gridmap.visits.sample import PATROL_WEEKS, sample_patrols, sample_visits

NOW = dt.datetime(2026, 12, 7, 2, tzinfo=dt.UTC)


def test_a_year_of_visits_with_some_grids_behind() -> None:
    households = pd.DataFrame(
        {"code": [f"H{i:04d}" for i in range(2000)], "grid_code": [f"G{i % 20:02d}" for i in range(2000)]}
    )
    grids = pd.DataFrame({"code": [f"G{i:02d}" for i in range(20)], "worker_name": "王网格"})
    visits, care = sample_visits(households, grids, NOW)
    again, _ = sample_visits(households, grids, NOW)
    pd.testing.assert_frame_equal(visits, again)
    assert visits["key"].is_unique
    assert (visits["visited_at"] <= pd.Timestamp(NOW)).all()
    assert (visits["visited_at"] >= pd.Timestamp(NOW - dt.timedelta(days=366))).all()
    assert 0.04 < len(care) / len(households) < 0.12
    last = visits.groupby("household_code")["visited_at"].max()
    status = visit_status(households["code"], care, last, NOW.astimezone(BEIJING).date())
    share = status.assign(grid=households["grid_code"]).groupby("grid")["in_time"].mean()
    assert share.max() > 0.95 and share.min() < 0.7  # most workers keep up, some are behind


def test_a_year_of_patrols_with_the_workers_behind_patrolling_less() -> None:
    grids = gpd.GeoDataFrame(
        {"code": [f"G{i:02d}" for i in range(20)], "worker_name": [f"网格员{i}" for i in range(20)]},
        geometry=[shapely.box(114.30 + i * 0.01, 30.50, 114.309 + i * 0.01, 30.509) for i in range(20)],
        crs=WGS84,
    )
    roads = gpd.GeoDataFrame(geometry=[], crs=WGS84)
    patrols = list(sample_patrols(grids, roads, NOW))
    again = [(key, start) for key, _, _, start, _, _ in sample_patrols(grids, roads, NOW)]
    assert again == [(key, start) for key, _, _, start, _, _ in patrols]
    days = pd.Series([start.astimezone(BEIJING).date() for _, _, _, start, _, _ in patrols])
    today = NOW.astimezone(BEIJING).date()
    assert days.max() == today - dt.timedelta(days=1)
    assert days.min() >= today - dt.timedelta(days=PATROL_WEEKS * 7) and PATROL_WEEKS == 52
    assert (today - days.min()).days > 350  # a year, not a few weeks
    per_grid = pd.Series([grid for _, _, grid, _, _, _ in patrols]).value_counts()
    assert per_grid.max() > 250 and per_grid.min() < 120  # six days a week; behind: once or twice
    assert len({key for key, *_ in patrols}) == len(patrols)
