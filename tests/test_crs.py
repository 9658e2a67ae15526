"""Coordinate systems: parsing, GCJ-02 / BD-09 round trips, frames, metric CRS, valid areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from gridmap import crs as gcrs
from gridmap.crs import (
    frame_from_wgs84,
    frame_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    metric_crs,
    parse_crs,
    to_wgs84,
    valid_area,
    wgs84_to_gcj02,
)
from gridmap.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(
    ("name", "kind", "epsg"),
    [
        ("wgs84", "epsg", 4326),
        ("WGS84", "epsg", 4326),
        (" cgcs2000 ", "epsg", 4490),
        ("EPSG:4490", "epsg", 4490),
        ("GCJ02", "gcj02", 4326),
        ("gcj-02", "gcj02", 4326),
        ("bd09", "bd09", 4326),
        ("epsg:4547", "epsg", 4547),
        ("EPSG:32650", "epsg", 32650),
        (4326, "epsg", 4326),
    ],
)
def test_parse_crs_accepts_names_and_epsg(name, kind, epsg) -> None:
    spec = parse_crs(name)
    assert (spec.kind, spec.epsg) == (kind, epsg)


@pytest.mark.parametrize("name", ["", "mercator", "EPSG:", "EPSG:99999999", "epsg:abc", "gcj"])
def test_parse_crs_rejects_unknown_and_lists_accepted(name) -> None:
    with pytest.raises(CRSError, match="wgs84, cgcs2000, gcj02, bd09"):
        parse_crs(name)


def test_parse_crs_from_pyproj_crs() -> None:
    assert parse_crs(pyproj.CRS.from_epsg(4547)).epsg == 4547
    assert parse_crs(pyproj.CRS.from_epsg(4490)).is_wgs84


def test_published_reference_values() -> None:
    # Pinned against the widely used coordTransform library (wandergis/coordTransform_py).
    lon, lat = wgs84_to_gcj02(128.543, 37.065)
    assert lon == pytest.approx(128.54820547949757, abs=1e-12)
    assert lat == pytest.approx(37.065651049489816, abs=1e-12)
    lon, lat = gcj02_to_bd09(128.543, 37.065)
    assert lon == pytest.approx(128.54944656269413, abs=1e-12)
    assert lat == pytest.approx(37.07113427883019, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "wgs", "gcj", "bd"),
    [
        # Tiananmen, Beijing and the Yellow Crane Tower, Wuhan: computed once and pinned.
        (
            "beijing",
            (116.391265, 39.907339),
            (116.39750614272978, 39.90874025236389),
            (116.40387907631684, 39.91508360593638),
        ),
        (
            "wuhan",
            (114.302605, 30.546093),
            (114.3080419426481, 30.5436616596781),
            (114.31462188737763, 30.5493477060541),
        ),
    ],
)
def test_pinned_city_values(name, wgs, gcj, bd) -> None:
    assert from_wgs84(*wgs, "gcj02") == pytest.approx(gcj, abs=1e-10)
    assert from_wgs84(*wgs, "bd09") == pytest.approx(bd, abs=1e-10)
    # The GCJ-02 offset in these cities is a few hundred metres, as published.
    assert 300 < metres(*wgs, *gcj) < 800
    back = to_wgs84(*bd, "bd09")
    assert metres(*wgs, *back) < 0.001


def test_no_offset_outside_china() -> None:
    lon, lat = np.array([2.35, -74.0, 151.2]), np.array([48.85, 40.7, -33.9])
    assert np.array_equal(np.column_stack(from_wgs84(lon, lat, "gcj02")), np.column_stack([lon, lat]))
    assert np.allclose(np.column_stack(to_wgs84(lon, lat, "gcj02")), np.column_stack([lon, lat]))


@settings(max_examples=200, deadline=None)
@given(
    lon=st.floats(73, 135, allow_nan=False),
    lat=st.floats(18, 53, allow_nan=False),
    crs=st.sampled_from(["gcj02", "bd09"]),
)
def test_round_trip_under_half_a_metre_over_china(lon: float, lat: float, crs: str) -> None:
    x, y = from_wgs84(lon, lat, crs)
    back_lon, back_lat = to_wgs84(x, y, crs)
    assert metres(lon, lat, back_lon, back_lat) < 0.5
    # Also inverse-then-forward: reading offset coordinates is the common direction.
    w_lon, w_lat = to_wgs84(lon, lat, crs)
    again = from_wgs84(w_lon, w_lat, crs)
    assert metres(lon, lat, *again) < 0.5


def test_inverse_is_vectorised_and_accurate_on_a_grid() -> None:
    lon, lat = np.meshgrid(np.linspace(73, 135, 120), np.linspace(18, 53, 80))
    lon, lat = lon.ravel(), lat.ravel()
    for crs in ("gcj02", "bd09"):
        back = to_wgs84(*from_wgs84(lon, lat, crs), crs)
        assert metres(lon, lat, *back).max() < 0.01


def test_scalars_give_scalars_and_arrays_keep_shape() -> None:
    lon, _ = to_wgs84(114.3, 30.5, "gcj02")
    assert np.ndim(lon) == 0 and isinstance(float(lon), float)
    x, y = from_wgs84(np.array([[114.3, 114.4]]), np.array([[30.5, 30.6]]), "bd09")
    assert x.shape == y.shape == (1, 2)


def test_nan_coordinates_stay_nan() -> None:
    lon, lat = to_wgs84(np.array([np.nan, 114.3]), np.array([np.nan, 30.5]), "bd09")
    assert np.isnan(lon[0]) and np.isnan(lat[0]) and not np.isnan(lon[1])


@pytest.mark.parametrize("epsg", [4547, 32650, 3857])
def test_epsg_round_trip(epsg: int) -> None:
    lon, lat = np.array([114.3, 114.31]), np.array([30.5, 30.52])
    x, y = from_wgs84(lon, lat, f"EPSG:{epsg}")
    assert not np.allclose(x, lon)
    back = to_wgs84(x, y, f"epsg:{epsg}")
    assert metres(lon, lat, *back).max() < 1e-6


def test_cgcs2000_is_identity() -> None:
    lon, lat = np.array([114.3]), np.array([30.5])
    assert np.array_equal(from_wgs84(lon, lat, "cgcs2000")[0], lon)
    assert np.array_equal(to_wgs84(lon, lat, "EPSG:4490")[1], lat)


def _mixed_frame() -> gpd.GeoDataFrame:
    square = Polygon([(114.30, 30.50), (114.31, 30.50), (114.31, 30.51), (114.30, 30.51)])
    hole = Polygon(square.exterior.coords, [[(114.302, 30.502), (114.304, 30.502), (114.304, 30.504)]])
    return gpd.GeoDataFrame(
        {"code": ["p", "l", "poly", "multi", "none"]},
        geometry=[
            Point(114.3, 30.5),
            LineString([(114.3, 30.5), (114.4, 30.6)]),
            hole,
            MultiPolygon([square, Polygon([(114.4, 30.6), (114.41, 30.6), (114.41, 30.61)])]),
            None,
        ],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "EPSG:4547", "cgcs2000"])
def test_frame_round_trip_every_geometry_type(crs: str) -> None:
    frame = _mixed_frame()
    out = frame_from_wgs84(frame, crs)
    assert out.attrs["crs_name"] == parse_crs(crs).name
    assert out.geometry.geom_type.tolist()[:4] == frame.geometry.geom_type.tolist()[:4]
    assert out.geometry.iloc[4] is None
    if crs != "cgcs2000":
        assert not out.geometry.iloc[0].equals(frame.geometry.iloc[0])
    back = frame_to_wgs84(out, crs)
    assert back.crs.equals("EPSG:4326")
    assert "crs_name" not in back.attrs
    assert list(back["code"]) == list(frame["code"])
    for a, b in zip(frame.geometry[:4], back.geometry[:4], strict=True):
        # Long edges come back as the same line within a centimetre (densified, then simplified to 1 mm each
        # way; BD-09's extra sine term bends the most).
        assert shapely.hausdorff_distance(a, b) < 1e-7 and a.geom_type == b.geom_type
    assert len(back.geometry.iloc[2].interiors) == 1


def test_frame_from_wgs84_reprojects_a_non_wgs84_frame_first() -> None:
    frame = _mixed_frame().to_crs(4547)
    out = frame_from_wgs84(frame, "gcj02")
    assert out.geometry.iloc[0].x == pytest.approx(from_wgs84(114.3, 30.5, "gcj02")[0], abs=1e-9)


def test_frame_to_wgs84_uses_frame_crs_when_none_given_and_refuses_none() -> None:
    frame = _mixed_frame().to_crs(4547)
    back = frame_to_wgs84(frame)
    assert back.geometry.iloc[0].x == pytest.approx(114.3, abs=1e-9)
    with pytest.raises(CRSError):
        frame_to_wgs84(_mixed_frame().set_crs(None, allow_override=True))
    with pytest.raises(CRSError):
        frame_from_wgs84(_mixed_frame().set_crs(None, allow_override=True), "gcj02")


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [(75.2, 4534), (114.3, 4547), (116.4, 4548), (121.2, 4549), (134.5, 4554), (87.6, 4538)],
)
def test_metric_crs_picks_the_gauss_kruger_zone_in_china(lon: float, epsg: int) -> None:
    frame = gpd.GeoDataFrame(geometry=[Point(lon, 36.0), Point(lon + 0.1, 36.1)], crs=4326)
    chosen = metric_crs(frame)
    assert chosen.to_epsg() == epsg
    assert f"CM {round(lon / 3) * 3}E" in chosen.name


def test_metric_crs_outside_china_is_utm_and_works_on_projected_frames() -> None:
    assert metric_crs((2.2, 48.8, 2.5, 48.9)).to_epsg() == 32631
    assert metric_crs((151.0, -34.0, 151.3, -33.8)).to_epsg() == 32756
    frame = gpd.GeoDataFrame(geometry=[Point(114.3, 30.5)], crs=4326).to_crs(3857)
    assert metric_crs(frame).to_epsg() == 4547
    assert metric_crs(gpd.GeoDataFrame(geometry=[], crs=4326)).is_projected


def test_metric_crs_refuses_a_frame_without_crs() -> None:
    with pytest.raises(CRSError, match="no CRS"):
        metric_crs(gpd.GeoDataFrame(geometry=[Point(114.3, 30.5)]))


def test_metric_crs_distances_are_metres() -> None:
    frame = gpd.GeoDataFrame(geometry=[Point(114.3, 30.5), Point(114.31, 30.5)], crs=4326)
    projected = frame.to_crs(metric_crs(frame))
    geodesic = metres(114.3, 30.5, 114.31, 30.5)
    assert projected.geometry.iloc[0].distance(projected.geometry.iloc[1]) == pytest.approx(
        geodesic, rel=1e-3
    )


def test_valid_area() -> None:
    assert valid_area("gcj02") == gcrs.CHINA_BOUNDS
    assert valid_area("bd09") == gcrs.CHINA_BOUNDS
    assert valid_area("cgcs2000") == gcrs.CHINA_BOUNDS
    assert valid_area("wgs84") == (-180.0, -90.0, 180.0, 90.0)
    west, south, east, north = valid_area("EPSG:4547")
    assert west == pytest.approx(112.5) and east == pytest.approx(115.5)
    assert south < 30.5 < north
