"""Display generalisation: fewer vertices and digits, same picture.

A city map of 1,200 grids and a million households must stay a few megabytes:
polygons are simplified in metres (shared grid edges stay shared, so no slivers
open between neighbours), coordinates are rounded to what a screen can show,
and crowds of points become counted cells.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap.crs import frame_from_wgs84, metric_crs
from gridmap.errors import CRSError

WGS84 = "EPSG:4326"
# 5 decimals of a degree are about 1 m: finer than a pixel at zoom 18 in these latitudes.
DECIMALS = 5


def _require_crs(frame: gpd.GeoDataFrame) -> None:
    if frame.crs is None:
        raise CRSError("a frame to draw has no CRS")


def simplify_polygons(frame: gpd.GeoDataFrame, tolerance_m: float, *, coverage: bool) -> gpd.GeoDataFrame:
    """`frame` (EPSG:4326) with polygons simplified by `tolerance_m` metres.

    `coverage=True` treats the polygons as a coverage (grids of a district):
    edges shared by neighbours are simplified once, so they stay shared.
    """
    _require_crs(frame)
    if frame.empty or tolerance_m <= 0:
        return frame.to_crs(WGS84)
    metric = metric_crs(frame)
    projected = frame.to_crs(metric)
    geoms = np.asarray(projected.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = geoms.copy()
    if coverage:
        out[present] = shapely.coverage_simplify(geoms[present], tolerance_m)
    else:
        out[present] = shapely.simplify(geoms[present], tolerance_m, preserve_topology=True)
    projected = projected.set_geometry(gpd.GeoSeries(out, index=projected.index, crs=metric))
    return projected.to_crs(WGS84)


def for_basemap(frame: gpd.GeoDataFrame, basemap_crs: str) -> gpd.GeoDataFrame:
    """`frame` in the coordinates the basemap uses (GCJ-02 for Amap), labelled EPSG:4326 for Leaflet."""
    _require_crs(frame)
    if basemap_crs == "wgs84":
        return frame.to_crs(WGS84)
    shifted = frame_from_wgs84(frame, basemap_crs)
    return shifted.set_crs(WGS84, allow_override=True)


def rounded(geoms: npt.ArrayLike, decimals: int = DECIMALS) -> npt.NDArray[np.object_]:
    """Geometries with every coordinate rounded to `decimals`."""
    result: npt.NDArray[np.object_] = shapely.transform(
        np.asarray(geoms, dtype=object), lambda c: np.round(c, decimals)
    )
    return result


def aggregate_points(
    points: gpd.GeoDataFrame, cell_m: float, weight: str | None = None, *, by: str | None = None
) -> gpd.GeoDataFrame:
    """Points gathered into square cells of `cell_m` metres: `count`, at the cells' mean position.

    A planner needs where uncovered households are and how many, not a marker
    per door; a cell of a few tens of metres keeps a building's households together.
    With `by` (a column, e.g. the grid code) a cell never gathers points of two groups.
    """
    _require_crs(points)
    if points.empty:
        return gpd.GeoDataFrame({"count": pd.Series([], dtype="int64")}, geometry=[], crs=WGS84)
    metric = metric_crs(points)
    projected = points.to_crs(metric)
    x = shapely.get_x(projected.geometry.values)
    y = shapely.get_y(projected.geometry.values)
    group = pd.factorize(points[by])[0] if by is not None else np.zeros(len(x), dtype=np.int64)
    keys = np.stack([np.floor(x / cell_m), np.floor(y / cell_m), group.astype(float)], axis=1)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    w = np.ones(len(x)) if weight is None else projected[weight].to_numpy(dtype=float)
    totals = np.bincount(inverse, weights=w)
    mx = np.bincount(inverse, weights=x) / counts
    my = np.bincount(inverse, weights=y) / counts
    cells = gpd.GeoDataFrame(
        {"count": np.rint(totals).astype("int64")}, geometry=shapely.points(mx, my), crs=metric
    )
    return cells.to_crs(WGS84)


def features(frame: gpd.GeoDataFrame, properties: dict[str, str], decimals: int = DECIMALS) -> dict[str, Any]:
    """A compact GeoJSON FeatureCollection of `frame` (EPSG:4326).

    `properties` maps each output key to a column; keys are short because they
    repeat in every feature. Missing values become null.
    """
    _require_crs(frame)
    geoms = rounded(frame.geometry.values, decimals)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    columns = {key: _plain(frame[column]) for key, column in properties.items()}
    out = []
    if len(geoms) and shapely.get_type_id(geoms[present]).max(initial=0) == 0:
        # Points only: build coordinates directly instead of parsing GeoJSON text.
        xs, ys = shapely.get_x(geoms), shapely.get_y(geoms)
        geometries = [
            {"type": "Point", "coordinates": [float(xs[i]), float(ys[i])]} if present[i] else None
            for i in range(len(geoms))
        ]
    else:
        texts = shapely.to_geojson(geoms)
        geometries = [json.loads(t) if present[i] else None for i, t in enumerate(texts)]
    for i, geometry in enumerate(geometries):
        if geometry is None:
            continue
        out.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {key: values[i] for key, values in columns.items()},
            }
        )
    return {"type": "FeatureCollection", "features": out}


def _plain(column: pd.Series) -> list[Any]:
    """Column values as JSON-ready Python values (pandas NA and NaN become None)."""
    values = column.astype(object).where(column.notna(), None).tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def spread_stacked(points: gpd.GeoDataFrame, step_m: float = 1.5) -> gpd.GeoDataFrame:
    """Points sharing one position (the households of a building) fanned out in a small sunflower.

    Only for display: a building's households often all sit on its
    representative point, and one dot would hide the other ninety-nine.
    """
    _require_crs(points)
    if points.empty:
        return points.to_crs(WGS84)
    metric = metric_crs(points)
    projected = points.to_crs(metric)
    x = shapely.get_x(projected.geometry.values)
    y = shapely.get_y(projected.geometry.values)
    keys = pd.DataFrame({"x": np.round(x, 1), "y": np.round(y, 1)})
    rank = keys.groupby(["x", "y"]).cumcount().to_numpy()
    radius = step_m * np.sqrt(rank)
    angle = rank * np.pi * (3 - np.sqrt(5))  # the golden angle spreads points evenly
    moved = shapely.points(x + radius * np.cos(angle), y + radius * np.sin(angle))
    out = projected.set_geometry(gpd.GeoSeries(moved, index=projected.index, crs=metric))
    return out.to_crs(WGS84)
