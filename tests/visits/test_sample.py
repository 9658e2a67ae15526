"""The demo's year of visits: reproducible, within the year, with some workers behind."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from gridmap.localtime import BEIJING
from gridmap.visits.due import visit_status
from gridmap.visits.sample import sample_visits

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
