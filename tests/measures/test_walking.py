"""The walking measure in the analysis: a river with one bridge, life-circle shares, no roads."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

import gridmap.walking
from gridmap.analysis import Analysis, AnalysisOptions, analyze
from gridmap.assignment import GridLocator
from gridmap.cli import app
from gridmap.frames import conform
from gridmap.incremental import update
from gridmap.measures.walking import NO_ROADS, life_circles_by_kind
from gridmap.reports import write_outputs
from gridmap.sample import generate
from gridmap.siting import site
from gridmap.walking import build_network, snap, walk_matrix
from tests.test_analysis import METRIC, NO_RANGE, X0, Y0, frame
from tests.test_incremental import _same as same_analysis


def river_district(service_at: tuple[float, float] = (500, 400)) -> dict[str, gpd.GeoDataFrame]:
    """One 2 × 1 km grid cut by a river along y = 500: a road on each bank, one bridge at x = 1000.

    h1 lies on the north bank road 200 m across the water from the service
    point (1,200 m on foot), h2 50 m from the bridge's north end, h3 on the
    south bank 54 m from the service point. B1 is h1's building, B3 h3's.
    """
    whole = shapely.box(0, 0, 2000, 1000)
    roads = [
        shapely.LineString([(0, 600), (1000, 600), (2000, 600)]),
        shapely.LineString([(0, 400), (1000, 400), (2000, 400)]),
        shapely.LineString([(1000, 600), (1000, 400)]),
    ]
    return {
        "streets": frame("streets", [whole], code=["S1"], name=["紫阳街道"]),
        "communities": frame("communities", [whole], code=["C1"], name=["福景社区"], street_code=["S1"]),
        "grids": frame(
            "grids", [whole], code=["G1"], name=["第1网格"], community_code=["C1"], party_branch=["支部"]
        ),
        "buildings": frame(
            "buildings", [shapely.box(480, 610, 520, 640), shapely.box(430, 410, 470, 440)], code=["B1", "B3"]
        ),
        "households": frame(
            "households",
            [shapely.Point(500, 600), shapely.Point(1000, 650), shapely.Point(450, 420)],
            code=["h1", "h2", "h3"],
        ),
        "service_points": frame("service_points", [shapely.Point(service_at)], code=["P1"], radius_m=[600.0]),
        "speakers": frame("speakers", [], code=[]),
        "roads": frame(
            "roads", roads, code=["R1", "R2", "R3"], kind=["residential", "residential", "bridge"]
        ),
    }


@pytest.fixture(scope="module")
def walked() -> Analysis:
    return analyze(river_district(), NO_RANGE)


def test_across_the_river_is_far_on_foot(walked: Analysis) -> None:
    hh = walked.households.set_index("code")
    # Straight-line coverage (600 m) takes every household; on foot h1 is 1,200 m away.
    assert hh["service_covered"].tolist() == [True, True, True]
    assert hh.loc["h1", "service_walk_m"] == pytest.approx(1200.0)
    assert hh.loc["h2", "service_walk_m"] == pytest.approx(50.0 + 200.0 + 500.0)
    assert hh.loc["h3", "service_walk_m"] == pytest.approx(20.0 + 50.0)
    assert hh["service_walk_code"].tolist() == ["P1", "P1", "P1"]


def test_life_circle_shares_per_unit(walked: Analysis) -> None:
    for table in (walked.grids, walked.communities, walked.streets):
        row = table.iloc[0]
        assert (row.walk_300_households, row.walk_500_households, row.walk_1000_households) == (1, 1, 2)
        assert row.walk_500_share == pytest.approx(1 / 3)
        assert row.walk_1000_share == pytest.approx(2 / 3)
        assert (row.buildings, row.walk_300_buildings, row.walk_1000_buildings) == (2, 1, 1)
        assert row.walk_1000_building_share == pytest.approx(0.5)
    assert walked.notes == ()


def test_the_gap_list_names_households_beyond_each_circle(walked: Analysis) -> None:
    gaps = walked.gaps.set_index("kind")
    assert "有 2 户" in gaps.loc["walk_300_gap", "description_zh"]
    assert "有 1 户" in gaps.loc["walk_1000_gap", "description_zh"]
    assert shapely.get_num_geometries(gaps.loc["walk_1000_gap"].geometry) == 1


def test_households_csv_carries_the_walk(walked: Analysis, tmp_path: Path) -> None:
    written = write_outputs(walked, tmp_path)
    table = pd.read_csv(written["households"], dtype={"service_walk_code": str})
    assert list(table.columns)[-2:] == ["service_walk_m", "service_walk_code"]
    assert table.set_index("code").loc["h1", "service_walk_m"] == pytest.approx(1200.0)


def test_without_roads_the_analysis_says_so_and_keeps_straight_lines() -> None:
    frames = river_district()
    del frames["roads"]
    result = analyze(frames, NO_RANGE)
    assert result.notes == (NO_ROADS,)
    assert "service_walk_m" not in result.households
    assert "walk_500_share" not in result.grids
    assert result.grids.iloc[0].service_share == 1.0


def test_beyond_the_cut_off_is_empty() -> None:
    frames = river_district(service_at=(2000, 0))  # h1: 500 + 200 + 1,000 + 400 = 2,100 m on foot
    hh = analyze(frames, NO_RANGE).households.set_index("code")
    assert np.isnan(hh.loc["h1", "service_walk_m"]) and hh.loc["h1", "service_walk_code"] is pd.NA
    assert hh.loc["h2", "service_walk_m"] == pytest.approx(1650.0)


def test_moving_the_service_point_across_the_river_updates_like_a_full_analysis(walked: Analysis) -> None:
    frames = river_district()
    moved = conform(
        "service_points",
        gpd.GeoDataFrame(
            {"code": ["P1"], "radius_m": [600.0]},
            geometry=[shapely.Point(X0 + 500, Y0 + 600)],
            crs=METRIC,
        ).to_crs("EPSG:4326"),
    )
    got, _ = update(dict(frames), walked, {"service_points": moved}, NO_RANGE)
    frames["service_points"] = moved
    want = analyze(frames, NO_RANGE)
    assert got.households["service_walk_m"].tolist() == pytest.approx(
        want.households["service_walk_m"].tolist()
    )
    assert got.households.set_index("code").loc["h1", "service_walk_m"] == pytest.approx(0.0, abs=1e-6)
    assert got.grids["walk_300_share"].tolist() == want.grids["walk_300_share"].tolist()


def test_an_edit_that_leaves_the_roads_alone_keeps_their_network() -> None:
    options = AnalysisOptions(quota=1)
    frames = river_district()
    before = analyze(frames, options)
    built = options.walking.networks.network
    moved = frames["service_points"].assign(radius_m=[700.0])
    after, _ = update(dict(frames), before, {"service_points": moved}, options)
    assert options.walking.networks.network is built
    closed = frames["roads"].assign(walkable=[True, True, False])  # the bridge closed
    again, _ = update(dict(frames) | {"service_points": moved}, after, {"roads": closed}, options)
    assert options.walking.networks.network is not built  # new roads: built again
    # The north bank is now its own piece, left out: h1 walks 200 m to the south bank road.
    assert again.households.set_index("code").loc["h1", "service_walk_m"] == pytest.approx(200.0)


def test_service_points_moved_added_and_removed_walk_as_a_full_analysis_without_snapping_homes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One options object across edits, as the builder keeps it: every household and building is
    snapped once, by the first analysis; each edit's figures equal a fresh analysis of the edited city."""
    frames = generate(scale=2)
    options = AnalysisOptions()
    analysis = analyze(frames, options)
    kept = options.walking.networks.points
    assert kept is not None and len(kept) > 0.5 * len(frames["households"])
    snapped: list[int] = []  # points snapped by the updates (not by the fresh analyses they are held to)
    counting = [False]
    real = gridmap.walking.snap
    monkeypatch.setattr(
        gridmap.walking, "snap", lambda net, xy: (counting[0] and snapped.append(len(xy))) or real(net, xy)
    )
    sites = frames["service_points"]
    xy = sites.geometry.get_coordinates().to_numpy()
    moved = sites.set_geometry(gpd.points_from_xy(xy[:, 0] + np.where(sites.index == 3, 0.004, 0), xy[:, 1]))
    added = gpd.GeoDataFrame(
        pd.concat(
            [moved, moved.iloc[[0]].assign(code="NEW-POINT").set_geometry([shapely.Point(*xy[7] + 0.002)])]
        ),
        crs=sites.crs,
    ).reset_index(drop=True)
    removed = added.drop(index=5).reset_index(drop=True)
    locator = GridLocator(frames["grids"])
    for edited in (moved, added, removed):
        counting[0] = True
        analysis, _ = update(frames, analysis, {"service_points": edited}, options, locator=locator)
        counting[0] = False
        want = analyze(frames, AnalysisOptions())
        hh, want_hh = analysis.households.set_index("code"), want.households.set_index("code")
        pd.testing.assert_series_equal(hh["service_walk_m"], want_hh["service_walk_m"])
        pd.testing.assert_series_equal(hh["service_walk_code"], want_hh["service_walk_code"])
        for column in ("walk_300_households", "walk_500_households", "walk_1000_buildings", "walk_500_share"):
            pd.testing.assert_series_equal(analysis.grids[column], want.grids[column])
        same_analysis(analysis, want)  # every table: gaps, grades, communities and streets as well
    assert snapped and max(snapped) <= 2  # a moved or added service point each time, never a household
    assert options.walking.networks.points is kept


def test_siting_on_foot_keeps_the_service_point_and_crosses_no_river() -> None:
    frames = river_district()
    candidates = gpd.GeoDataFrame(
        {"code": ["C_south", "C_north"]},
        geometry=[shapely.Point(X0 + 500, Y0 + 380), shapely.Point(X0 + 700, Y0 + 620)],
        crs=METRIC,
    )
    straight = site(frames, "service_points", 1, candidates, radius_m=500.0)
    assert straight.covered_before == 3 and straight.sites.empty  # every home within P1's 600 m
    walked = site(frames, "service_points", 1, candidates, radius_m=500.0, roads=frames["roads"])
    assert walked.walking and walked.covered_before == 1  # h3 only, 70 m on foot from P1
    # C_south is 220 m from h1 as the crow flies but across the river; C_north reaches h1 and h2.
    assert walked.sites["code"].tolist() == ["C_north"] and walked.sites["gain"].tolist() == [2]
    with pytest.raises(ValueError, match="heard, not walked"):
        site(frames, "speakers", 1, candidates, roads=frames["roads"])


def test_walk_matrix_matches_the_nearest_walk() -> None:
    frames = river_district()
    network = build_network(frames["roads"], METRIC)
    origins = snap(network, np.array([[X0 + 500, Y0 + 400], [X0 + 1500, Y0 + 610]]))
    targets = snap(network, np.array([[X0 + 500, Y0 + 600], [X0 + 450, Y0 + 420], [X0 + 1000, Y0 + 650]]))
    matrix = walk_matrix(network, origins, targets, 1000.0).toarray()
    # From the south point: h1 1,200 m (no), h3 70 m, h2 750 m; from the north-east one: 1,010 m, …
    assert matrix.tolist() == [[0, 1, 1], [0, 0, 1]]


def test_life_circles_per_service_point_kind() -> None:
    frames = river_district()
    frames["service_points"] = frame(
        "service_points",
        [shapely.Point(500, 400), shapely.Point(500, 620)],  # P2 on the north bank
        code=["P1", "P2"],
        kind=["党群服务中心", "养老"],
        radius_m=[600.0, 600.0],
    )
    result = analyze(frames, NO_RANGE)
    table = life_circles_by_kind(result, frames["roads"]).set_index(["层级", "服务点类型"])
    centre, care = table.loc[("网格", "党群服务中心")], table.loc[("网格", "养老")]
    # P1 on the south bank reaches h3 within 300 m; P2 on the north bank reaches h1 and h2 within 1,000 m.
    assert (centre["步行300米内户数"], centre["步行1000米内户数"]) == (1, 2)
    assert (care["步行300米内户数"], care["步行1000米内户数"]) == (1, 2)
    assert care["15分钟生活圈住户覆盖率"] == pytest.approx(2 / 3, abs=1e-4)
    assert set(table.index.get_level_values(0)) == {"网格", "社区", "街道"}
    assert life_circles_by_kind(result, None).empty


def test_analyze_out_on_the_sample_walks_its_roads(sample_store: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["analyze", "--store", sample_store, "--out", str(out)], terminal_width=200)
    assert run.exit_code == 0, run.output
    assert "no roads loaded" not in run.output
    homes = pd.read_csv(out / "households.csv", dtype={"service_walk_code": str})
    assert homes["service_walk_m"].notna().mean() > 0.9
    assert homes["service_walk_code"].str.startswith("FW").fillna(True).all()
    sheets = pd.read_excel(out / "analysis.xlsx", sheet_name=None)
    assert {"党群服务中心", "志愿服务站"} <= set(sheets["生活圈"]["服务点类型"])
    assert "10分钟生活圈住户覆盖率" in sheets["网格"].columns
