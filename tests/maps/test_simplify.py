"""Display generalisation: fewer vertices, same coverage, counted cells, fanned-out stacks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridmap.crs import metric_crs
from gridmap.maps.simplify import aggregate_points, features, for_basemap, simplify_polygons, spread_stacked


def _vertices(frame: gpd.GeoDataFrame) -> int:
    return int(shapely.get_num_coordinates(frame.geometry.values).sum())


def test_coverage_simplification_keeps_grids_seamless(sample) -> None:
    analysis, _ = sample
    grids = analysis.grids
    simple = simplify_polygons(grids, 5.0, coverage=True)
    assert len(simple) == len(grids)
    assert _vertices(simple) < _vertices(grids)
    metric = metric_crs(grids)
    before, after = grids.to_crs(metric), simple.to_crs(metric)
    union_before = shapely.union_all(before.geometry.values).area
    union_after = shapely.union_all(after.geometry.values).area
    # Shared edges are simplified once: no overlap opens (sum of areas = area of the union) ...
    assert abs(after.area.sum() - union_after) < 1e-4 * union_after
    # ... and the district keeps its area.
    assert abs(union_after - union_before) < 5e-3 * union_before


def test_aggregated_cells_keep_every_point(sample) -> None:
    analysis, _ = sample
    households = analysis.households
    fine, coarse = aggregate_points(households, 25.0), aggregate_points(households, 200.0)
    assert fine["count"].sum() == coarse["count"].sum() == len(households)
    assert len(coarse) < len(fine) < len(households)
    assert fine.crs.to_epsg() == 4326


def test_stacked_points_fan_out_within_a_few_metres() -> None:
    stack = gpd.GeoDataFrame(geometry=[shapely.Point(114.3, 30.55)] * 10, crs="EPSG:4326")
    spread = spread_stacked(stack, step_m=1.5)
    metric = metric_crs(stack)
    xy = shapely.get_coordinates(spread.to_crs(metric).geometry.values)
    centre = shapely.get_coordinates(stack.to_crs(metric).geometry.values)[0]
    assert len(np.unique(np.round(xy, 3), axis=0)) == 10
    assert np.hypot(*(xy - centre).T).max() <= 1.5 * 3 + 1e-6


def test_features_round_coordinates_and_null_values(fake) -> None:
    analysis, _ = fake
    collection = features(analysis.grids, {"code": "code", "pb": "party_branch"})
    assert len(collection["features"]) == len(analysis.grids)
    ring = collection["features"][0]["geometry"]["coordinates"][0][0]
    assert all(round(v, 5) == v for v in ring[0])
    assert collection["features"][3]["properties"] == {"code": "G4", "pb": None}


def test_amap_display_is_shifted_to_gcj02(fake) -> None:
    analysis, _ = fake
    wgs = analysis.grids.geometry.iloc[0].centroid
    gcj = for_basemap(analysis.grids, "gcj02").geometry.iloc[0].centroid
    shift_m = np.hypot((gcj.x - wgs.x) * 95_000, (gcj.y - wgs.y) * 111_000)
    assert 100 < shift_m < 1_000  # GCJ-02 moves Shanghai by roughly half a kilometre
    assert for_basemap(analysis.grids, "wgs84").geometry.iloc[0].equals(analysis.grids.geometry.iloc[0])
