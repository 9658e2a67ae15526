"""Which grid owns each point and building (`grid_code`, always derived, never trusted from input).

Rules (DESIGN.md, Analysis):

- A point belongs to the grid that covers it (interior or boundary). A point
  covered by several grids — exactly on a shared edge or vertex, or inside an
  overlap the topology check reports — goes to the one with the smallest
  code, so every point gets at most one grid and the answer never depends on
  row order. A point covered by no grid (or without coordinates) gets none
  and is reported by `unassigned`, never dropped.
- A building belongs to the grid holding the largest share of its area,
  measured in metres (`gridmap.crs.metric_crs`). Shares equal within
  `SHARE_TIE` of the building's area are a tie, won by the smallest code; a
  building sharing no area with any grid (touching at most an edge) gets none.
  A building with no area (a degenerate ring) is placed by its representative point.
- A household with a `building_code` whose building has a grid belongs to that
  grid; any other household is placed by its point.
- A point inside a registered building (a household without a building code,
  a service point, a speaker, a point lookup) belongs to that building's grid,
  so it agrees with the building's address; overlapping buildings go to the
  smallest code. Other points are placed by the grid that covers them.

Point location runs on whole arrays: points sorted by longitude once, then each
grid takes the slice inside its bounding box and tests it with a prepared
`shapely.intersects_xy`. Grids are visited from the largest code down, each
overwriting, which leaves the smallest covering code on every point.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Self

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyproj
import shapely

from gridmap.arrays import FloatArray, IntArray
from gridmap.crs import metric_crs, transformer
from gridmap.errors import CRSError
from gridmap.frames import WGS84, empty_frame
from gridmap.stores import Store

SHARE_TIE = 1e-6
"""Area shares of one building closer than this (a millionth of its area, below survey precision) tie."""

POINT_LAYERS: tuple[str, ...] = ("households", "service_points", "speakers")
DERIVED_LAYERS: tuple[str, ...] = ("buildings", *POINT_LAYERS)
"""Layers whose `grid_code` `assign` sets."""

_SMALL_QUERY = 256
"""Below this many points, one STRtree query beats the per-grid sweep."""


class _Locator(ABC):
    """An index over one layer's polygons, built from its frame or from arrays of codes and WGS84
    geometries (`of`: the GeoPackage's settle has no frame); subclasses build it in `_index`."""

    LAYER = ""

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        _require_wgs84(frame, self.LAYER)
        self._index(
            frame["code"].astype(str).to_numpy(dtype=object), np.asarray(frame.geometry.values, dtype=object)
        )

    @classmethod
    def of(cls, codes: npt.NDArray[np.object_], geoms: npt.NDArray[np.object_]) -> Self:
        """A locator over features given as arrays of codes and WGS84 geometries (no frame needed)."""
        locator = cls.__new__(cls)
        locator._index(np.asarray(codes, dtype=object), np.asarray(geoms, dtype=object))
        return locator

    @abstractmethod
    def _index(self, codes: npt.NDArray[np.object_], geoms: npt.NDArray[np.object_]) -> None:
        """Build the index over `codes` and their geometries."""


class GridLocator(_Locator):
    """A point-in-grid index over one grids frame, built once and queried many times.

    The API's point lookup and `assign` share it, so both give the same answer
    on shared edges.
    """

    LAYER = "grids"

    def _index(self, codes: npt.NDArray[np.object_], geoms: npt.NDArray[np.object_]) -> None:
        self.codes = codes
        self._geoms = geoms
        present = ~(shapely.is_missing(self._geoms) | shapely.is_empty(self._geoms))
        shapely.prepare(self._geoms[present])
        # Rank of each grid by code: the tie-break among grids covering one point.
        self._rank = np.empty(len(self.codes), dtype=np.intp)
        self._by_rank = np.argsort(self.codes, kind="stable")
        self._rank[self._by_rank] = np.arange(len(self.codes))
        self._sweep = np.flatnonzero(present)[np.argsort(-self._rank[present], kind="stable")]
        self._bounds = shapely.bounds(self._geoms)
        indexed = self._geoms.copy()
        indexed[~present] = None
        self._tree = shapely.STRtree(indexed)

    def locate(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> IntArray:
        """Row position in the grids frame of the grid owning each point (-1 for none)."""
        x = np.asarray(lon, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError(f"lon and lat differ in length: {x.size} != {y.size}")
        if x.size < _SMALL_QUERY:
            return self._locate_tree(x, y)
        return self._locate_sweep(x, y)

    def _locate_tree(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Few points: one bulk STRtree query, then the smallest code per point."""
        out = np.full(x.size, -1, dtype=np.intp)
        if x.size == 0 or self.codes.size == 0:
            return out
        point_pos, grid_pos = self._tree.query(shapely.points(x, y), predicate="intersects")
        best = np.full(x.size, self.codes.size, dtype=np.intp)
        np.minimum.at(best, point_pos, self._rank[grid_pos])
        found = best < self.codes.size
        out[found] = self._by_rank[best[found]]
        return out

    def _locate_sweep(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Many points: sort by longitude, then each grid tests the points in its bounding box."""
        out = np.full(x.size, -1, dtype=np.intp)
        order = np.argsort(x, kind="stable")
        xs, ys = x[order], y[order]
        for g in self._sweep:
            minx, miny, maxx, maxy = self._bounds[g]
            lo = int(np.searchsorted(xs, minx, side="left"))
            hi = int(np.searchsorted(xs, maxx, side="right"))
            window = ys[lo:hi]
            candidates = np.flatnonzero((window >= miny) & (window <= maxy)) + lo
            if candidates.size:
                inside = shapely.intersects_xy(self._geoms[g], xs[candidates], ys[candidates])
                out[order[candidates[inside]]] = g
        return out


class BuildingLocator(_Locator):
    """Which registered building contains each point (interior or boundary; the smallest code on overlaps)."""

    LAYER = "buildings"

    def _index(self, codes: npt.NDArray[np.object_], geoms: npt.NDArray[np.object_]) -> None:
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        indexed = geoms.copy()
        indexed[~present] = None
        self._tree = shapely.STRtree(indexed)
        self._by_rank = np.argsort(codes, kind="stable")
        self._rank = np.empty(len(codes), dtype=np.intp)
        self._rank[self._by_rank] = np.arange(len(codes))
        self.size = len(codes)

    def near(self, geoms: npt.NDArray[np.object_]) -> IntArray:
        """Positions of the buildings whose bounding box meets that of any of `geoms` (ascending):
        every building whose grid a change of those polygons may change."""
        if self.size == 0 or len(geoms) == 0:
            return np.empty(0, dtype=np.intp)
        return np.unique(self._tree.query(np.asarray(geoms, dtype=object))[1]).astype(np.intp)

    def locate(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> IntArray:
        """Row position in the buildings frame of the building containing each point (-1 for none)."""
        x = np.asarray(lon, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        out = np.full(x.size, -1, dtype=np.intp)
        if x.size == 0 or self.size == 0:
            return out
        point_pos, building_pos = self._tree.query(shapely.points(x, y), predicate="intersects")
        best = np.full(x.size, self.size, dtype=np.intp)
        np.minimum.at(best, point_pos, self._rank[building_pos])
        found = best < self.size
        out[found] = self._by_rank[best[found]]
        return out


def point_grids(
    locator: GridLocator,
    buildings: BuildingLocator,
    building_grid: IntArray,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
) -> tuple[IntArray, IntArray]:
    """(grid position, building position) of each point: its building's grid when it lies in one.

    `building_grid` is `building_grids(grids, buildings)` for the frame `buildings` indexes.
    """
    x = np.asarray(lon, dtype=np.float64).ravel()
    y = np.asarray(lat, dtype=np.float64).ravel()
    inside = buildings.locate(x, y)
    grid = np.full(x.size, -1, dtype=np.intp)
    held = inside >= 0
    grid[held] = building_grid[inside[held]]
    rest = np.flatnonzero(grid < 0)
    if rest.size:
        grid[rest] = locator.locate(x[rest], y[rest])
    return grid, inside


def locate_points(grids: gpd.GeoDataFrame, lon: npt.ArrayLike, lat: npt.ArrayLike) -> IntArray:
    """Row positions into `grids` of the grid owning each (lon, lat) in WGS84; -1 where none does."""
    return GridLocator(grids).locate(lon, lat)


def point_xy(frame: gpd.GeoDataFrame) -> tuple[FloatArray, FloatArray]:
    """Coordinates of a point frame; NaN where the geometry is missing or empty."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return shapely.get_x(geoms), shapely.get_y(geoms)


def building_grids(
    grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, metric: pyproj.CRS | None = None
) -> IntArray:
    """Row position into `grids` of the grid holding each building's largest area share (-1 for none).

    Areas are measured in `metric` (default: the CRS chosen from the grids' extent); a part of a
    larger whole passes the whole's, so its shares and ties are the whole's.
    """
    _require_wgs84(grids, "grids")
    _require_wgs84(buildings, "buildings")
    if len(buildings) == 0 or len(grids) == 0:
        return np.full(len(buildings), -1, dtype=np.intp)
    return building_positions(
        grids["code"].astype(str).to_numpy(dtype=object),
        np.asarray(grids.geometry.values, dtype=object),
        np.asarray(buildings.geometry.values, dtype=object),
        metric or metric_crs(grids),
    )


def building_positions(
    codes: npt.NDArray[np.object_],
    grid_geoms: npt.NDArray[np.object_],
    building_geoms: npt.NDArray[np.object_],
    metric: pyproj.CRS,
) -> IntArray:
    """`building_grids` on arrays (grid codes, WGS84 geometries): position into `codes` or -1.

    Any subset of the grids holding every grid a building meets gives the same answer, so a
    caller that found the candidates by a spatial index passes those alone.
    """
    out = np.full(len(building_geoms), -1, dtype=np.intp)
    if len(building_geoms) == 0 or len(codes) == 0:
        return out
    g_geom = to_metric(grid_geoms, metric)
    b_geom = to_metric(building_geoms, metric)
    b_area = shapely.area(b_geom)
    by_rank = np.argsort(codes, kind="stable")
    rank = np.empty(len(codes), dtype=np.intp)
    rank[by_rank] = np.arange(len(codes))

    shapely.prepare(g_geom)
    grid_pos, build_pos = shapely.STRtree(b_geom).query(g_geom, predicate="intersects")
    # Most buildings lie strictly inside one grid: share 1 without computing an intersection.
    single = np.bincount(build_pos, minlength=len(b_geom))[build_pos] == 1
    inside = np.zeros(grid_pos.size, dtype=bool)
    inside[single] = shapely.contains_properly(g_geom[grid_pos[single]], b_geom[build_pos[single]])
    share = np.ones(grid_pos.size)
    rest = ~inside
    with np.errstate(divide="ignore", invalid="ignore"):
        share[rest] = (
            shapely.area(shapely.intersection(g_geom[grid_pos[rest]], b_geom[build_pos[rest]]))
            / b_area[build_pos[rest]]
        )
    usable = np.isfinite(share) & (share > SHARE_TIE)
    grid_pos, build_pos, share = grid_pos[usable], build_pos[usable], share[usable]
    best = np.zeros(len(b_geom))
    np.maximum.at(best, build_pos, share)
    tied = share >= best[build_pos] - SHARE_TIE
    winner = np.full(len(b_geom), len(codes), dtype=np.intp)
    np.minimum.at(winner, build_pos[tied], rank[grid_pos[tied]])
    found = winner < len(codes)
    out[found] = by_rank[winner[found]]

    flat = ~(b_area > 0) & ~shapely.is_missing(b_geom)
    if flat.any():
        points = shapely.point_on_surface(building_geoms[flat])
        out[flat] = GridLocator.of(codes, grid_geoms).locate(shapely.get_x(points), shapely.get_y(points))
    return out


def to_metric(geoms: npt.NDArray[np.object_], metric: pyproj.CRS) -> npt.NDArray[np.object_]:
    """WGS84 2D geometries in `metric`: the same coordinates GeoSeries.to_crs gives, without a frame."""
    project = transformer(WGS84, metric)

    def moved(xy: FloatArray) -> FloatArray:
        x, y = project.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    out: npt.NDArray[np.object_] = shapely.transform(geoms, moved)
    return out


def household_grids(
    locator: GridLocator,
    households: gpd.GeoDataFrame,
    building_codes: pd.Series,
    building_grid: IntArray,
    buildings: BuildingLocator | None = None,
) -> IntArray:
    """Grid position of each household: its building's grid when known, else where its point lies.

    With `buildings` (indexing the frame whose codes are `building_codes`), a
    point inside a building takes that building's grid.
    """
    if len(households) == 0:
        return np.full(0, -1, dtype=np.intp)
    via = index_in(households["building_code"], building_codes)
    return household_positions(locator, via, *point_xy(households), building_grid, buildings)


def household_positions(
    locator: GridLocator,
    via: IntArray,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    building_grid: IntArray,
    buildings: BuildingLocator | None = None,
) -> IntArray:
    """`household_grids` on arrays: `via` is each household's registered building position (-1: none)."""
    x = np.asarray(lon, dtype=np.float64).ravel()
    y = np.asarray(lat, dtype=np.float64).ravel()
    out = np.full(x.size, -1, dtype=np.intp)
    has = via >= 0
    out[has] = building_grid[via[has]]
    by_point = np.flatnonzero(out < 0)
    if by_point.size:
        if buildings is None:
            out[by_point] = locator.locate(x[by_point], y[by_point])
        else:
            out[by_point] = point_grids(locator, buildings, building_grid, x[by_point], y[by_point])[0]
    return out


def assign(frames: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """`frames` with `grid_code` derived on buildings, households, service points and speakers.

    Other layers pass through unchanged; a missing derived layer comes back empty.
    """
    return assign_positions(frames)[0]


def assign_positions(
    frames: Mapping[str, gpd.GeoDataFrame], metric: pyproj.CRS | None = None
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, IntArray]]:
    """`assign`, also returning each derived layer's grid row positions (-1 for none);
    building shares measured in `metric` (see `building_grids`)."""
    grids = layer_of(frames, "grids")
    locator = GridLocator(grids)
    codes = pd.array(locator.codes, dtype="string")
    out = dict(frames)
    pos: dict[str, IntArray] = {}
    buildings = layer_of(frames, "buildings")
    pos["buildings"] = building_grids(grids, buildings, metric)
    inside = BuildingLocator(buildings)
    households = layer_of(frames, "households")
    pos["households"] = household_grids(locator, households, buildings["code"], pos["buildings"], inside)
    for layer in ("service_points", "speakers"):
        pos[layer] = point_grids(locator, inside, pos["buildings"], *point_xy(layer_of(frames, layer)))[0]
    for layer in DERIVED_LAYERS:
        frame = layer_of(frames, layer).copy()
        frame["grid_code"] = codes_at(codes, pos[layer])
        out[layer] = frame
    return out, pos


def codes_at(codes: object, pos: IntArray) -> pd.api.extensions.ExtensionArray:
    """The code at each row position as a string array, null where the position is -1.

    An Arrow `take`, so a million rows cost milliseconds rather than a Python object each.
    """
    return _strings(codes).take(np.asarray(pos, dtype=np.intp), allow_fill=True)


def index_in(values: object, keys: object) -> IntArray:
    """Position of each text value among `keys` (-1 when absent or null), hashed by Arrow."""
    found = pc.index_in(_arrow_text(values), value_set=_arrow_text(keys))
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.intp)


def same_text(a: object, b: object) -> npt.NDArray[np.bool_]:
    """Row by row, whether two text columns hold the same value (two nulls count as the same)."""
    x, y = _arrow_text(a), _arrow_text(b)
    same = pc.or_kleene(pc.equal(x, y), pc.and_(pc.is_null(x), pc.is_null(y)))
    return np.asarray(pc.fill_null(same, False).to_numpy(zero_copy_only=False), dtype=bool)


def _strings(values: object) -> pd.api.extensions.ExtensionArray:
    """`values` (a Series, an array, a list) as a pandas string array, without copying when it is one.

    A string array held by Arrow stays one: converting it to Python strings costs a second at 5M rows.
    """
    if isinstance(values, pd.Series):
        series = values
    else:  # an array keeps its type; a list is taken as it is, not inferred
        series = pd.Series(values, dtype=None if hasattr(values, "dtype") else object)
    kept = isinstance(series.dtype, pd.StringDtype) and series.dtype.na_value is pd.NA
    return series.array if kept else series.astype("string").array


def _arrow_text(values: object) -> pa.Array | pa.ChunkedArray:
    return pc.cast(pa.array(_strings(values)), pa.large_string())


def unassigned(frames: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Every building and point that `assign` could give no grid: `layer, code, geometry`.

    Buildings are shown by their representative point, so the layer is all points.
    """
    layers, codes, points = [], [], []
    for layer in DERIVED_LAYERS:
        frame = frames.get(layer)
        if frame is None or len(frame) == 0:
            continue
        rows = np.flatnonzero(frame["grid_code"].isna().to_numpy(dtype=bool))  # few: no copy of the layer
        geometry = np.asarray(frame.geometry.values[rows], dtype=object)
        if layer == "buildings":
            geometry = shapely.point_on_surface(geometry)
        layers.append(np.full(rows.size, layer, dtype=object))
        codes.append(frame["code"].iloc[rows].astype("string").array)  # the few rows, not a city's column
        points.append(geometry)
    if not layers:
        layers, codes, points = (
            [np.empty(0, dtype=object)],
            [pd.array([], dtype="string")],
            [np.empty(0, object)],
        )
    return gpd.GeoDataFrame(
        {
            "layer": pd.array(np.concatenate(layers), dtype="string"),
            "code": pd.concat([pd.Series(c, dtype="string") for c in codes], ignore_index=True).array,
        },
        geometry=gpd.GeoSeries(np.concatenate(points), crs=WGS84).values,
        crs=WGS84,
    )


def write_assignment(store: Store, frames: Mapping[str, gpd.GeoDataFrame]) -> dict[str, int]:
    """Write the derived `grid_code` of the assigned layers back to `store` in one atomic step.

    Returns how many features of each layer got a grid.
    """
    layers = {layer: frames[layer] for layer in DERIVED_LAYERS if layer in frames}
    store.replace_many(layers)
    return {layer: int(frame["grid_code"].notna().sum()) for layer, frame in layers.items()}


def layer_of(frames: Mapping[str, gpd.GeoDataFrame], name: str) -> gpd.GeoDataFrame:
    """`frames[name]`, or an empty frame of that layer when it is missing."""
    return frames[name] if name in frames else empty_frame(name)


def _require_wgs84(frame: gpd.GeoDataFrame, name: str) -> None:
    if frame.crs is None:
        raise CRSError(f"{name}: frame has no CRS")
    if not frame.crs.equals(WGS84):
        raise CRSError(f"{name}: expected EPSG:4326, got {frame.crs.to_string()}")
