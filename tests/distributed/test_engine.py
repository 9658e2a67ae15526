"""The dask engine gives exactly the single-process analysis, county by county, on a real cluster."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from distributed import Client

from gridmap.analysis import Analysis
from gridmap.distributed.engine import CountyRun, analyze_partitioned, life_circles, merge
from gridmap.distributed.partitions import UNKNOWN, read_counties, write_partitions
from gridmap.measures.walking import life_circles_by_kind, life_circles_of
from tests.distributed.counties import EAST_COUNTY, WEST_COUNTY

KEYS = {
    "households": ["code"],
    "grids": ["code"],
    "communities": ["code"],
    "streets": ["code"],
    "uncovered_areas": ["grid_code"],
    "findings": ["kind", "codes"],
    "gaps": ["kind", "grid_code"],
    "unassigned": ["layer", "code"],
}


@pytest.fixture(scope="module")
def runs(counties: dict[str, gpd.GeoDataFrame], client: Client, tmp_path_factory) -> list[CountyRun]:
    root = tmp_path_factory.mktemp("partitions")
    write_partitions(counties, root)
    return analyze_partitioned(root, client, life_circles=True)


@pytest.fixture(scope="module")
def both(single: Analysis, runs: list[CountyRun]) -> tuple[Analysis, Analysis]:
    return single, merge(runs)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, ignore_index=True, na_position="first")


@pytest.mark.parametrize("table", list(KEYS))
def test_every_table_equals_the_single_process_run(both: tuple[Analysis, Analysis], table: str) -> None:
    single, distributed = (_sorted(getattr(a, table), KEYS[table]) for a in both)
    pd.testing.assert_frame_equal(
        pd.DataFrame(single.drop(columns="geometry")), pd.DataFrame(distributed.drop(columns="geometry"))
    )
    assert single.geometry.geom_equals_exact(distributed.geometry, 0).all()


def test_totals_and_links_are_the_same(both: tuple[Analysis, Analysis]) -> None:
    single, distributed = both
    assert single.totals() == distributed.totals()
    pd.testing.assert_frame_equal(
        _sorted(single.centers, ["code"]), _sorted(distributed.centers, ["code"]), check_dtype=False
    )
    for layer, frame in single.frames.items():
        pd.testing.assert_frame_equal(
            pd.DataFrame(_sorted(frame, ["code"]).drop(columns="geometry")),
            pd.DataFrame(_sorted(distributed.frames[layer], ["code"]).drop(columns="geometry")),
        )


def test_life_circles_counted_by_the_counties_are_the_single_process_sheet(
    counties: dict[str, gpd.GeoDataFrame], both: tuple[Analysis, Analysis], runs: list[CountyRun]
) -> None:
    single, distributed = both
    expected = life_circles_by_kind(single, counties["roads"])
    assert len(expected) > 100
    pd.testing.assert_frame_equal(life_circles_of(distributed, life_circles(runs)), expected)


def test_features_filed_under_the_wrong_county_are_analysed_where_they_lie(
    both: tuple[Analysis, Analysis],
) -> None:
    _, distributed = both
    households = distributed.households.set_index("code")
    # Filed in the west county, standing in the east one: the east county's grid owns it.
    assert households.loc[f"{WEST_COUNTY}00100100100010001", "grid_code"].startswith(EAST_COUNTY)
    assert households.loc["NOCODE-1", "grid_code"].startswith(WEST_COUNTY)
    assert distributed.totals()["unassigned"] == 1  # LOST_HOUSEHOLD, in no grid


def test_partitions_are_per_county_geoparquet(counties: dict[str, gpd.GeoDataFrame], tmp_path: Path) -> None:
    assert write_partitions(counties, tmp_path) == [UNKNOWN, WEST_COUNTY, EAST_COUNTY]
    assert read_counties(tmp_path) == [UNKNOWN, WEST_COUNTY, EAST_COUNTY]
    grids = gpd.read_parquet(tmp_path / "grids" / f"{EAST_COUNTY}.parquet")
    assert len(grids) == 61 and grids["code"].str.startswith(EAST_COUNTY).all()
    assert len(gpd.read_parquet(tmp_path / "households" / f"{UNKNOWN}.parquet")) == 1
