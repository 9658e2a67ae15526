"""Zooms at which map features become readable, from the real size of the units they belong to.

Thresholds are computed from the data, never fixed: a one-street district
and a 200-street city get the same look at the zoom where their units have
the same size on screen.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from gridmap.crs import metric_crs

METRES_PER_PX_Z0 = 156_543.03
"""Web Mercator ground resolution at zoom 0 on the equator (256-pixel tiles)."""
MAX_ZOOM = 20
COUNT_PX = 48
"""A median grid this wide on screen shows each grid's uncovered households as a numbered bubble
(22-40 px): narrower, the bubbles would hide the grids' colours."""
CELL_PX = 300
"""A median grid this wide has room for several bubbles: its count splits into cells."""


def metres_per_px_z0(lat: float) -> float:
    """Metres one screen pixel spans at zoom 0 at latitude `lat` (halves with each zoom)."""
    return float(METRES_PER_PX_Z0 * np.cos(np.radians(lat)))


def unit_sizes(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit, in metres: the side of a square of its area, its bounding box width and height."""
    metric = frame.geometry.to_crs(metric_crs(frame))
    side = np.sqrt(np.maximum(metric.area.to_numpy(), 1.0))
    bounds = metric.bounds
    width = np.maximum((bounds["maxx"] - bounds["minx"]).to_numpy(), 1.0)
    height = np.maximum((bounds["maxy"] - bounds["miny"]).to_numpy(), 1.0)
    return side, width, height


def zoom_where(size_m: float, px: float, lat: float) -> int:
    """The first whole zoom at which `size_m` metres span at least `px` screen pixels."""
    return int(np.clip(np.ceil(np.log2(metres_per_px_z0(lat) * px / size_m)), 0, MAX_ZOOM))


def count_zooms(grids: gpd.GeoDataFrame) -> tuple[int, int]:
    """Where grid counts become numbered bubbles and where cells take over, from the grids' size."""
    side, _, _ = unit_sizes(grids)
    median = float(np.median(side))
    lat = float(np.mean(grids.total_bounds[[1, 3]]))
    return zoom_where(median, COUNT_PX, lat), zoom_where(median, CELL_PX, lat)
