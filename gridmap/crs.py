"""Coordinate systems: names people use, GCJ-02 / BD-09 offsets, and metric CRS choice.

gridmap stores WGS84 (EPSG:4326). Input and output may be in any EPSG system
or in China's two offset systems, GCJ-02 (Amap, Tencent) and BD-09 (Baidu),
which are not EPSG systems but published formulas applied to WGS84 lon/lat.
Their inverses have no closed form, so they are solved by fixed-point
iteration to better than 1e-9 degrees (well under a millimetre).
CGCS2000 (EPSG:4490) differs from WGS84 by centimetres and is treated as
identical, as the product contract says.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from pyproj.exceptions import CRSError as PyprojCRSError

from gridmap.arrays import FloatArray
from gridmap.errors import CRSError

WGS84_EPSG = 4326
CGCS2000_EPSG = 4490
ACCEPTED = "wgs84, cgcs2000, gcj02, bd09 or EPSG:<code> (e.g. EPSG:4547)"

CRSKind = Literal["epsg", "gcj02", "bd09"]
Bounds = tuple[float, float, float, float]

# China's extent (the area of use of CGCS2000, EPSG:4490): where GCJ-02, BD-09
# and CGCS2000 data can legitimately lie.
CHINA_BOUNDS: Bounds = (73.62, 16.7, 134.77, 53.56)
WORLD_BOUNDS: Bounds = (-180.0, -90.0, 180.0, 90.0)

# The published GCJ-02 formulas: Krasovsky 1940 ellipsoid, and the rough
# rectangle outside which no offset is applied.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_GCJ_BOX: Bounds = (72.004, 0.8293, 137.8347, 55.8271)
_BD_X_PI = math.pi * 3000.0 / 180.0

_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_ITERATIONS = 12


@dataclass(frozen=True)
class CRSSpec:
    """A parsed coordinate system: an EPSG system, or an offset system over WGS84."""

    name: str
    kind: CRSKind
    epsg: int | None = WGS84_EPSG
    wkt: str | None = None

    @property
    def is_offset(self) -> bool:
        """GCJ-02 and BD-09: lon/lat with a non-EPSG offset from WGS84."""
        return self.kind != "epsg"

    @property
    def is_wgs84(self) -> bool:
        """Coordinates that need no transformation at all (WGS84 or CGCS2000)."""
        return self.kind == "epsg" and self.epsg in (WGS84_EPSG, CGCS2000_EPSG)

    @property
    def pyproj_crs(self) -> pyproj.CRS:
        """The CRS to record in files (EPSG:4326 for the offset systems, plus a note elsewhere)."""
        if self.wkt is not None:
            return pyproj.CRS.from_wkt(self.wkt)
        return pyproj.CRS.from_epsg(self.epsg or WGS84_EPSG)


CRSInput = str | int | CRSSpec | pyproj.CRS
WGS84 = CRSSpec("wgs84", "epsg", WGS84_EPSG)
CGCS2000 = CRSSpec("cgcs2000", "epsg", CGCS2000_EPSG)
GCJ02 = CRSSpec("gcj02", "gcj02", WGS84_EPSG)
BD09 = CRSSpec("bd09", "bd09", WGS84_EPSG)

_NAMED = {
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "cgcs2000": CGCS2000,
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
}


def parse_crs(name: CRSInput) -> CRSSpec:
    """Parse `wgs84`, `cgcs2000`, `gcj02`, `bd09` or `EPSG:n` (any case) into a CRSSpec.

    A pyproj CRS (e.g. a frame's `.crs`) or a bare EPSG integer is accepted too,
    so callers can pass what they hold.
    """
    if isinstance(name, CRSSpec):
        return name
    if isinstance(name, pyproj.CRS):
        return _from_pyproj(name)
    if isinstance(name, int) and not isinstance(name, bool):
        return _from_epsg(name, f"EPSG:{name}")
    if not isinstance(name, str):
        raise CRSError(f"unknown coordinate system {name!r}; expected {ACCEPTED}")
    key = name.strip().lower()
    if key in _NAMED:
        return _NAMED[key]
    if key.startswith("epsg:") and key[5:].isdigit() and len(key) <= _EPSG_MAX_DIGITS + 5:
        return _from_epsg(int(key[5:]), name.strip())
    raise CRSError(f"unknown coordinate system {name!r}; expected {ACCEPTED}")


_EPSG_MAX_DIGITS = 6  # EPSG codes run to 6 digits; 5,000 digits were a 500


def _from_epsg(code: int, label: str) -> CRSSpec:
    if code == WGS84_EPSG:
        return WGS84
    if code == CGCS2000_EPSG:
        return CGCS2000
    try:
        crs = pyproj.CRS.from_epsg(code)
    except PyprojCRSError:
        raise CRSError(f"unknown EPSG code in {label!r}; expected {ACCEPTED}") from None
    if not (crs.is_geographic or crs.is_projected):
        raise CRSError(f"{label} ({crs.name}) is neither geographic nor projected")
    return CRSSpec(f"EPSG:{code}", "epsg", code)


def _from_pyproj(crs: pyproj.CRS) -> CRSSpec:
    code = crs.to_epsg()
    if code is not None:
        return _from_epsg(code, f"EPSG:{code}")
    return CRSSpec(crs.name, "epsg", None, crs.to_wkt())


# --- GCJ-02 and BD-09 -------------------------------------------------------


def _as_arrays(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return xa, ya


def _in_gcj_box(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    """Where the published formula applies an offset (NaN coordinates never do)."""
    x0, y0, x1, y1 = _GCJ_BOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 offset (degrees) at WGS84 (lon, lat), zero outside China's box."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = _in_gcj_box(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 forward: WGS84 plus the published offset (none outside China)."""
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 forward from GCJ-02 (Baidu's published rotation and shift)."""
    x, y = _as_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 forward: WGS84 → GCJ-02 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    x: FloatArray,
    y: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Solve forward(lon, lat) = (x, y) by fixed-point iteration, vectorised.

    The offsets vary slowly (their derivative is ~1e-5), so subtracting the
    current residual converges by several digits per step.
    """
    lon, lat = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    for _ in range(_INVERSE_MAX_ITERATIONS):
        fx, fy = forward(lon, lat)
        rx, ry = fx - x, fy - y
        lon -= rx
        lat -= ry
        residual = np.nanmax(np.maximum(np.abs(rx), np.abs(ry)), initial=0.0)
        if residual < _INVERSE_TOLERANCE_DEG:
            break
    return _unwrap(lon), _unwrap(lat)


def _unwrap(a: FloatArray) -> FloatArray:
    """Scalars in, numpy scalars out (as the forward formulas give), arrays otherwise."""
    return cast(FloatArray, a[()]) if a.ndim == 0 else a


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 inverse, iterative (error < 1e-9 degrees)."""
    return _invert(wgs84_to_gcj02, *_as_arrays(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 inverse, iterative over the whole WGS84 → BD-09 chain."""
    return _invert(wgs84_to_bd09, *_as_arrays(lon, lat))


# --- Points and frames ------------------------------------------------------


def transformer(source: CRSInput, target: CRSInput) -> pyproj.Transformer:
    """A lon/lat-ordered transformer between two CRSs, built once (building one costs ~0.1 s)."""
    return _transformer(parse_crs(source), parse_crs(target))


@lru_cache(maxsize=64)
def _transformer(source: CRSSpec, target: CRSSpec) -> pyproj.Transformer:
    # pyproj's transformers are thread-safe (3.1+): one per pair serves every thread.
    return pyproj.Transformer.from_crs(source.pyproj_crs, target.pyproj_crs, always_xy=True)


_OffsetFn = Callable[[npt.ArrayLike, npt.ArrayLike], tuple[FloatArray, FloatArray]]
_TO_WGS84: dict[str, _OffsetFn] = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84: dict[str, _OffsetFn] = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def _convert(
    x: npt.ArrayLike, y: npt.ArrayLike, spec: CRSSpec, *, towards_wgs84: bool
) -> tuple[FloatArray, FloatArray]:
    xa, ya = _as_arrays(x, y)
    if spec.is_offset:
        return (_TO_WGS84 if towards_wgs84 else _FROM_WGS84)[spec.kind](xa, ya)
    if spec.is_wgs84:
        return _unwrap(xa.copy()), _unwrap(ya.copy())
    transformer = _transformer(spec, WGS84) if towards_wgs84 else _transformer(WGS84, spec)
    out_x, out_y = transformer.transform(xa, ya)
    return _unwrap(np.asarray(out_x, dtype=np.float64)), _unwrap(np.asarray(out_y, dtype=np.float64))


def to_wgs84(x: npt.ArrayLike, y: npt.ArrayLike, crs: CRSInput) -> tuple[FloatArray, FloatArray]:
    """Transform (x, y) in `crs` to WGS84 (lon, lat); arrays in, arrays out; scalars give scalars."""
    return _convert(x, y, parse_crs(crs), towards_wgs84=True)


def from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: CRSInput) -> tuple[FloatArray, FloatArray]:
    """Transform WGS84 (lon, lat) to (x, y) in `crs`; arrays in, arrays out; scalars give scalars."""
    return _convert(lon, lat, parse_crs(crs), towards_wgs84=False)


DENSIFY_DEG = 0.001
"""Longest polygon edge (about 100 m) transformed as it stands; longer edges are split first.

Every transformation here is non-linear (GCJ-02 and BD-09 offsets, map
projections): the image of a long straight edge is a curve. Moving only the
vertices would replace the curve by its chord, so a parent's long edge and a
child's vertex on that edge would land centimetres apart and topology would
report gaps that are not in the data. Splitting edges to this length keeps
both on the same curve to well under a millimetre (the chord of a 100 m
piece of the GCJ-02 curve is off it by micrometres).
"""
DENSIFY_BD09_DEG = 0.0002
"""About 20 m for BD-09, whose rotation term bends ten times as sharply (a 100 m chord is 1 cm off)."""
DENSIFY_M = 100.0
"""The same length for edges given in metres (a projected source)."""
SIMPLIFY_DEG = 1e-8
"""Added vertices within this distance (about 1 mm) of the line through their neighbours are dropped again."""
SIMPLIFY_M = 1e-3

_GeomArray = npt.NDArray[np.object_]


def _is_metric(spec: CRSSpec) -> bool:
    return not spec.is_offset and bool(spec.pyproj_crs.is_projected)


def densify(geoms: _GeomArray, spec: CRSSpec) -> _GeomArray:
    """`geoms` with every edge longer than `DENSIFY_DEG` (or `DENSIFY_M` in a metric CRS) split evenly."""
    step = DENSIFY_M if _is_metric(spec) else DENSIFY_DEG
    if spec.kind == "bd09":
        step = DENSIFY_BD09_DEG
    out: _GeomArray = shapely.segmentize(geoms, step)
    return out


def transform_geoms(
    geoms: _GeomArray,
    source: CRSSpec,
    target: CRSSpec,
    fn: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    *,
    keep_added: bool = False,
) -> _GeomArray:
    """Apply `fn(x, y)` (from `source` to `target`) to every geometry, following the curved image of edges.

    Edges are densified in `source` first; the vertices that added are then
    dropped again wherever the result stays within `SIMPLIFY_DEG` (or
    `SIMPLIFY_M`) of them, so a stored polygon does not grow a vertex every
    100 m. `keep_added` keeps them all (for a temporary metric copy).
    """

    def apply(coords: FloatArray) -> FloatArray:
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    geoms = np.asarray(geoms, dtype=object)
    dense = densify(geoms, target if target.kind == "bd09" else source)
    moved: _GeomArray = shapely.transform(dense, apply)
    if keep_added:
        return moved
    grew = shapely.get_num_coordinates(dense) > shapely.get_num_coordinates(geoms)
    if grew.any():
        tolerance = SIMPLIFY_M if _is_metric(target) else SIMPLIFY_DEG
        moved[grew] = shapely.simplify(moved[grew], tolerance, preserve_topology=True)
    return moved


def geoms_to_wgs84(geoms: _GeomArray, crs: CRSInput) -> _GeomArray:
    """Geometries in `crs` moved to WGS84 (densified transform; see `transform_geoms`)."""
    spec = parse_crs(crs)
    if spec.is_wgs84:
        return np.asarray(geoms, dtype=object)
    return transform_geoms(geoms, spec, WGS84, lambda x, y: to_wgs84(x, y, spec))


def geoms_from_wgs84(geoms: _GeomArray, crs: CRSInput) -> _GeomArray:
    """WGS84 geometries moved to `crs` (densified transform; see `transform_geoms`)."""
    spec = parse_crs(crs)
    if spec.is_wgs84:
        return np.asarray(geoms, dtype=object)
    return transform_geoms(geoms, WGS84, spec, lambda x, y: from_wgs84(x, y, spec))


def to_metric(geoms: gpd.GeoSeries, metric: pyproj.CRS) -> _GeomArray:
    """A metric copy of lon/lat `geoms` for areas and topology, edges following their curved image."""
    source = parse_crs(geoms.crs) if geoms.crs is not None else WGS84
    target = parse_crs(metric)
    moving = _transformer(source, target)

    def project(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        px, py = moving.transform(x, y)
        return np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)

    return transform_geoms(np.asarray(geoms.values, dtype=object), source, target, project, keep_added=True)


def frame_to_wgs84(gdf: gpd.GeoDataFrame, crs: CRSInput | None = None) -> gpd.GeoDataFrame:
    """A copy of `gdf` in EPSG:4326, its coordinates read as being in `crs`.

    `crs` says what the coordinates are, and wins over the frame's own label
    (a GCJ-02 file usually claims to be WGS84); without it the frame's CRS is
    used, and a frame with neither is an error.
    """
    if crs is None:
        if gdf.crs is None:
            raise CRSError("frame has no CRS and none was given")
        crs = gdf.crs
    spec = parse_crs(crs)
    out = gdf.copy()
    if not spec.is_wgs84:
        out[out.geometry.name] = gpd.GeoSeries(
            geoms_to_wgs84(np.asarray(gdf.geometry.values, dtype=object), spec), index=gdf.index
        )
    out = out.set_crs(WGS84_EPSG, allow_override=True)
    out.attrs.pop("crs_name", None)
    return out


def frame_from_wgs84(gdf: gpd.GeoDataFrame, crs: CRSInput) -> gpd.GeoDataFrame:
    """A copy of `gdf` (which must carry a CRS) with coordinates in `crs`.

    GCJ-02 and BD-09 have no EPSG code: the result is labelled EPSG:4326 and
    `attrs["crs_name"]` says which offset system the coordinates are in.
    """
    if gdf.crs is None:
        raise CRSError("frame has no CRS")
    spec = parse_crs(crs)
    source = gdf if gdf.crs.equals(pyproj.CRS.from_epsg(WGS84_EPSG)) else gdf.to_crs(WGS84_EPSG)
    out = source.copy()
    if not spec.is_wgs84:
        out[out.geometry.name] = gpd.GeoSeries(
            geoms_from_wgs84(np.asarray(source.geometry.values, dtype=object), spec), index=gdf.index
        )
    out = out.set_crs(spec.pyproj_crs, allow_override=True)
    out.attrs["crs_name"] = spec.name
    return out


# --- Metric CRS and valid areas ---------------------------------------------


def _lonlat_bounds(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> Bounds:
    if gdf.crs is None:
        raise CRSError("frame has no CRS: cannot choose a metric CRS")
    bounds = gdf.total_bounds
    if not gdf.crs.is_geographic or gdf.crs.to_epsg() not in (WGS84_EPSG, CGCS2000_EPSG):
        if np.isnan(bounds).any():
            return (math.nan, math.nan, math.nan, math.nan)
        return tuple(float(v) for v in transformer(gdf.crs, WGS84).transform_bounds(*bounds))  # type: ignore[return-value]
    return (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))


def _inside(bounds: Bounds, area: Bounds) -> bool:
    return bounds[0] >= area[0] and bounds[1] >= area[1] and bounds[2] <= area[2] and bounds[3] <= area[3]


def gauss_kruger_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss–Krüger zone (CM 75°E…135°E) nearest `lon`."""
    central = min(max(3 * round(lon / 3.0), 75), 135)
    return 4534 + (central - 75) // 3


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone holding (lon, lat)."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def metric_crs(data: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[float]) -> pyproj.CRS:
    """A projected CRS in metres for `data` (a frame, or lon/lat bounds).

    Inside China: the CGCS2000 3-degree Gauss–Krüger zone of the centre
    (EPSG:4534–4554); elsewhere the UTM zone of the centre. An empty frame has
    no centre, and any metric CRS serves it: it gets UTM zone 31N (lon 0, lat 0).
    """
    if isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        bounds = _lonlat_bounds(data)
    else:
        if len(data) != 4:
            raise CRSError(f"bounds must be (minx, miny, maxx, maxy), got {data!r}")
        bounds = (float(data[0]), float(data[1]), float(data[2]), float(data[3]))
    if any(math.isnan(v) for v in bounds):
        return pyproj.CRS.from_epsg(utm_epsg(0.0, 0.0))
    lon = (bounds[0] + bounds[2]) / 2.0
    lat = (bounds[1] + bounds[3]) / 2.0
    if _inside(bounds, CHINA_BOUNDS):
        return pyproj.CRS.from_epsg(gauss_kruger_epsg(lon))
    return pyproj.CRS.from_epsg(utm_epsg(lon, lat))


def valid_area(crs: CRSInput) -> Bounds:
    """Lon/lat bounds (WGS84) that data in `crs` can legitimately have.

    China's extent for gcj02, bd09 and cgcs2000 (they are only defined there);
    the EPSG area of use otherwise; the whole world when none is recorded.
    """
    spec = parse_crs(crs)
    if spec.is_offset or spec.epsg == CGCS2000_EPSG:
        return CHINA_BOUNDS
    area = spec.pyproj_crs.area_of_use
    if area is None:
        return WORLD_BOUNDS
    return (float(area.west), float(area.south), float(area.east), float(area.north))
