"""`gridmap analyze --engine dask` writes the same outputs as the single-process command, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridmap.analysis import analyze
from gridmap.cli import app
from gridmap.distributed.engine import cluster
from gridmap.distributed.partitions import write_partitions
from gridmap.reports import write_outputs
from gridmap.stores import open_store
from tests.distributed.counties import WEST_COUNTY, two_counties


@pytest.fixture(scope="module")
def counties() -> dict[str, gpd.GeoDataFrame]:
    return two_counties()


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A running dask scheduler on loopback (its workers are threads of this process)."""
    with cluster(processes=False) as client:
        yield str(client.scheduler.address)


def _analyze(store_url: str, out: Path, *extra: str) -> None:
    run = CliRunner().invoke(app, ["analyze", "--store", store_url, "--out", str(out), *extra])
    assert run.exit_code == 0, run.output


def test_dask_engine_writes_what_the_single_process_writes(
    store_url: str, counties: dict[str, gpd.GeoDataFrame], scheduler: str, tmp_path: Path
) -> None:
    with open_store(store_url) as store:
        store.replace_many(counties)
    _analyze(store_url, tmp_path / "single")
    parts = tmp_path / "parts"
    _analyze(
        store_url, tmp_path / "dask", "--engine", "dask", "--scheduler", scheduler, "--partitions", str(parts)
    )
    for name in ("grids", "communities", "streets", "households"):
        single = pd.read_csv(tmp_path / "single" / f"{name}.csv", dtype=str).sort_values(
            "code", ignore_index=True
        )
        dask = pd.read_csv(tmp_path / "dask" / f"{name}.csv", dtype=str).sort_values(
            "code", ignore_index=True
        )
        pd.testing.assert_frame_equal(single, dask)
    assert len(single) == 49_981
    assert sorted(p.name for p in (parts / "households").iterdir()) == [
        "000000.parquet",
        "420106.parquet",
        "420111.parquet",
    ]


def test_dask_engine_analyses_existing_partitions_in_parts_without_a_store(
    counties: dict[str, gpd.GeoDataFrame], scheduler: str, tmp_path: Path
) -> None:
    """A partition directory (as `gridmap province` writes it) analysed as it is, each county in
    parts of at most 15,000 households, writes what the single-process analysis of the same layers does."""
    root = tmp_path / "province"
    write_partitions(counties, root)
    write_outputs(analyze(counties), tmp_path / "single")
    missing = tmp_path / "no-such.gpkg"
    run = CliRunner().invoke(
        app,
        ["analyze", "--engine", "dask", "--partitions", str(root), "--part-households", "15000",
         "--scheduler", scheduler, "--store", str(missing), "--out", str(tmp_path / "dask")],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert not missing.exists()
    assert "49,980 households in 122 grids" in run.output  # and one in no grid
    for name in ("grids", "communities", "streets", "households"):
        single, dask = (
            pd.read_csv(tmp_path / engine / f"{name}.csv", dtype=str).sort_values("code", ignore_index=True)
            for engine in ("single", "dask")
        )
        pd.testing.assert_frame_equal(single, dask)
    parts = sorted(p.name for p in (root / "results" / WEST_COUNTY).iterdir() if p.is_dir())
    assert parts == ["0000", "0001"]


def test_an_unknown_engine_is_refused_in_one_line(sample_store: str, tmp_path: Path) -> None:
    run = CliRunner().invoke(app, ["analyze", "--store", sample_store, "--engine", "spark"])
    assert run.exit_code == 2
    assert "spark" in run.output
