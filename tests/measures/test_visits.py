"""Visit coverage: known shares and overdue counts per grid, equal between full and incremental analysis."""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap import incremental
from gridmap.analysis import analyze
from gridmap.incremental import update
from gridmap.localtime import BEIJING
from gridmap.sample import generate
from gridmap.visits.due import visit_status

ON = dt.date(2026, 12, 7)


def _status(households: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every third household visited yesterday, every third a year ago, the rest never; a sixth in care."""
    codes = households["code"].astype(str)
    n = len(codes)
    when = np.where(
        np.arange(n) % 3 == 0,
        pd.Timestamp("2026-12-06 10:00", tz=BEIJING),
        np.where(np.arange(n) % 3 == 1, pd.Timestamp("2025-12-06 10:00", tz=BEIJING), pd.NaT),
    )
    last = pd.Series(pd.to_datetime(when, utc=True), index=codes.to_numpy()).dropna()
    care = pd.DataFrame({"household_code": codes.iloc[::6].to_numpy(), "category": "disabled"})
    return visit_status(codes, care, last, ON)


@pytest.fixture(scope="module")
def town() -> dict[str, gpd.GeoDataFrame]:
    frames = generate(scale=1)
    return {**frames, "visit_status": _status(frames["households"])}


def test_known_shares_per_grid(town: dict[str, gpd.GeoDataFrame]) -> None:
    result = analyze(town)
    status = town["visit_status"].set_index("code")
    placed = result.households["grid_code"].notna().to_numpy()
    in_time = status["in_time"].reindex(result.households["code"].astype(str)).to_numpy(dtype=bool)
    assert result.households["visited_in_time"].to_numpy(dtype=bool).tolist() == in_time.tolist()
    grids = result.grids.set_index("code")
    assert grids["visited_in_time"].sum() == in_time[placed].sum()
    assert (grids["visited_in_time"] + grids["visits_overdue"] == grids["households"]).all()
    expected = (grids["visited_in_time"] / grids["households"]).to_numpy(dtype=float)
    assert np.allclose(grids["visit_share"].to_numpy(dtype=float), expected, equal_nan=True)
    assert result.streets["visits_overdue"].sum() == grids["visits_overdue"].sum()


def test_visited_yesterday_counts_only_within_frequency() -> None:
    codes = pd.Series(["a", "b", "c"])
    last = pd.Series(pd.to_datetime(["2026-06-01T02:00Z", "2026-11-01T02:00Z"], utc=True), index=["a", "b"])
    care = pd.DataFrame({"household_code": ["b"], "category": ["hardship"]})
    got = visit_status(codes, care, last, ON)
    # a: ordinary, 189 days ago > 183 -> overdue; b: care, 36 days > 30 -> overdue; c: never.
    assert got["in_time"].tolist() == [False, False, False]
    later = visit_status(codes, care, last, dt.date(2026, 11, 30))
    assert later["in_time"].tolist() == [True, True, False]


def test_without_visits_the_measure_is_left_out() -> None:
    frames = generate(scale=1)
    result = analyze(frames)
    assert "visit_share" not in result.grids.columns
    assert "visited_in_time" not in result.households.columns and result.notes == ()


def test_household_edits_equal_a_full_analysis(town: dict[str, gpd.GeoDataFrame]) -> None:
    before = analyze(town)
    households = town["households"].copy()
    moved = households.geometry.to_numpy().copy()
    moved[5] = shapely.Point(100.0, 10.0)  # in no grid
    households = gpd.GeoDataFrame(households.set_geometry(moved).drop(index=7), crs=households.crs)
    edited = {"households": households.reset_index(drop=True)}
    after, _ = update(dict(town), before, edited, whole_share=1.0)
    want = analyze({**town, **edited})
    for name in ("grids", "communities", "streets"):
        columns = ["code", "visited_in_time", "visits_overdue", "visit_share"]
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(after, name)[columns]).reset_index(drop=True),
            pd.DataFrame(getattr(want, name)[columns]).reset_index(drop=True),
            check_dtype=False,
        )
    pd.testing.assert_series_equal(
        after.households.set_index("code")["visited_in_time"].sort_index(),
        want.households.set_index("code")["visited_in_time"].sort_index(),
        check_dtype=False,
    )


def test_a_logged_visit_redoes_its_community_alone_and_equals_a_full_analysis(
    town: dict[str, gpd.GeoDataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = analyze(town)
    analysed: list[int] = []

    def counted(frames: Any, *args: Any, **kwargs: Any) -> Any:
        analysed.append(len(frames["households"]))
        return analyze(frames, *args, **kwargs)

    monkeypatch.setattr(incremental, "analyze", counted)
    status = town["visit_status"].copy()
    late = status.index[~status["in_time"].to_numpy(dtype=bool)][:2]
    status.loc[late, ["in_time", "overdue"]] = [True, False]  # two overdue households visited today
    codes = status.loc[late, "code"].astype(str).tolist()
    frames = dict(town)
    after, streets = update(frames, before, {"visit_status": status}, codes={"visit_status": codes})
    want = analyze({**town, "visit_status": status})
    assert streets is not None and len(analysed) == 1
    assert 0 < analysed[0] < len(town["households"]) / 4  # the visited households' communities alone
    for name in ("grids", "communities", "streets"):
        columns = ["code", "visited_in_time", "visits_overdue", "visit_share", "grade"]
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(after, name)[columns]).reset_index(drop=True),
            pd.DataFrame(getattr(want, name)[columns]).reset_index(drop=True),
            check_dtype=False,
        )
    grids = after.grids.set_index("code")
    was = before.grids.set_index("code")
    assert int(grids["visited_in_time"].sum()) == int(was["visited_in_time"].sum()) + 2
