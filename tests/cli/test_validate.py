"""`gridmap validate` and `gridmap site` run as a user runs them, against both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from gridmap.frames import conform
from gridmap.sample import PLANTED, generate_dirty
from gridmap.stores import open_store
from tests.test_topology import GK_114, X0, Y0, communities, grids, rect

GRIDMAP = str(Path(sys.executable).with_name("gridmap"))


def run(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "GRIDMAP_LANG": lang}
    return subprocess.run([GRIDMAP, *args], capture_output=True, text=True, env=env, timeout=120)


def buildings_and_households(spots: dict[str, tuple[float, float, int]]) -> dict[str, gpd.GeoDataFrame]:
    """Square buildings at `spots` (metres from the origin) holding the given number of households."""
    buildings = gpd.GeoDataFrame(
        {"code": list(spots)},
        geometry=[box(X0 + x - 5, Y0 + y - 5, X0 + x + 5, Y0 + y + 5) for x, y, _ in spots.values()],
        crs=GK_114,
    )
    rows = [(f"{b}-{i}", b, Point(X0 + x, Y0 + y)) for b, (x, y, n) in spots.items() for i in range(n)]
    households = gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "building_code": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=GK_114,
    )
    return {"buildings": conform("buildings", buildings), "households": conform("households", households)}


def fill(url: str, **frames: gpd.GeoDataFrame) -> None:
    with open_store(url) as store:
        store.replace_many(frames)


def test_validate_reports_errors_writes_geojson_and_exits_1(store_url: str, tmp_path: Path) -> None:
    fill(
        store_url,
        communities=communities(("C1", rect(0, 0, 200, 100), "community")),
        grids=grids(("G1", rect(0, 0, 100, 100)), ("G2", rect(90, 0, 210, 100))),
        **buildings_and_households({"B1": (50, 50, 3), "B2": (150, 50, 2)}),
    )
    out = tmp_path / "findings.geojson"
    result = run("validate", "--store", store_url, "--out", str(out), lang="zh")
    assert result.returncode == 1, result.stderr
    assert "网格重叠" in result.stdout and "网格 G1 与网格 G2 重叠 1000.0 平方米" in result.stdout
    assert "户数过少" in result.stdout  # 3 and 2 households, far below 300
    found = json.loads(out.read_text())
    by_kind = {f["properties"]["kind"]: f["properties"] for f in found["features"]}
    assert set(by_kind) == {"overlap", "outside", "too_few_households"}
    assert by_kind["overlap"]["codes"] == "G1,G2"
    assert by_kind["overlap"]["area_m2"] == pytest.approx(1000.0, rel=0.01)
    assert by_kind["outside"]["codes"] == "G2" and by_kind["outside"]["area_m2"] == pytest.approx(
        1000, rel=0.01
    )
    few = [
        f["properties"]["message_en"]
        for f in found["features"]
        if f["properties"]["kind"] == "too_few_households"
    ]
    assert sorted(few) == ["grid G1 has 3 households, below 300", "grid G2 has 2 households, below 300"]


def test_validate_exits_0_when_only_warnings_remain(tmp_path: Path) -> None:
    url = str(tmp_path / "clean.gpkg")
    fill(
        url,
        communities=communities(("C1", rect(0, 0, 200, 100), "community")),
        grids=grids(("G1", rect(0, 0, 100, 100)), ("G2", rect(100, 0, 200, 100))),
    )
    result = run("validate", "--store", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 2 warning(s)" in result.stdout


def test_site_prints_the_table_and_writes_the_sites(tmp_path: Path) -> None:
    url = str(tmp_path / "site.gpkg")
    fill(url, **buildings_and_households({"B1": (0, 0, 10), "B2": (1000, 0, 6), "B3": (2000, 0, 3)}))
    out = tmp_path / "sites.geojson"
    result = run("site", "speakers", "--k", "2", "--store", url, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "16 more households covered" in result.stdout
    assert "exact optimum" in result.stdout
    sites = gpd.read_file(out)
    assert list(sites["code"]) == ["B1", "B2"] and list(sites["gain"]) == [10, 6]
    assert sites.crs.to_epsg() == 4326


def test_site_with_a_missing_candidates_file_fails_in_one_line(tmp_path: Path) -> None:
    result = run(
        "site", "speakers", "--store", str(tmp_path / "x.gpkg"), "--candidates", str(tmp_path / "no.csv")
    )
    assert result.returncode != 0
    assert "does not exist" in result.stderr


def test_validate_finds_the_planted_problems_of_the_dirty_sample(tmp_path: Path) -> None:
    url = str(tmp_path / "dirty.gpkg")
    with open_store(url) as store:
        store.replace_many(generate_dirty(1))
    out = tmp_path / "findings.geojson"
    result = run("validate", "--store", url, "--out", str(out), lang="zh")
    assert result.returncode == 1
    assert "网格拓扑：3 个错误，0 个警告" in result.stdout
    assert "几何无效" in result.stdout and PLANTED.self_intersection in result.stdout
    assert sorted(gpd.read_file(out)["kind"]) == ["gap", "invalid", "overlap"]
