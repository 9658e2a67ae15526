"""analyze(): known answers on a hand-made district, properties on random ones, both stores agree."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gridmap.analysis as analysis_module
from gridmap.analysis import Analysis, AnalysisOptions, GradeRule, analyze
from gridmap.catalogue import LAYER_NAMES
from gridmap.frames import conform, empty_frame
from gridmap.sample import generate
from gridmap.stores import Store
from gridmap.topology import TopologyOptions

METRIC = pyproj.CRS.from_epsg(4547)  # the zone metric_crs picks for this layout (114°E)
X0, Y0 = 500_000.0, 3_400_000.0
NO_RANGE = AnalysisOptions(quota=1, topology=TopologyOptions(urban_households=(0, 10)))


def frame(layer: str, geoms: list[shapely.Geometry], **columns: list) -> gpd.GeoDataFrame:
    """A canonical frame from geometries in metres relative to (X0, Y0)."""
    moved = [shapely.transform(g, lambda c: c + np.array([X0, Y0])) for g in geoms]
    return conform(layer, gpd.GeoDataFrame(columns, geometry=moved, crs=METRIC))


def district(g2: shapely.Geometry | None = None) -> dict[str, gpd.GeoDataFrame]:
    """One street, one community, two 1 km grids side by side (G2 without a party branch).

    G1 has a working speaker (300 m) and a service point (600 m) at its centre;
    G2's only speaker is broken. Households: four in G1 (h01 a center
    household), two in G2, one outside everything.
    """
    whole = shapely.box(0, 0, 2000, 1000)
    homes = [(500, 500), (520, 500), (540, 500), (900, 900), (1500, 500), (1600, 500), (3000, 500)]
    return {
        "streets": frame("streets", [whole], code=["S1"], name=["紫阳街道"]),
        "communities": frame("communities", [whole], code=["C1"], name=["福景社区"], street_code=["S1"]),
        "grids": frame(
            "grids",
            [shapely.box(0, 0, 1000, 1000), g2 or shapely.box(1000, 0, 2000, 1000)],
            code=["G1", "G2"],
            name=["第1网格", "第2网格"],
            community_code=["C1", "C1"],
            party_branch=["第1网格党支部", " "],
            worker_name=["张三", "李四"],
            worker_phone=["13812341234", None],
        ),
        "households": frame(
            "households",
            [shapely.Point(p) for p in homes],
            code=[f"h{i:02d}" for i in range(1, 8)],
            party_member=[True, False, False, False, True, False, False],
            center_household=[True, False, False, False, False, False, False],
        ),
        "speakers": frame(
            "speakers",
            [shapely.Point(500, 500), shapely.Point(1500, 500)],
            code=["SP1", "SP2"],
            radius_m=[300.0, 300.0],
            status=["working", "broken"],
        ),
        "service_points": frame("service_points", [shapely.Point(500, 500)], code=["P1"], radius_m=[600.0]),
        "buildings": empty_frame("buildings"),
        "roads": empty_frame("roads"),
    }


@pytest.fixture(scope="module")
def result() -> Analysis:
    return analyze(district(), NO_RANGE)


def values(series: pd.Series) -> list:
    """A column as a list with None for nulls."""
    return [None if pd.isna(v) else v for v in series]


def row(table: pd.DataFrame, code: str) -> pd.Series:
    return table.set_index("code").loc[code]


def test_households_table(result: Analysis) -> None:
    h = result.households.set_index("code")
    assert list(result.households.columns) == [
        "code",
        "grid_code",
        "building_code",
        "party_member",
        "center_household",
        "speaker_covered",
        "service_covered",
        "linked_to",
        "geometry",
    ]
    assert values(h["grid_code"]) == ["G1", "G1", "G1", "G1", "G2", "G2", None]
    assert h["speaker_covered"].tolist() == [True, True, True, False, False, False, False]
    assert h["service_covered"].tolist() == [True, True, True, True, False, False, False]
    assert values(h["linked_to"]) == ["h01", "h01", None, None, None, None, None]
    assert result.households.crs.equals("EPSG:4326")


def test_grid_figures(result: Analysis) -> None:
    g1, g2 = row(result.grids, "G1"), row(result.grids, "G2")
    assert (g1.households, g1.party_members, g1.center_households) == (4, 1, 1)
    assert (g1.speaker_share, g1.service_share, g1.linkage_share) == (0.75, 1.0, 0.5)
    assert (g1.uncovered_households, g1.has_party_branch, g1.has_worker) == (1, True, True)
    assert (g2.households, g2.speaker_share, g2.service_share, g2.linkage_share) == (2, 0.0, 0.0, 0.0)
    assert (g2.has_party_branch, g2.has_worker) == (False, True)
    assert g1.street_code == "S1"


def test_grades(result: Analysis) -> None:
    # G1: speaker 0.75 is C (≥ 0.70), service and linkage are A: C. G2: no speaker coverage: D.
    assert result.grids.set_index("code")["grade"].to_dict() == {"G1": "C", "G2": "D"}
    assert row(result.communities, "C1").grade == "D"
    assert row(result.streets, "S1").grade == "D"


def test_grade_rule() -> None:
    rule = GradeRule()
    shares = np.array(
        [
            [1.0, 1.0, 0.92],  # A
            [0.96, 0.80, 0.92],  # service B
            [0.96, 0.95, 0.60],  # linkage C
            [0.50, 1.0, 1.0],  # speaker D
            [np.nan, np.nan, np.nan],  # no households: nothing to hold against it
            [1.0, 1.0, 1.0],  # A, but two problems
            [0.9, 1.0, 1.0],  # B, and three problems
        ]
    )
    got = rule.grade(shares, np.array([0, 0, 0, 0, 0, 2, 3]))
    assert got.tolist() == ["A", "B", "C", "D", "A", "C", "D"]
    # 30 % linked leaves most households out: D, never A (it was A under a 30 % line).
    assert rule.grade(np.array([[1.0, 1.0, 0.30]]), np.array([0])).tolist() == ["D"]


def test_governance_gaps(result: Analysis) -> None:
    gaps = result.gaps
    by_grid = gaps.groupby("grid_code")["kind"].apply(sorted).to_dict()
    assert by_grid == {
        "G1": ["linkage_gap", "speaker_gap"],
        "G2": ["linkage_gap", "no_party_branch", "service_gap", "speaker_gap"],
    }
    assert result.grids.set_index("code")["gap_count"].to_dict() == {"G1": 2, "G2": 4}
    speaker_gap = gaps[(gaps["kind"] == "speaker_gap") & (gaps["grid_code"] == "G2")].iloc[0]
    assert speaker_gap.description_zh == "网格 G2 有 2 户不在正常广播覆盖范围内"
    assert shapely.get_num_geometries(speaker_gap.geometry) == 2
    lost = gaps[gaps["kind"] == "unassigned"]
    assert lost["description_zh"].tolist() == ["1 户不属于任何网格"]
    assert gaps.crs.equals("EPSG:4326")


def test_unassigned(result: Analysis) -> None:
    assert result.unassigned[["layer", "code"]].values.tolist() == [["households", "h07"]]


def test_uncovered_area_is_grid_minus_working_ranges(result: Analysis) -> None:
    areas = result.uncovered_areas.set_index("grid_code")["area_m2"]
    circle = np.pi * 300.0**2
    assert areas["G1"] == pytest.approx(1e6 - circle, rel=1e-3)
    assert areas["G2"] == pytest.approx(1e6)  # its only speaker is broken
    hole = result.uncovered_areas.set_index("grid_code").geometry["G1"]
    assert len(shapely.get_interior_ring(hole, 0).coords) > 60  # the speaker's range is cut out
    assert row(result.grids, "G1").uncovered_area_m2 == pytest.approx(areas["G1"])


def test_community_and_street_aggregates(result: Analysis) -> None:
    c1 = row(result.communities, "C1")
    assert (c1.grids, c1.households, c1.speaker_covered, c1.linked) == (2, 6, 3, 2)
    assert c1.speaker_share == 0.5 and c1.linkage_share == pytest.approx(1 / 3)
    assert (c1.grids_without_party_branch, c1.grids_without_worker, c1.gap_count) == (1, 0, 6)
    s1 = row(result.streets, "S1")
    assert (s1.communities, s1.grids, s1.households) == (1, 2, 6)
    assert isinstance(result.communities, gpd.GeoDataFrame) and result.streets.crs.equals("EPSG:4326")


def test_linkage_quota_report(result: Analysis) -> None:
    assert result.centers[["code", "linked", "missing"]].to_dict("records") == [
        {"code": "h01", "linked": 1, "missing": 0}
    ]


def test_topology_findings_become_gaps_and_lower_the_grade() -> None:
    overlapping = analyze(district(g2=shapely.box(900, 0, 2000, 1000)), NO_RANGE)
    assert "overlap" in overlapping.findings["kind"].tolist()
    overlap_gaps = overlapping.gaps[overlapping.gaps["kind"] == "topology_overlap"]
    assert sorted(overlap_gaps["grid_code"]) == ["G1", "G2"]
    assert row(overlapping.grids, "G1").topology_errors == 1
    # Households in the overlap go to the smaller code; G1 drops one grade for the error.
    assert row(overlapping.grids, "G1").grade == "D"


def test_household_range_warnings_are_gaps_but_do_not_lower_the_grade() -> None:
    default = analyze(district(), AnalysisOptions(quota=1))
    kinds = default.gaps[default.gaps["grid_code"] == "G1"]["kind"].tolist()
    assert "topology_too_few_households" in kinds
    assert row(default.grids, "G1").grade == "C"


def test_empty_store_analyses_to_empty_tables() -> None:
    empty = analyze({name: empty_frame(name) for name in LAYER_NAMES})
    assert len(empty.grids) == len(empty.households) == len(empty.gaps) == 0
    assert empty.totals()["households"] == 0


@st.composite
def households_strategy(draw: st.DrawFn) -> tuple[list[tuple[float, float]], list[bool]]:
    points = draw(
        st.lists(
            st.tuples(st.integers(-2, 42), st.integers(-2, 22)).map(lambda p: (p[0] * 50.0, p[1] * 50.0)),
            min_size=0,
            max_size=60,
        )
    )
    centers = draw(st.lists(st.booleans(), min_size=len(points), max_size=len(points)))
    return points, centers


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(households_strategy())
def test_properties_on_random_households(data: tuple[list[tuple[float, float]], list[bool]]) -> None:
    points, centers = data
    frames = district()
    frames["households"] = frame(
        "households",
        [shapely.Point(p) for p in points],
        code=[f"h{i:03d}" for i in range(len(points))],
        center_household=centers,
    )
    result = analyze(frames, NO_RANGE)
    grids = result.grids.set_index("code")
    # Every household has at most one grid, and that grid covers it.
    for home in result.households.itertuples():
        if not pd.isna(home.grid_code):
            assert grids.geometry[home.grid_code].buffer(1e-9).covers(home.geometry)
    # Shares lie in [0, 1] (undefined only for grids without households).
    for share in ("speaker_share", "service_share", "linkage_share"):
        values = result.grids[share]
        assert values.dropna().between(0, 1).all()
        assert (values.isna() == (result.grids["households"] == 0)).all()
    # Per-grid households add up to the assigned total, and up again to the community and street.
    assigned = int(result.households["grid_code"].notna().sum())
    assert int(result.grids["households"].sum()) == assigned
    assert int(result.communities["households"].sum()) == assigned
    assert int(result.streets["households"].sum()) == assigned
    assert len(result.unassigned) == len(points) - assigned


def test_same_results_from_geopackage_and_postgis(store: Store) -> None:
    frames = generate(scale=1)
    store.replace_many(frames)
    from_store = analyze({name: store.read(name) for name in LAYER_NAMES})
    in_memory = analyze({name: frames[name] for name in LAYER_NAMES})
    columns = ["code", "grid_code", "speaker_covered", "service_covered", "linked_to"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(from_store.households[columns]), pd.DataFrame(in_memory.households[columns])
    )
    figures = ["code", "households", "speaker_share", "service_share", "linkage_share", "gap_count", "grade"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(from_store.grids[figures]), pd.DataFrame(in_memory.grids[figures])
    )
    assert from_store.uncovered_areas["area_m2"].to_numpy() == pytest.approx(
        in_memory.uncovered_areas["area_m2"].to_numpy()
    )


@pytest.mark.parametrize("seed", [1, 3, 7, 1_000])
def test_gap_multipoints_hold_exactly_their_located_points(seed: int) -> None:
    """One MultiPoint per group holding exactly its located points, in their order."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (60, 2))
    xy[rng.choice(60, 5, replace=False)] = np.nan  # points with no location
    pos = rng.integers(-1, 9, 60)  # -1: in no group
    xy[0], pos[0] = np.nan, 9  # group 9: its only point has no location
    rows, shapes = analysis_module._grouped_points(xy, pos, 10)
    assert rows.tolist() == sorted(set(pos[pos >= 0].tolist()))
    for row, shape in zip(rows, shapes, strict=True):
        mine = xy[(pos == row) & np.isfinite(xy).all(axis=1)]
        assert shape.geom_type == "MultiPoint"
        assert shapely.get_coordinates(shape).tolist() == mine.tolist()
    assert rows[-1] == 9 and shapes[-1].is_empty
