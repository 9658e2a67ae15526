"""The district coverage map and the one-grid map, checked on their folium objects and HTML."""

from __future__ import annotations

import folium
import geopandas as gpd
import pytest
from shapely.geometry import Point

from gridmap.analysis import analyze
from gridmap.errors import ConfigError, NotFoundError
from gridmap.maps import (
    coverage_map,
    grid_map,
    render_html,
    resolve_basemap,
    write_coverage_map,
    write_grid_map,
)
from gridmap.maps.assets import external_references
from gridmap.maps.styles import GRADE_COLORS
from gridmap.sample import generate_dirty


def _layers(m: folium.Map) -> dict[str, folium.map.Layer]:
    return {c.layer_name: c for c in m._children.values() if isinstance(c, folium.map.Layer)}


def _geojson(m: folium.Map, name: str) -> dict:
    layer = _layers(m)[name]
    assert isinstance(layer, folium.GeoJson)
    return layer.data


ZH_LAYERS = {
    "网格",
    "社区边界",
    "街道边界",
    "广播（正常）及覆盖范围",
    "广播（故障）",
    "志愿服务点及服务范围",
    "广播未覆盖住户",
    "拓扑错误",
    "缺党支部或网格员的网格",
    "广播未覆盖区域",
}


def test_district_map_has_every_layer_named_in_chinese(fake) -> None:
    analysis, frames = fake
    m = coverage_map(analysis, frames=frames)
    assert set(_layers(m)) >= ZH_LAYERS
    assert len(_geojson(m, "网格")["features"]) == len(analysis.grids)


def test_english_labels(fake) -> None:
    analysis, frames = fake
    m = coverage_map(analysis, frames=frames, lang="en")
    assert {"Grids", "Speakers (working) and ranges", "Topology errors"} <= set(_layers(m))
    html = render_html(m)
    assert "Grid coverage map" in html and "Search grid code or name" in html


def test_grids_are_coloured_by_the_measure(fake) -> None:
    analysis, frames = fake
    fills = {
        f["properties"]["code"]: f["properties"]["style"]["fillColor"]
        for f in _geojson(coverage_map(analysis, frames=frames), "网格")["features"]
    }
    assert fills["G1"] == GRADE_COLORS["A"]  # every household under the working speaker
    assert fills["G4"] == GRADE_COLORS["D"]  # its speaker is broken
    graded = _geojson(coverage_map(analysis, frames=frames, measure="grade"), "网格")["features"]
    assert {f["properties"]["style"]["fillColor"] for f in graded} <= set(GRADE_COLORS.values())


def test_grid_popup_data_carries_the_figures(fake) -> None:
    analysis, frames = fake
    g4 = next(
        f["properties"]
        for f in _geojson(coverage_map(analysis, frames=frames), "网格")["features"]
        if f["properties"]["code"] == "G4"
    )
    assert g4["name"] == "西苑二网格" and g4["community"] == "西苑社区"
    assert g4["party_branch"] is None and g4["worker_name"] == "赵六"
    assert g4["households"] == 30 and g4["speaker_share"] == 0.0
    assert "worker_phone" not in g4  # personal data never reaches the page


def test_uncovered_households_are_counted_not_drawn_one_by_one(fake) -> None:
    analysis, frames = fake
    html = render_html(coverage_map(analysis, frames=frames))
    uncovered = int((~analysis.households["speaker_covered"]).sum())
    cells = html.split("var cells = ", 1)[1].split(", markers", 1)[0]
    counts = [int(part.split("]")[0]) for part in cells.split(", ")[2::3]]
    assert sum(counts) == uncovered and len(counts) < uncovered


def test_proposed_sites_from_a_siting_result(fake) -> None:
    analysis, frames = fake

    class Result:
        kind = "speakers"
        radius_m = 300.0
        sites = gpd.GeoDataFrame(
            {"rank": [1], "code": ["G4-B1"], "gain": [30], "radius_m": [300.0]},
            geometry=[Point(121.4075, 31.2030)],
            crs="EPSG:4326",
        )

    m = coverage_map(analysis, frames=frames, sites=Result())
    props = _geojson(m, "建议新增站点")["features"][0]["properties"]
    assert props == {"rank": 1, "kind": "speaker", "radius_m": 300.0, "newly_covered": 30}


def test_amap_basemap_shifts_the_data(fake) -> None:
    analysis, frames = fake
    plain = _geojson(coverage_map(analysis, frames=frames), "网格")["features"][0]
    amap = coverage_map(analysis, frames=frames, basemap="amap")
    shifted = _geojson(amap, "网格")["features"][0]
    assert plain["geometry"]["coordinates"] != shifted["geometry"]["coordinates"]
    assert "高德地图" in _layers(amap)


def test_bad_options_are_named(fake) -> None:
    analysis, frames = fake
    with pytest.raises(ConfigError, match="measure"):
        coverage_map(analysis, frames=frames, measure="happiness")
    with pytest.raises(ConfigError, match="language"):
        coverage_map(analysis, frames=frames, lang="fr")
    empty = type(analysis)(**{**vars(analysis), "grids": analysis.grids.iloc[:0]})
    with pytest.raises(NotFoundError, match="no grids"):
        coverage_map(empty, frames=frames)


@pytest.mark.parametrize(
    ("spec", "crs", "host"),
    [
        ("osm", "wgs84", "tile.openstreetmap.org"),
        ("amap", "gcj02", "autonavi.com"),
        ("http://10.0.0.5/tiles/{z}/{x}/{y}.png", "wgs84", "10.0.0.5"),
    ],
)
def test_basemaps(spec: str, crs: str, host: str) -> None:
    basemap = resolve_basemap(spec)
    assert basemap.crs == crs and host in basemap.tiles[0].url
    assert resolve_basemap("none").tiles == ()


def test_tianditu_needs_a_key() -> None:
    with pytest.raises(ConfigError, match="GRIDMAP_TIANDITU_KEY"):
        resolve_basemap("tianditu")
    tiles = resolve_basemap("tianditu", tianditu_key="abc").tiles
    assert len(tiles) == 2 and all("tk=abc" in t.url for t in tiles)
    with pytest.raises(ConfigError, match="tile URL template"):
        resolve_basemap("googlemaps")


def test_grid_map_of_one_grid(fake) -> None:
    analysis, frames = fake
    m = grid_map(analysis, frames, "G1")
    layers = _layers(m)
    assert len(_geojson(m, "住户（按覆盖着色）")["features"]) == 30
    assert len(_geojson(m, "楼栋")["features"]) == 3
    # G1-B1-01 links its nine building mates and the first household of B2.
    assert len(_geojson(m, "一户十联连线")["features"]) == 10
    # Both speakers reach G1 (the broken one from 291 m away), and the service point does.
    assert {"广播（正常）及覆盖范围", "广播（故障）", "志愿服务点及服务范围"} <= set(layers)
    household = _geojson(m, "住户（按覆盖着色）")["features"][0]["properties"]
    assert household["address"].startswith("示例路") and household["category"] == "hh_speaker"
    with pytest.raises(NotFoundError, match="G9"):
        grid_map(analysis, frames, "G9")


def test_planted_topology_problems_are_marked() -> None:
    analysis = analyze(generate_dirty(1))
    findings = _geojson(coverage_map(analysis), "拓扑错误")["features"]
    assert len(findings) == (analysis.findings["severity"] == "error").sum() > 0
    assert {f["properties"]["kind"] for f in findings} == set(analysis.findings["kind"])


def test_write_functions_produce_offline_files(fake, tmp_path) -> None:
    analysis, frames = fake
    district = write_coverage_map(analysis, tmp_path / "out" / "coverage.html", frames=frames, lang="en")
    grid = write_grid_map(analysis, frames, "G2", tmp_path / "grid.html", basemap="osm")
    assert "Grid coverage map" in district.read_text(encoding="utf-8")
    text = grid.read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in text and "OpenStreetMap" in text
    assert external_references(text) == []


def test_speakers_come_from_the_analysis_when_no_frames_are_given(sample) -> None:
    analysis, _ = sample
    layers = _layers(coverage_map(analysis))
    assert "广播（正常）及覆盖范围" in layers and "志愿服务点及服务范围" in layers
