"""Small hand-made layers with every awkward value a store must keep: Chinese text, nulls, empty
strings, booleans, integers, reals, Polygon and MultiPolygon buildings, Polygons to promote, LineString
and MultiLineString roads."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box

from gridmap.catalogue import LAYER_NAMES

NA = None


def _frame(data: dict[str, list[object]], geometry: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=geometry, crs="EPSG:4326")


def sample_layers() -> dict[str, gpd.GeoDataFrame]:
    """One small frame per layer, codes deliberately not in order."""
    street = box(116.30, 39.90, 116.40, 40.00)
    return {
        "streets": _frame(
            {"code": ["S2", "S1"], "name": ["朝阳门街道", "建国门街道"]},
            [box(116.35, 39.90, 116.40, 40.00), MultiPolygon([box(116.30, 39.90, 116.35, 40.00)])],
        ),
        "communities": _frame(
            {
                "code": ["C1", "C2"],
                "name": ["史家社区", "前进村"],
                "street_code": ["S1", "S2"],
                "kind": ["community", "village"],
            },
            [street, MultiPolygon([box(116.30, 39.90, 116.32, 39.92), box(116.33, 39.93, 116.34, 39.94)])],
        ),
        "grids": _frame(
            {
                "code": ["G1", "G2"],
                "name": ["第一网格", "第二网格"],
                "community_code": ["C1", "C1"],
                "party_branch": ["第一网格党支部", NA],
                "worker_name": ["张三", ""],
                "worker_phone": ["13812341234", NA],
            },
            [box(116.30, 39.90, 116.35, 40.00), box(116.35, 39.90, 116.40, 40.00)],
        ),
        "buildings": _frame(
            {
                "code": ["B2", "B1", "B3"],
                "name": ["二号楼", NA, "三号楼"],
                "address": ["北京市东城区史家胡同2号", "北京市东城区史家胡同1号", NA],
                "floors": [6, NA, 18],
                "grid_code": ["G1", NA, "G2"],
            },
            [
                Polygon([(116.31, 39.91), (116.312, 39.91), (116.31, 39.912)]),
                box(116.32, 39.92, 116.321, 39.921),
                MultiPolygon([box(116.36, 39.95, 116.361, 39.951), box(116.37, 39.95, 116.371, 39.951)]),
            ],
        ),
        "households": _frame(
            {
                "code": ["H3", "H1", "H2", "H4"],
                "address": ["史家胡同1号1单元101室", "史家胡同1号1单元102室", "", NA],
                "building_code": ["B1", "B1", NA, "B3"],
                "unit": ["1", "1", NA, "2"],
                "room": ["101", "102", NA, "1801"],
                "size": [3, 1, NA, 5],
                "party_member": [True, False, NA, True],
                "center_household": [True, False, False, NA],
                "contact_name": ["李四", NA, "王五", ""],
                "contact_phone": ["13900001111", NA, NA, "010-65120000"],
                "grid_code": ["G1", "G1", NA, "G2"],
            },
            [
                Point(116.3205, 39.9205),
                Point(116.3206, 39.9206),
                Point(116.38, 39.98),
                Point(116.365, 39.955),
            ],
        ),
        "service_points": _frame(
            {
                "code": ["P1"],
                "name": ["党群服务中心"],
                "kind": ["综合"],
                "radius_m": [750.5],
                "grid_code": ["G1"],
            },
            [Point(116.325, 39.925)],
        ),
        "speakers": _frame(
            {
                "code": ["K2", "K1"],
                "name": ["村口大喇叭", NA],
                "radius_m": [NA, 250.0],
                "status": ["broken", NA],
                "power_w": [25.0, NA],
                "sensitivity_db": [NA, 92.5],
                "grid_code": [NA, "G2"],
            },
            [Point(116.31, 39.95), Point(116.39, 39.99)],
        ),
        "roads": _frame(
            {
                "code": ["R2", "R1"],
                "name": ["长安街", NA],
                "kind": ["primary", NA],
                "walkable": [True, False],
            },
            [
                LineString([(116.30, 39.95), (116.35, 39.95), (116.40, 39.95)]),
                MultiLineString([[(116.32, 39.90), (116.32, 39.94)], [(116.33, 39.94), (116.33, 39.99)]]),
            ],
        ),
    }


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    frames = sample_layers()
    assert set(frames) == set(LAYER_NAMES)
    return frames
