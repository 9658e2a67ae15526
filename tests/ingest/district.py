"""A small district of every layer with awkward values, for round trips through every format.

Codes with leading zeros, Chinese text, empty optional fields, booleans
true/false/empty, fractional radii, and a long straight street edge that the
communities and grids split: everything an export could lose on the way.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.catalogue import LAYER_NAMES, get_layer
from gridmap.frames import WGS84, conform

X0, Y0 = 114.300, 30.540  # Wuchang, Wuhan
STREET = shapely.box(X0, Y0, X0 + 0.02, Y0 + 0.02)  # about 1.9 km by 2.2 km


def _box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def district() -> dict[str, gpd.GeoDataFrame]:
    """Every layer, canonical (as a store returns it), grid_code left empty."""
    raw: dict[str, dict[str, object]] = {
        "streets": {"code": ["0420106"], "name": ["紫阳街道"], "geometry": [STREET]},
        "communities": {
            "code": ["0420106001", "0420106002"],
            "name": ["首义社区", "彭刘杨路社区"],
            "street_code": ["0420106", "0420106"],
            "kind": ["community", "village"],
            "geometry": [_box(0, 0, 0.01, 0.02), _box(0.01, 0, 0.02, 0.02)],
        },
        "grids": {
            "code": ["0420106001001", "0420106001002", "0420106002001"],
            "name": ["第一网格", "第二网格", "第三网格"],
            "community_code": ["0420106001", "0420106001", "0420106002"],
            "party_branch": ["第一网格党支部", None, "第三网格党支部"],
            "worker_name": ["张伟", "李娜", None],
            "worker_phone": ["13812341234", None, "027-88886666"],
            "geometry": [_box(0, 0, 0.01, 0.012), _box(0, 0.012, 0.01, 0.02), _box(0.01, 0, 0.02, 0.02)],
        },
        "buildings": {
            "code": ["B001", "B002", "B003"],
            "name": ["1栋", None, "综合楼"],
            "address": ["武汉市武昌区首义路1号", "武汉市武昌区首义路2号", None],
            "floors": [6, None, 33],
            "geometry": [
                _box(0.001, 0.001, 0.0015, 0.0015),
                shapely.MultiPolygon(
                    [_box(0.002, 0.002, 0.0025, 0.0025), _box(0.003, 0.002, 0.0035, 0.0025)]
                ),
                _box(0.012, 0.012, 0.0126, 0.0127),
            ],
        },
        "households": {
            "code": ["H0001", "H0002", "H0003", "H0004"],
            "address": ["首义路1号1单元101", "首义路1号1单元102", "首义路2号", None],
            "building_code": ["B001", "B001", "B002", None],
            "unit": ["1", "1", None, None],
            "room": ["101", "102", None, None],
            "size": [3, 1, 5, None],
            "party_member": [True, False, True, None],
            "center_household": [True, False, False, None],
            "contact_name": ["王芳", None, "刘洋", None],
            "contact_phone": ["13912345678", None, "13700001111", None],
            "geometry": [
                shapely.Point(X0 + 0.0012, Y0 + 0.0012),
                shapely.Point(X0 + 0.0013, Y0 + 0.0013),
                shapely.Point(X0 + 0.0022, Y0 + 0.0022),
                shapely.Point(X0 + 0.015, Y0 + 0.005),
            ],
        },
        "service_points": {
            "code": ["SP01", "SP02"],
            "name": ["党群服务中心", None],
            "kind": ["综合", None],
            "radius_m": [500.0, 812.5],
            "geometry": [shapely.Point(X0 + 0.005, Y0 + 0.005), shapely.Point(X0 + 0.015, Y0 + 0.015)],
        },
        "speakers": {
            "code": ["S001", "S002", "S003"],
            "name": ["广播一号", "广播二号", None],
            "radius_m": [300.0, 250.5, 300.0],
            "status": ["working", "broken", "working"],
            "power_w": [50.0, None, 25.5],
            "sensitivity_db": [110.0, None, 98.25],
            "geometry": [
                shapely.Point(X0 + 0.004, Y0 + 0.004),
                shapely.Point(X0 + 0.006, Y0 + 0.016),
                shapely.Point(X0 + 0.016, Y0 + 0.006),
            ],
        },
        "roads": {
            "code": ["R001", "R002"],
            "name": ["首义路", None],
            "kind": ["residential", None],
            "walkable": [True, False],
            "geometry": [
                shapely.LineString(
                    [(X0 + 0.001, Y0 + 0.003), (X0 + 0.010, Y0 + 0.003), (X0 + 0.019, Y0 + 0.004)]
                ),
                shapely.LineString([(X0 + 0.010, Y0 + 0.003), (X0 + 0.010, Y0 + 0.018)]),
            ],
        },
    }
    out = {}
    for layer in LAYER_NAMES:
        columns = dict(raw[layer])
        geometry = columns.pop("geometry")
        if get_layer(layer).geometry == "MultiPolygon":  # as the store keeps them
            geometry = [shapely.MultiPolygon([g]) for g in geometry]  # type: ignore[attr-defined]
        frame = gpd.GeoDataFrame(
            pd.DataFrame(columns), geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84
        )
        out[layer] = conform(layer, frame)
    return out
