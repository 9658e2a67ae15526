"""`gridmap demo` runs the whole chain on either store; `gridmap sample` writes the generated files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import time_machine
from typer.testing import CliRunner

from gridmap.catalogue import LAYER_NAMES
from gridmap.cli import app
from gridmap.sample import DIRTY_DIR, PLANTED, SAMPLE_DIR, layer_path
from gridmap.stores import open_store

runner = CliRunner()


def _summary(output: str) -> str:
    """The printed tables without the paths (which differ per run directory)."""
    return output.split("open the map")[0]


@pytest.fixture(scope="module")
def gpkg_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One demo run on a GeoPackage store (reused by the tests that only read its results)."""
    root = tmp_path_factory.mktemp("demo")
    return _demo(str(root / "store.gpkg"), root / "maps"), root


def test_demo_prints_the_summary_and_writes_the_maps(gpkg_demo: tuple[str, Path]) -> None:
    output, root = gpkg_demo
    assert re.search(r"grids\s+│\s+61 ", output)
    assert re.search(r"households\s+│\s+24,451 ", output)
    assert re.search(r"topology errors\s+│\s+0 ", output)
    assert "Top speaker gaps" in output
    maps = root / "maps"
    assert (maps / "coverage.html").stat().st_size > 100_000
    assert len(list(maps.glob("grid_*.html"))) == 1
    assert str((maps / "coverage.html").resolve()) in output.replace("\n", "")


def test_demo_saves_the_sample_and_its_grid_codes_in_the_store(gpkg_demo: tuple[str, Path]) -> None:
    _, root = gpkg_demo
    with open_store(str(root / "store.gpkg")) as store:
        counts = store.counts()
        households = store.read("households")
    assert counts["grids"] == 61 and counts["households"] == 24_451
    assert households["grid_code"].notna().all()


# Cases and visits are seeded for the year before now and counted at now: runs compared number for
# number must happen at the same instant, or a deadline passing between them changes the counts.
DEMO_INSTANT = "2026-11-20 03:30:00+00:00"


def _demo(store: str, out: Path) -> str:
    with time_machine.travel(DEMO_INSTANT, tick=False):
        result = runner.invoke(app, ["demo", "--store", store, "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_twice_on_the_same_store_gives_the_same_result(gpkg_demo: tuple[str, Path]) -> None:
    output, root = gpkg_demo
    assert _summary(_demo(str(root / "store.gpkg"), root / "maps")) == _summary(output)
    with open_store(str(root / "store.gpkg")) as store:
        assert store.counts()["households"] == 24_451


@pytest.mark.postgis
def test_demo_on_postgis_gives_identical_numbers(
    gpkg_demo: tuple[str, Path], postgis_url: str, tmp_path: Path
) -> None:
    output, _ = gpkg_demo
    assert _summary(_demo(postgis_url, tmp_path)) == _summary(output)


def test_demo_on_the_dirty_set_reports_the_planted_problems(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["demo", "--store", str(tmp_path / "s.gpkg"), "--out", str(tmp_path), "--data", str(DIRTY_DIR)],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"topology errors\s+│\s+3 ", result.output)
    assert re.search(r"features in no grid\s+│\s+1 ", result.output)
    assert "Sample district with planted problems" in result.output
    with open_store(str(tmp_path / "s.gpkg")) as store:
        households = store.read("households")
    assert households.loc[households["grid_code"].isna(), "code"].tolist() == [PLANTED.stray_household]


def test_sample_command_writes_the_committed_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "households: 24,451" in result.output
    for layer in LAYER_NAMES:
        assert layer_path(tmp_path, layer).read_bytes() == layer_path(SAMPLE_DIR, layer).read_bytes()


def test_sample_command_refuses_a_scale_out_of_range(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "--out", str(tmp_path), "--scale", "0"])
    assert result.exit_code != 0
    assert not any(tmp_path.iterdir())
