"""`gridmap import` and `gridmap layers` run as a user would: a real process, a real store file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.stores import open_store
from tests.ingest.conftest import STREET, write_text

GRIDMAP = str(Path(sys.executable).parent / "gridmap")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("GRIDMAP_STORE", None)
    return subprocess.run([GRIDMAP, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_import_then_layers_then_a_bad_file(tmp_path: Path) -> None:
    store = str(tmp_path / "city.gpkg")
    good = write_text(tmp_path / "streets.csv", f'街道编码,名称,备注,wkt\nS1,和平街道,老城,"{STREET.wkt}"\n')
    done = run("import", "streets", str(good), "--store", store, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "imported 1 streets (街道/乡镇)" in done.stdout
    assert "街道编码" in done.stdout and "code (街道编码)" in done.stdout
    assert "ignored: not a field of streets" in done.stdout

    listed = run("layers", "--store", store, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    streets_row = next(line for line in listed.stdout.splitlines() if "streets" in line)
    assert "街道/乡镇" in streets_row and streets_row.rstrip(" │").endswith("1")

    bad = write_text(
        tmp_path / "bad.csv", f'code,name,wkt\nS2,,"{STREET.wkt}"\nS2,幸福镇,POINT (116.3 39.9)\n'
    )
    failed = run("import", "streets", str(bad), "--store", store, "--mode", "append", cwd=tmp_path)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "3 problem(s), nothing was changed" in failed.stderr
    assert "row 1 (code S2), field name: required value is empty" in failed.stderr
    assert "row 2 (code S2), field code: duplicate code 'S2' (first in row 1)" in failed.stderr
    assert "row 2 (code S2), field geometry: expected a Polygon or MultiPolygon, got a Point" in failed.stderr
    assert "Traceback" not in failed.stderr
    with open_store(store) as opened:
        assert list(opened.read("streets")["code"]) == ["S1"]


def test_import_options_reach_the_importer(tmp_path: Path) -> None:
    """In-process (no start-up cost): --crs, --source-layer, --mode and --fix are passed through."""
    store = str(tmp_path / "city.gpkg")
    bowtie = "POLYGON ((116.30 39.90, 116.40 40.00, 116.40 39.90, 116.30 40.00, 116.30 39.90))"
    book = tmp_path / "district.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="说明", index=False)
        pd.DataFrame({"code": ["S1"], "name": ["和平街道"], "wkt": [bowtie]}).to_excel(
            writer, sheet_name="data", index=False
        )
    args = ["import", "streets", str(book), "--store", store, "--source-layer", "data", "--crs", "gcj02"]
    done = CliRunner().invoke(app, [*args, "--mode", "append", "--fix"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "1 inserted, 0 updated" in done.output
    assert "CRS gcj02, layer data" in done.output
    assert "repaired row 1: Self-intersection" in done.output
