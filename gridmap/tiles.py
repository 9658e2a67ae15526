"""Mapbox vector tiles (MVT) of a layer: `ST_AsMVT` on PostGIS, an equivalent encoder elsewhere.

Tiles are for web maps anyone may open, so they carry only public fields:
personal fields and grid worker names are never in a tile. Both encoders
produce the same features: those meeting the tile grown by `buffer` pixels,
clipped to it, in tile coordinates (4096 per side, y down).

Areas people name (streets, communities, grids) also get a label layer
(`<layer>_labels`): one point per feature, the same point at every zoom,
in the one tile that holds it. A web map labelling the polygons instead
would draw a name once per fragment a tile boundary cuts (2–4 times at z16).
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from gridmap.catalogue import get_layer
from gridmap.errors import NotFoundError
from gridmap.privacy import PUBLIC_HIDDEN
from gridmap.stores.base import Store

__all__ = [
    "EXTENT",
    "LABELLED",
    "TileError",
    "encode_frame_tile",
    "label_layer",
    "label_points",
    "public_fields",
    "tile",
    "tile_bounds",
]

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24
_HALF_WORLD = 20037508.342789244  # half the EPSG:3857 world width, metres
_TO_MERCATOR = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
LABELLED = ("streets", "communities", "grids")
LABEL_FIELDS = ("code", "name")


class TileError(NotFoundError):
    """A tile address outside the tile pyramid."""


def public_fields(layer: str) -> list[str]:
    """The fields of `layer` a tile may carry (no personal data, no worker names)."""
    spec = get_layer(layer)
    return [f.name for f in spec.fields if not f.personal and f.name not in PUBLIC_HIDDEN]


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """EPSG:3857 bounds (minx, miny, maxx, maxy) of tile z/x/y (XYZ scheme, y from the north)."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise TileError(f"no tile {z}/{x}/{y}: zoom 0–{MAX_ZOOM}, x and y 0–2^z−1")
    size = 2 * _HALF_WORLD / 2**z
    minx = -_HALF_WORLD + x * size
    maxy = _HALF_WORLD - y * size
    return (minx, maxy - size, minx + size, maxy)


def _lonlat(mx: float, my: float) -> tuple[float, float]:
    lon = mx / _HALF_WORLD * 180.0
    lat = math.degrees(2.0 * math.atan(math.exp(my / _HALF_WORLD * math.pi)) - math.pi / 2.0)
    return lon, lat


def label_layer(layer: str) -> str:
    """The name of the MVT layer holding a layer's label points."""
    return f"{layer}_labels"


def tile(store: Store, layer: str, z: int, x: int, y: int) -> bytes:
    """The MVT tile z/x/y of `layer` (an MVT layer named like it, plus its labels); empty tiles are b""."""
    get_layer(layer)
    bounds = tile_bounds(z, x, y)
    native = store.native_tile(layer, z, x, y, columns=public_fields(layer), extent=EXTENT, buffer=BUFFER)
    window = None
    if native is None:
        window = _read_tile_window(store, layer, bounds)
        shapes = encode_frame_tile(window, layer, bounds)
    else:
        shapes = native
    if layer not in LABELLED:
        return shapes
    if window is None:
        window = _read_tile_window(store, layer, bounds)
    # Two encoded tiles concatenated are one tile holding both layers (MVT is a repeated protobuf field).
    return shapes + _label_tile(window, layer, bounds)


def label_points(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """One point inside each area, where its name is drawn: the same whatever the tile or zoom."""
    return np.asarray(shapely.point_on_surface(geoms), dtype=object)


def _label_tile(frame: gpd.GeoDataFrame, layer: str, bounds: tuple[float, float, float, float]) -> bytes:
    """The label points of `frame` that lie in the tile itself (not its buffer), as `<layer>_labels`."""
    if frame.empty:
        return b""
    points = label_points(np.asarray(frame.geometry.values, dtype=object))
    present = ~(shapely.is_empty(points) | shapely.is_missing(points))
    frame, points = frame.loc[present], points[present]
    mx, my = _TO_MERCATOR.transform(shapely.get_x(points), shapely.get_y(points))
    mx, my = np.asarray(mx), np.asarray(my)
    minx, miny, maxx, maxy = bounds
    inside = (mx >= minx) & (mx < maxx) & (my > miny) & (my <= maxy)  # each point in exactly one tile
    if not inside.any():
        return b""
    labels = gpd.GeoDataFrame(
        frame.loc[inside, list(LABEL_FIELDS)].reset_index(drop=True),
        geometry=list(points[inside]),
        crs=frame.crs,
    )
    return encode_frame_tile(labels, layer, bounds, name=label_layer(layer), fields=list(LABEL_FIELDS))


def _buffered(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    pad = (bounds[2] - bounds[0]) * BUFFER / EXTENT
    return (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)


def _read_tile_window(
    store: Store, layer: str, bounds: tuple[float, float, float, float]
) -> gpd.GeoDataFrame:
    minx, miny, maxx, maxy = _buffered(bounds)
    lon0, lat0 = _lonlat(minx, miny)
    lon1, lat1 = _lonlat(maxx, maxy)
    return store.read(layer, bbox=(lon0, lat0, lon1, lat1))


def encode_frame_tile(
    frame: gpd.GeoDataFrame,
    layer: str,
    bounds: tuple[float, float, float, float],
    *,
    name: str | None = None,
    fields: list[str] | None = None,
) -> bytes:
    """Encode a lon/lat frame's features within `bounds` (EPSG:3857) as an MVT tile.

    The MVT layer is named `name` (default: the layer) and carries `fields`
    (default: the layer's public fields).
    """
    if frame.empty:
        return b""
    minx, _, maxx, maxy = bounds
    scale = EXTENT / (maxx - minx)

    def to_tile(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        mx, my = _TO_MERCATOR.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([(np.asarray(mx) - minx) * scale, (maxy - np.asarray(my)) * scale])

    pad = BUFFER
    geoms = shapely.transform(np.asarray(frame.geometry.values, dtype=object), to_tile)
    geoms = shapely.clip_by_rect(geoms, -pad, -pad, EXTENT + pad, EXTENT + pad)
    keep = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    if not keep.any():
        return b""
    carried = [f for f in (fields or public_fields(layer)) if f in frame.columns]
    records = _properties(frame.loc[keep, carried])
    features = [
        {"geometry": geom, "properties": props} for geom, props in zip(geoms[keep], records, strict=True)
    ]
    options = {"extents": EXTENT, "y_coord_down": True, "check_winding_order": True}
    encoded: bytes = mapbox_vector_tile.encode(
        [{"name": name or layer, "features": features}], default_options=options
    )
    return encoded


def _properties(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Row dicts of plain Python values, missing values left out (MVT has no null)."""
    plain = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items() if v is not None} for row in plain.to_dict("records")]
