"""Vector tiles decode to the features expected in the tile, on both stores, with public fields only."""

from __future__ import annotations

import math

import mapbox_vector_tile
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import box

from gridmap.frames import conform
from gridmap.tiles import BUFFER, EXTENT, LABELLED, TileError, label_layer, tile, tile_bounds
from tests.test_export import _district

TO_LONLAT = pyproj.Transformer.from_crs(3857, 4326, always_xy=True)
TO_MERCATOR = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def _lonlat_box(bounds: tuple[float, float, float, float], pad_px: float = 0.0) -> shapely.Geometry:
    pad = (bounds[2] - bounds[0]) * pad_px / EXTENT
    x0, y0 = TO_LONLAT.transform(bounds[0] - pad, bounds[1] - pad)
    x1, y1 = TO_LONLAT.transform(bounds[2] + pad, bounds[3] + pad)
    return box(x0, y0, x1, y1)


def _decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


@pytest.fixture
def loaded(store):
    store.replace_many({name: conform(name, frame) for name, frame in _district().items()})
    return store


def test_tiles_hold_the_features_expected_in_them(loaded) -> None:
    # One store load for every layer and zoom: the store fixture is the slow part.
    for layer in ("households", "grids", "communities"):
        frame = loaded.read(layer)
        for z in (13, 14, 15, 16, 17):
            x0, y0 = tile_of(114.300, 30.560, z)
            x1, y1 = tile_of(114.320, 30.549, z)
            seen: set[str] = set()
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    bounds = tile_bounds(z, x, y)
                    inside = set(frame.loc[frame.intersects(_lonlat_box(bounds)), "code"])
                    near = set(frame.loc[frame.intersects(_lonlat_box(bounds, BUFFER)), "code"])
                    data = tile(loaded, layer, z, x, y)
                    codes = (
                        {f["properties"]["code"] for f in _decode(data)[layer]["features"]} if data else set()
                    )
                    assert inside <= codes <= near, (layer, z, x, y)
                    seen |= codes
            assert seen == set(frame["code"]), (layer, z)


def test_tile_geometry_public_properties_and_empty_tiles(loaded) -> None:
    assert tile(loaded, "households", 14, *tile_of(2.35, 48.85, 14)) == b""
    z = 16
    x, y = tile_of(114.3012345, 30.5512345, z)
    decoded = _decode(tile(loaded, "households", z, x, y))["households"]
    assert decoded["extent"] == EXTENT
    by_code = {f["properties"]["code"]: f for f in decoded["features"]}
    h1 = by_code["H1"]
    assert h1["properties"]["address"] == "幸福路88号3栋2单元301室"
    assert not {"contact_name", "contact_phone"} & set(h1["properties"])
    minx, _, maxx, maxy = tile_bounds(z, x, y)
    mx, my = TO_MERCATOR.transform(114.3012345, 30.5512345)
    expected = ((mx - minx) / (maxx - minx) * EXTENT, (maxy - my) / (maxx - minx) * EXTENT)
    assert np.allclose(h1["geometry"]["coordinates"], expected, atol=1.0)
    grids = _decode(tile(loaded, "grids", z, *tile_of(114.305, 30.555, z)))["grids"]["features"]
    assert grids and all(not {"worker_name", "worker_phone"} & set(g["properties"]) for g in grids)
    assert {g["properties"]["name"] for g in grids} <= {"福景社区第1网格", "福景社区第2网格"}
    assert all(g["geometry"]["type"] in ("Polygon", "MultiPolygon") for g in grids)


def test_invalid_tiles() -> None:
    with pytest.raises(TileError):
        tile_bounds(3, 8, 0)
    with pytest.raises(TileError):
        tile_bounds(-1, 0, 0)


def test_tile_bounds_known_answer() -> None:
    assert tile_bounds(0, 0, 0) == pytest.approx((-20037508.34, -20037508.34, 20037508.34, 20037508.34))
    minx, miny, maxx, _ = tile_bounds(1, 1, 0)
    assert (minx, miny) == pytest.approx((0.0, 0.0)) and maxx == pytest.approx(20037508.34)


def test_each_area_has_one_label_point_per_zoom(loaded) -> None:
    """Every street, community and grid is labelled once at each zoom, inside itself, on both stores."""
    for layer in LABELLED:
        frame = loaded.read(layer)
        for z in (12, 14, 16):
            x0, y0 = tile_of(114.290, 30.570, z)
            x1, y1 = tile_of(114.330, 30.540, z)
            labels: dict[str, list[shapely.Point]] = {}
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    data = tile(loaded, layer, z, x, y)
                    decoded = _decode(data) if data else {}
                    minx, _, maxx, maxy = tile_bounds(z, x, y)
                    size = maxx - minx
                    for feature in decoded.get(label_layer(layer), {"features": []})["features"]:
                        assert set(feature["properties"]) == {"code", "name"}
                        px, py = feature["geometry"]["coordinates"]
                        assert 0 <= px <= EXTENT and 0 <= py <= EXTENT  # never in a neighbour's buffer
                        lon, lat = TO_LONLAT.transform(minx + px / EXTENT * size, maxy - py / EXTENT * size)
                        labels.setdefault(feature["properties"]["code"], []).append(shapely.Point(lon, lat))
            assert sorted(labels) == sorted(frame["code"]), (layer, z)
            assert all(len(points) == 1 for points in labels.values()), (layer, z)
            shapes = frame.set_index("code").geometry
            for code, (point,) in labels.items():  # within a tile unit of the area (tile rounding)
                assert shapes[code].distance(point) < 2 * (360 / 2**z) / EXTENT, (layer, z, code)
