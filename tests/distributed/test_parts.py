"""A county larger than the part size is cut into parts of whole communities, and the result is
still exactly the single-process run's (every table, every measure, every derived layer)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from distributed import Client

from gridmap.analysis import Analysis
from gridmap.distributed.engine import CountyRun, analyze_partitioned, life_circles, merge
from gridmap.distributed.partitions import write_partitions
from gridmap.distributed.parts import LOST, part_dir
from gridmap.measures.walking import life_circles_by_kind, life_circles_of
from tests.distributed.counties import EAST_COUNTY, EDGE_SPEAKER, LOST_HOUSEHOLD, WEST_COUNTY
from tests.distributed.test_engine import KEYS, _sorted

PART_HOUSEHOLDS = 8_000  # each county holds about 25,000: four parts of whole communities each


@pytest.fixture(scope="module")
def runs(
    counties: dict[str, gpd.GeoDataFrame], client: Client, tmp_path_factory
) -> tuple[Path, list[CountyRun]]:
    root = tmp_path_factory.mktemp("city")
    write_partitions(counties, root)
    return root, analyze_partitioned(root, client, max_households=PART_HOUSEHOLDS, life_circles=True)


@pytest.fixture(scope="module")
def both(single: Analysis, runs: tuple[Path, list[CountyRun]]) -> tuple[Analysis, Analysis]:
    return single, merge(runs[1])


def test_large_counties_are_analysed_in_parts_within_the_size(runs: tuple[Path, list[CountyRun]]) -> None:
    root, done = runs
    names = sorted(run.county for run in done)
    for county in (WEST_COUNTY, EAST_COUNTY):
        parts = [n for n in names if n.startswith(f"{county}/")]
        assert len(parts) >= 3, names
    assert f"{EAST_COUNTY}/{LOST}" in names
    for run in done:
        if "/" in run.county and not run.county.endswith(LOST):
            grids = int(run.totals["grids"])
            assert grids and int(run.totals["households"]) <= PART_HOUSEHOLDS
    # A part reads the speakers reaching it from its neighbours, as guests it does not report.
    guests = (part_dir(root, EAST_COUNTY, LOST) / "guests.json").read_text(encoding="utf-8")
    assert EDGE_SPEAKER in guests


@pytest.mark.parametrize("table", list(KEYS))
def test_every_table_equals_the_single_process_run(both: tuple[Analysis, Analysis], table: str) -> None:
    single, distributed = (_sorted(getattr(a, table), KEYS[table]) for a in both)
    pd.testing.assert_frame_equal(
        pd.DataFrame(single.drop(columns="geometry")), pd.DataFrame(distributed.drop(columns="geometry"))
    )
    assert single.geometry.geom_equals_exact(distributed.geometry, 0).all()


def test_totals_links_and_derived_layers_are_the_same(both: tuple[Analysis, Analysis]) -> None:
    single, distributed = both
    assert single.totals() == distributed.totals()
    assert single.totals()["unassigned"] == 1
    covered = distributed.households.set_index("code").loc[LOST_HOUSEHOLD]
    assert pd.isna(covered["grid_code"]) and bool(covered["speaker_covered"])
    pd.testing.assert_frame_equal(
        _sorted(single.centers, ["code"]), _sorted(distributed.centers, ["code"]), check_dtype=False
    )
    for layer, frame in single.frames.items():
        pd.testing.assert_frame_equal(
            pd.DataFrame(_sorted(frame, ["code"]).drop(columns="geometry")),
            pd.DataFrame(_sorted(distributed.frames[layer], ["code"]).drop(columns="geometry")),
        )


def test_life_circles_counted_by_the_parts_are_the_single_process_sheet(
    counties: dict[str, gpd.GeoDataFrame], both: tuple[Analysis, Analysis], runs: tuple[Path, list[CountyRun]]
) -> None:
    single, distributed = both
    expected = life_circles_by_kind(single, counties["roads"])
    assert len(expected) > 100
    pd.testing.assert_frame_equal(life_circles_of(distributed, life_circles(runs[1])), expected)
