"""Report files: CSV tables, the GeoJSON gap layer, the Chinese workbook, and `gridmap analyze --out`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from gridmap.analysis import Analysis, analyze
from gridmap.catalogue import LAYER_NAMES
from gridmap.cli import app
from gridmap.cli.app import console as cli_console
from gridmap.reports import _geojson_geometries, write_outputs
from gridmap.stores import open_store
from tests.test_analysis import NO_RANGE, district


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Analysis, Path]:
    result = analyze(district(), NO_RANGE)
    out = tmp_path_factory.mktemp("report")
    write_outputs(result, out)
    return result, out


def test_all_files_are_written(written: tuple[Analysis, Path]) -> None:
    _, out = written
    assert sorted(p.name for p in out.iterdir()) == [
        "analysis.xlsx",
        "communities.csv",
        "gaps.geojson",
        "grids.csv",
        "households.csv",
        "streets.csv",
    ]


def test_households_csv(written: tuple[Analysis, Path]) -> None:
    _, out = written
    table = pd.read_csv(out / "households.csv", dtype={"code": str, "grid_code": str, "linked_to": str})
    assert list(table.columns) == ["code", "grid_code", "speaker_covered", "service_covered", "linked_to"]
    assert table.iloc[1].tolist() == ["h02", "G1", True, True, "h01"]
    assert pd.isna(table.iloc[6]["grid_code"])


def test_grid_csv_has_figures_and_no_personal_fields(written: tuple[Analysis, Path]) -> None:
    _, out = written
    grids = pd.read_csv(out / "grids.csv", dtype={"code": str})
    assert "worker_phone" not in grids.columns
    assert grids.set_index("code").loc["G1", ["households", "speaker_share", "grade"]].tolist() == [
        4,
        0.75,
        "C",
    ]
    assert pd.read_csv(out / "communities.csv")["households"].tolist() == [6]
    assert pd.read_csv(out / "streets.csv")["grade"].tolist() == ["D"]


def test_gaps_geojson(written: tuple[Analysis, Path]) -> None:
    result, out = written
    gaps = pyogrio.read_dataframe(out / "gaps.geojson")
    assert gaps.crs.to_epsg() == 4326
    assert len(gaps) == len(result.gaps)
    assert set(gaps["kind_zh"]) >= {"广播覆盖盲区", "未建网格党支部", "不属于任何网格"}


def test_workbook_has_one_sheet_per_level_with_chinese_headers(written: tuple[Analysis, Path]) -> None:
    _, out = written
    book = openpyxl.load_workbook(out / "analysis.xlsx")
    assert book.sheetnames == ["网格", "社区", "街道", "问题清单", "拓扑问题"]
    sheet = book["网格"]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["编码", "名称", "所属社区"]
    assert "网格员电话" not in headers and "等级" in headers
    share = headers.index("广播覆盖率") + 1
    assert sheet.cell(row=2, column=share).value == 0.75
    assert sheet.cell(row=2, column=share).number_format == "0.0%"
    assert sheet.cell(row=3, column=headers.index("已建网格党支部") + 1).value == "否"


def test_cli_analyze_writes_outputs_and_prints_a_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_console, "width", 200)  # a wide terminal: every measure's column, names whole
    store_path = tmp_path / "store.gpkg"
    with open_store(str(store_path)) as store:
        frames = district()
        store.replace_many({name: frames[name] for name in LAYER_NAMES})
    out = tmp_path / "out"
    run = CliRunner().invoke(
        app, ["analyze", "--store", str(store_path), "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert run.exit_code == 0, run.output
    assert "紫阳街道" in run.output and "6 households in 2 grids" in run.output
    assert (out / "analysis.xlsx").exists()


def test_cli_assign_saves_grid_code(tmp_path: Path) -> None:
    store_path = tmp_path / "store.gpkg"
    with open_store(str(store_path)) as store:
        frames = district()
        store.replace_many({name: frames[name] for name in LAYER_NAMES})
    run = CliRunner().invoke(app, ["assign", "--store", str(store_path)])
    assert run.exit_code == 0, run.output
    assert "6 of 7 in a grid" in run.output
    with open_store(str(store_path)) as store:
        assert store.read("households")["grid_code"].notna().sum() == 6


def test_gap_geometries_spell_what_geos_spells() -> None:
    """The Arrow path for points gives the GeoJSON GEOS gives for the same rounded shapes."""
    rng = np.random.default_rng(5)
    shapes = [
        shapely.Point(114.123456789, 30.987654321),
        shapely.Point(1.5, 2.5, 3.5),  # the gap layer is 2D: heights go, as GEOS's path drops them
        shapely.MultiPoint(rng.uniform(100, 120, (7, 2))),
        shapely.MultiPoint([(0.00000004, -0.00000006)]),
        shapely.Point(),
        shapely.MultiPoint(),
        None,
        shapely.box(114.1, 30.1, 114.2000000449, 30.2),
        shapely.Point(np.nan, 1.0),
    ]
    geoms = np.array(shapes, dtype=object)
    got = _geojson_geometries(geoms, 7)
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, 7))
    for mine, shape, want in zip(got, shapes, rounded, strict=True):
        if shape is None:
            assert mine == "null"
            continue
        if not shape.is_empty and np.isnan(shapely.get_coordinates(shape)).any():
            assert "null" in mine or "NaN" in mine  # not the fast path: GEOS decides
        assert json.loads(mine) == json.loads(shapely.to_geojson(want))
