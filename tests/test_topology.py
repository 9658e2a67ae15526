"""Topology findings on hand-made layouts with known areas near Wuhan.

Shapes are drawn in metres in CGCS2000 / 3-degree Gauss–Krüger CM 114E
(EPSG:4547), the zone `metric_crs` picks for Wuhan, then converted to lon/lat
as a store would hold them.
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gridmap.assignment import assign
from gridmap.frames import conform
from gridmap.sample import PLANTED, generate_dirty
from gridmap.topology import FINDING_COLUMNS, TopologyOptions, check_grids

GK_114 = "EPSG:4547"
X0, Y0 = 528_000.0, 3_386_000.0


def rect(x1: float, y1: float, x2: float, y2: float) -> Polygon:
    """A rectangle in metres from the layout origin."""
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def layer(name: str, rows: list[dict]) -> gpd.GeoDataFrame:
    """A canonical EPSG:4326 layer from rows whose geometry is in metres (EPSG:4547)."""
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=GK_114)
    return conform(name, frame)


def communities(*shapes: tuple[str, Polygon, str]) -> gpd.GeoDataFrame:
    return layer(
        "communities",
        [
            {"code": c, "name": f"社区{c}", "street_code": "S1", "kind": k, "geometry": g}
            for c, g, k in shapes
        ],
    )


def grids(*shapes: tuple[str, Polygon | MultiPolygon], community: str = "C1") -> gpd.GeoDataFrame:
    return layer(
        "grids",
        [{"code": c, "name": f"网格{c}", "community_code": community, "geometry": g} for c, g in shapes],
    )


C1 = communities(("C1", rect(0, 0, 200, 100), "community"))


def only(findings: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    return findings[findings["kind"] == kind]


def test_clean_layout_has_no_findings() -> None:
    findings = check_grids(grids(("G1", rect(0, 0, 100, 100)), ("G2", rect(100, 0, 200, 100))), C1)
    assert list(findings.columns) == FINDING_COLUMNS
    assert findings.empty
    assert findings.crs == "EPSG:4326"


def test_overlap_is_reported_with_its_area_and_location() -> None:
    findings = check_grids(grids(("G1", rect(0, 0, 100, 100)), ("G2", rect(90, 0, 200, 100))), C1)
    overlap = only(findings, "overlap")
    assert len(overlap) == 1
    row = overlap.iloc[0]
    assert row["codes"] == "G1,G2"
    assert row["severity"] == "error"
    assert row["community_code"] == "C1"
    assert row["area_m2"] == pytest.approx(1000.0, rel=0.01)
    # the location lies inside the overlapping strip
    x, y = gpd.GeoSeries.from_xy([row["lon"]], [row["lat"]], crs=4326).to_crs(GK_114).iloc[0].coords[0]
    assert 90 <= x - X0 <= 100 and 0 <= y - Y0 <= 100
    assert row["location"] == f"{row['lon']:.6f},{row['lat']:.6f}"
    assert "重叠" in row["message_zh"] and "overlap" in row["message_en"]
    assert set(findings["kind"]) == {"overlap"}


def test_overlap_below_tolerance_is_digitising_noise() -> None:
    layout = grids(("G1", rect(0, 0, 100.002, 100)), ("G2", rect(100, 0, 200, 100)))
    assert check_grids(layout, C1).empty
    strict = check_grids(layout, C1, options=TopologyOptions(overlap_tolerance_m2=0.01, hairline_width_m=0))
    assert only(strict, "overlap")["area_m2"].iloc[0] == pytest.approx(0.2, rel=0.05)


LONG = communities(("C1", rect(0, 0, 5000, 100), "community"))


def test_hairlines_are_told_from_real_gaps_by_width_not_area() -> None:
    """A 1 cm misfit along a 5 km edge (50 m²) is no finding; a 1 m wide gap of the same length is."""
    hairline = grids(("G1", rect(0, 0, 5000, 50.01)), ("G2", rect(0, 50, 5000, 100)))
    assert check_grids(hairline, LONG).empty
    sliver_gap = grids(("G1", rect(0, 0, 5000, 49.99)), ("G2", rect(0, 50, 5000, 100)))
    assert check_grids(sliver_gap, LONG).empty
    real = grids(("G1", rect(0, 0, 5000, 49)), ("G2", rect(0, 50, 5000, 100)))
    gap = only(check_grids(real, LONG), "gap")
    assert gap["area_m2"].to_numpy() == pytest.approx([5000.0], rel=0.01)
    wide = grids(("G1", rect(0, 0, 5000, 51)), ("G2", rect(0, 50, 5000, 100)))
    assert only(check_grids(wide, LONG), "overlap")["area_m2"].to_numpy() == pytest.approx([5000.0], rel=0.01)


def test_each_gap_part_is_its_own_finding() -> None:
    layout = grids(("G1", rect(0, 0, 90, 100)), ("G2", rect(100, 0, 150, 100)), ("G3", rect(150, 0, 200, 60)))
    gaps = only(check_grids(layout, C1), "gap").sort_values("area_m2")
    assert list(gaps["codes"]) == ["C1", "C1"]
    assert gaps["area_m2"].to_numpy() == pytest.approx([1000.0, 2000.0], rel=0.01)
    assert (gaps["severity"] == "error").all()


def test_community_without_grids_is_one_gap() -> None:
    two = communities(("C1", rect(0, 0, 200, 100), "community"), ("C2", rect(200, 0, 300, 100), "community"))
    layout = grids(("G1", rect(0, 0, 200, 100)))
    gaps = only(check_grids(layout, two), "gap")
    assert list(gaps["codes"]) == ["C2"]
    assert gaps["area_m2"].iloc[0] == pytest.approx(10_000.0, rel=0.01)


def test_grid_reaching_outside_its_community() -> None:
    layout = grids(("G1", rect(0, 0, 100, 100)), ("G2", rect(100, 0, 210, 100)))
    outside = only(check_grids(layout, C1), "outside")
    assert list(outside["codes"]) == ["G2"]
    assert outside["area_m2"].iloc[0] == pytest.approx(1000.0, rel=0.01)
    assert outside.geometry.iloc[0].bounds[0] > 114.0  # stored in lon/lat


def test_sliver_by_thinness_and_by_area() -> None:
    thin = rect(99.5, 0, 100, 100)  # 50 m², thinness 0.016
    layout = grids(
        ("G1", rect(0, 0, 99.5, 100)),
        ("G2", MultiPolygon([rect(100, 0, 200, 95), rect(100, 95, 105, 100)])),  # a 25 m² part
        ("G3", rect(105, 95, 200, 100)),  # 475 m², thinness 0.15: not a sliver
        ("GS", thin),
    )
    slivers = only(check_grids(layout, C1), "sliver").sort_values("codes")
    assert list(slivers["codes"]) == ["G2", "GS"]
    assert slivers["area_m2"].to_numpy() == pytest.approx([25.0, 50.0], rel=0.01)
    assert (slivers["severity"] == "warning").all()
    loose = check_grids(layout, C1, options=TopologyOptions(sliver_area_m2=10, sliver_thinness=0.01))
    assert only(loose, "sliver").empty


def test_invalid_ring_is_located_where_it_crosses() -> None:
    bowtie = Polygon(
        [(X0 + 100, Y0), (X0 + 200, Y0 + 100), (X0 + 200, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0)]
    )
    layout = grids(("G1", rect(0, 0, 100, 100)), ("G2", bowtie))
    findings = check_grids(layout, C1)
    invalid = only(findings, "invalid")
    assert list(invalid["codes"]) == ["G2"]
    row = invalid.iloc[0]
    cross = gpd.GeoSeries.from_xy([X0 + 150], [Y0 + 50], crs=GK_114).to_crs(4326).iloc[0]
    assert row["lon"] == pytest.approx(cross.x, abs=1e-6) and row["lat"] == pytest.approx(cross.y, abs=1e-6)
    assert row["message_en"] == f"grid G2 has an invalid geometry: Self-intersection ({row['location']})"
    assert row["message_zh"] == f"网格 G2 几何无效：边界自相交 ({row['location']})"
    # the repaired bowtie (two triangles, 5,000 m²) still takes part in the other checks
    assert row["area_m2"] == pytest.approx(5000.0, rel=0.01)
    assert only(findings, "gap")["area_m2"].sum() == pytest.approx(5000.0, rel=0.01)
    assert findings["kind"].iloc[0] == "invalid"  # errors that block everything come first


def test_missing_geometry_is_invalid() -> None:
    layout = grids(("G1", rect(0, 0, 200, 100)), ("G2", rect(0, 0, 1, 1)))
    layout.loc[1, "geometry"] = None
    invalid = only(check_grids(layout, C1), "invalid")
    assert list(invalid["codes"]) == ["G2"]
    assert invalid["message_en"].iloc[0] == "grid G2 has an invalid geometry: Empty geometry"
    assert invalid["message_zh"].iloc[0] == "网格 G2 几何无效：几何为空"


def test_grid_naming_an_unknown_community() -> None:
    layout = pd.concat(
        [grids(("G1", rect(0, 0, 200, 100))), grids(("G9", rect(300, 0, 400, 100)), community="C9")],
        ignore_index=True,
    )
    layout.loc[2] = layout.iloc[1]
    layout.loc[2, ["code", "community_code"]] = ["G10", None]
    findings = check_grids(layout, C1)
    lost = only(findings, "no_community")
    assert list(lost["codes"]) == ["G10", "G9"]
    assert lost["community_code"].isna().iloc[0] and lost["community_code"].iloc[1] == "C9"
    assert list(lost["message_en"]) == [
        "grid G10 names no community",
        "grid G9 names community C9, which does not exist",
    ]
    assert set(findings["kind"]) == {"no_community"}


def test_household_ranges_depend_on_community_kind() -> None:
    two = communities(("C1", rect(0, 0, 200, 100), "community"), ("V1", rect(200, 0, 400, 100), "village"))
    layout = pd.concat(
        [
            grids(("G1", rect(0, 0, 100, 100)), ("G2", rect(100, 0, 200, 100))),
            grids(("V1-1", rect(200, 0, 300, 100)), ("V1-2", rect(300, 0, 400, 100)), community="V1"),
        ],
        ignore_index=True,
    )
    counts = pd.Series({"G1": 250, "G2": 501, "V1-1": 300, "V1-2": 301})
    findings = check_grids(layout, two, counts)
    assert list(only(findings, "too_few_households")["codes"]) == ["G1"]
    assert list(only(findings, "too_many_households")["codes"]) == ["G2", "V1-2"]
    assert "250" in only(findings, "too_few_households")["message_zh"].iloc[0]
    assert check_grids(layout, two).empty  # without counts the range is not checked
    missing = check_grids(layout, two, pd.Series({"G1": 400, "G2": 400}))
    assert only(missing, "too_few_households").empty  # villages may have no households


def test_findings_round_trip_through_geojson(tmp_path) -> None:
    layout = grids(("G1", rect(0, 0, 100, 100)), ("G2", rect(90, 0, 190, 100)))
    findings = check_grids(layout, C1)
    path = tmp_path / "findings.geojson"
    findings.to_file(path, driver="GeoJSON")
    back = gpd.read_file(path)
    assert sorted(back["kind"]) == ["gap", "overlap"]


@pytest.mark.timing
def test_many_grids_validate_quickly() -> None:
    """A 20 × 20 block of grids with jittered shared edges: noise ignored, real errors found."""
    rng = np.random.default_rng(7)
    edges = np.arange(0, 2001, 100.0)
    jitter = rng.uniform(-0.001, 0.001, size=(len(edges), len(edges)))
    shapes = []
    for i in range(20):
        for j in range(20):
            shapes.append(
                (f"G{i:02d}{j:02d}", rect(edges[i] + jitter[i, j], edges[j], edges[i + 1], edges[j + 1]))
            )
    shapes[0] = ("G0000", rect(0, 0, 120, 100))  # overlaps G0100 by 2,000 m²
    layout = grids(*shapes)
    big = communities(("C1", rect(0, 0, 2000, 2000), "community"))
    start = time.perf_counter()
    findings = check_grids(layout, big)
    assert time.perf_counter() - start < 5.0
    assert list(findings["kind"]) == ["overlap"]
    assert findings["area_m2"].iloc[0] == pytest.approx(2000.0, rel=0.01)
    assert shapely.is_valid(findings.geometry.to_numpy()).all()


def test_dirty_sample_gives_exactly_its_planted_problems() -> None:
    frames = generate_dirty(1)
    counts = assign(frames)["households"]["grid_code"].value_counts()
    findings = check_grids(frames["grids"], frames["communities"], counts)
    assert list(findings["kind"]) == ["invalid", "overlap", "gap"]
    assert list(findings["codes"]) == [
        PLANTED.self_intersection,
        ",".join(PLANTED.overlap),
        PLANTED.gap[0][:12],  # the community of the two grids pulled apart
    ]
    # a 10 m push or pull along a grid edge: on the order of a thousand m², never noise
    assert (findings["area_m2"].iloc[1:] > 500).all()
