"""The district coverage map and the one-grid map, checked on their folium objects and HTML."""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import pytest
from shapely.geometry import Point, shape

from gridmap.actions import grid_sites
from gridmap.analysis import analyze
from gridmap.errors import ConfigError, NotFoundError
from gridmap.maps import coverage as coverage_module
from gridmap.maps import (
    coverage_map,
    grid_map,
    render_html,
    resolve_basemap,
    write_coverage_map,
    write_grid_map,
)
from gridmap.maps._page import Chrome
from gridmap.maps.assets import external_references
from gridmap.maps.styles import GRADE_COLORS
from gridmap.sample import PLANTED, generate_dirty
from gridmap.vocabulary import MEASURES


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
    "广播（正常）",
    "广播（故障）",
    "广播覆盖范围",
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
    assert {"Grids", "Speakers (working)", "Topology errors"} <= set(_layers(m))
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


def _counts(m: folium.Map, name: str) -> tuple[list, list]:
    group = _layers(m)[name]
    element = next(iter(group._children.values()))
    return json.loads(element.grids), json.loads(element.cells)


def test_household_counts_are_each_grids_own_figure(sample) -> None:
    analysis, frames = sample
    per_grid, cells = _counts(coverage_map(analysis, frames=frames), "广播未覆盖住户")
    uncovered = analysis.grids.loc[analysis.grids["uncovered_households"] > 0, "uncovered_households"]
    assert sorted(c[2] for c in per_grid) == sorted(uncovered.astype(int))
    assert sum(c[2] for c in cells) == int(uncovered.sum()) and len(cells) > len(per_grid)
    # Each cell's position lies in one grid: no count mixes two grids.
    points = gpd.GeoSeries([Point(c[0], c[1]) for c in per_grid], crs="EPSG:4326")
    owners = gpd.sjoin(gpd.GeoDataFrame(geometry=points), analysis.grids[["code", "geometry"]])
    assert owners.index.is_unique and len(owners) == len(per_grid)


def test_each_measure_has_its_own_layers_and_classes(sample) -> None:
    analysis, frames = sample
    service = coverage_map(analysis, frames=frames, measure="service")
    names = set(_layers(service))
    assert "志愿服务未覆盖住户" in names and "志愿服务点" in names
    assert not {"广播（正常）", "广播未覆盖住户", "广播未覆盖区域"} & names
    linkage = coverage_map(analysis, frames=frames, measure="linkage")
    per_grid, _ = _counts(linkage, "未纳入一户十联住户")
    unlinked = analysis.grids["households"] - analysis.grids["linked"]
    assert sum(c[2] for c in per_grid) == int(unlinked.sum())
    # Each grid is coloured by its grade on the linkage scale (A from 90 %, D below 50 %).
    fills = {
        f["properties"]["code"]: f["properties"]["style"]["fillColor"]
        for f in _geojson(linkage, "网格")["features"]
    }
    share = analysis.grids.set_index("code")["linkage_share"]
    a, _, c = MEASURES["linkage"].thresholds or (0, 0, 0)
    assert {fills[g] for g in share[share < c].index} <= {GRADE_COLORS["D"]}
    assert {fills[g] for g in share[share >= a].index} <= {GRADE_COLORS["A"]}
    assert len(share[share < c]) > 0


def test_ranges_off_and_uncovered_area_on_by_default(fake) -> None:
    analysis, frames = fake
    m = coverage_map(analysis, frames=frames)
    layers = _layers(m)
    assert layers["广播覆盖范围"].show is False
    assert _layers(coverage_map(analysis, frames=frames, measure="grade"))["志愿服务范围"].show is False
    assert layers["广播未覆盖区域"].show is True
    legend = next(c for c in m._children.values() if isinstance(c, Chrome)).legend_html
    for name in ("广播未覆盖区域", "广播覆盖范围", "广播未覆盖住户", "≥ 95%（A）"):
        assert name in legend


def test_names_are_drawn_by_level(fake) -> None:
    analysis, frames = fake
    group = _layers(coverage_map(analysis, frames=frames))["名称标注"]
    element = next(iter(group._children.values()))
    names = {n[2]: n[3] for n in json.loads(element.names)}
    assert names["示例街道"] == "street" and names["东苑社区"] == "community"
    assert names["西苑二网格"] == "grid"
    zooms = json.loads(element.zooms)
    assert zooms["street"][0] == 0 and zooms["street"][1] <= zooms["community"][0] < zooms["grid"][0]


def test_grid_popup_says_why_its_grade(fake) -> None:
    analysis, frames = fake
    g4 = next(
        f["properties"]
        for f in _geojson(coverage_map(analysis, frames=frames), "网格")["features"]
        if f["properties"]["code"] == "G4"
    )
    assert any("广播覆盖率 0.0%" in r for r in g4["reasons"])
    assert any("未建网格党支部" in r for r in g4["reasons"])


def test_stray_household_is_drawn() -> None:
    analysis = analyze(generate_dirty(1))
    stray = _geojson(coverage_map(analysis), "不属于任何网格的要素")["features"]
    assert [f["properties"]["code"] for f in stray] == [PLANTED.stray_household]


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
    assert props == {"rank": 1, "kind": "speaker", "radius_m": 300.0, "newly_covered": 30, "label": "G4-B1"}


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
    assert {"广播（正常）", "广播（故障）", "志愿服务点"} <= set(layers)
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


def test_grid_map_draws_numbered_sites(sample) -> None:
    analysis, frames = sample
    worst = analysis.grids.sort_values("uncovered_households").iloc[-1]["code"]
    sites = grid_sites(analysis, frames, worst, 3)
    ranks = list(range(1, len(sites) + 1))
    assert len(sites) >= 1 and list(sites["rank"]) == ranks and (sites["gain"] > 0).all()
    in_grid = analysis.grids.set_index("code").loc[worst, "uncovered_households"]
    assert sites["gain"].sum() <= in_grid
    drawn = _geojson(grid_map(analysis, frames, worst, sites=sites), "建议新增站点")["features"]
    assert [f["properties"]["rank"] for f in drawn] == ranks


def test_speakers_come_from_the_analysis_when_no_frames_are_given(sample) -> None:
    analysis, _ = sample
    layers = _layers(coverage_map(analysis))
    assert "广播（正常）" in layers and "广播（故障）" in layers
    assert "志愿服务点" in _layers(coverage_map(analysis, measure="service"))


def test_a_city_map_colours_communities_and_leaves_out_grid_areas(sample, monkeypatch) -> None:
    analysis, frames = sample
    monkeypatch.setattr(coverage_module, "CITY_GRIDS", 20)  # the sample's 61 grids count as a city
    m = coverage_map(analysis, frames=frames)
    units = _geojson(m, "网格")["features"]
    assert sorted(f["properties"]["code"] for f in units) == sorted(analysis.communities["code"])
    households = {f["properties"]["code"]: f["properties"]["households"] for f in units}
    communities = analysis.communities
    assert households == dict(zip(communities["code"], communities["households"], strict=True))
    assert "广播未覆盖区域" not in _layers(m)
    assert len(_geojson(coverage_map(analysis, frames=frames, measure="grade"), "网格")["features"]) == 7


def test_walking_bands_follow_the_network_not_circles() -> None:
    from tests.measures.test_walking import river_district
    from tests.test_analysis import NO_RANGE

    frames = river_district()
    analysis = analyze(frames, NO_RANGE)
    m = coverage_map(analysis, frames=frames, measure="walk_500")
    names = set(_layers(m))
    assert {"步行5分钟可达", "步行10分钟可达", "步行15分钟可达", "步行10分钟外住户"} <= names
    band = _geojson(m, "步行10分钟可达")["features"][0]["geometry"]
    # 500 m from the service point on the south bank: the bridge (500 m east) is at the edge of
    # reach, so nothing of the north bank road 200 m across the water is inside the band.
    homes = analysis.households.set_index("code").geometry
    assert not shape(band).contains(homes["h1"])  # on the north bank, 1,200 m on foot
    assert shape(band).contains(homes["h3"])  # on the south bank, 70 m on foot


def test_a_walking_measure_without_roads_says_why() -> None:
    from tests.measures.test_walking import river_district
    from tests.test_analysis import NO_RANGE

    frames = river_district()
    del frames["roads"]
    with pytest.raises(NotFoundError, match="no roads loaded"):
        coverage_map(analyze(frames, NO_RANGE), frames=frames, measure="walk_500")


def test_every_finding_kind_and_measure_is_named_on_the_page() -> None:
    from gridmap.maps.labels import labels
    from gridmap.vocabulary import FINDING_KINDS, share_measures

    named = labels(coverage_module.JS_KEYS, "zh")
    # Topology kinds once showed as raw keys (no_community, too_few_households, too_many_households).
    for code, kind in FINDING_KINDS.items():
        assert named[code] == kind.zh
    for m in share_measures():
        assert named[m.column] == m.zh
