"""Patrol tracks measured against a grid: time and distance inside it, and the share of its roads walked.

All measuring happens in metres (`gridmap.crs.metric_crs` of the grid), never in degrees.
Between two fixes the worker is taken to walk straight at a steady pace, so the
time inside the grid is each leg's duration times the share of the leg's length
inside it; a leg of no length (standing still) counts when its fix lies inside.
A road counts as walked piece by piece: the grid's roads are cut into pieces of
at most `PIECE_M` metres, and a piece is walked when its midpoint lies within
`WALKED_BUFFER_M` of a track (GPS fixes wander by a few metres either side).
A grid's roads are those within `ROAD_EDGE_M` of it: grids are mostly drawn
along roads, and the road on a grid's edge is the grid's to patrol too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from gridmap.arrays import FloatArray
from gridmap.crs import CRSSpec, from_wgs84, parse_crs, to_metric
from gridmap.errors import Problem, ValidationError
from gridmap.frames import WGS84
from gridmap.texts import Message

WALKED_BUFFER_M = 20.0
"""A road piece counts as walked when a track passes within this many metres of its midpoint."""
ROAD_EDGE_M = 10.0
"""Roads this close to a grid (those along its edge) are among the grid's roads."""
PIECE_M = 25.0
"""Roads are judged in pieces of at most this length, so a long road is walked in proportion."""
MAX_POINTS = 50_000
"""The most fixes one patrol may carry (a day at one fix a second is 43,200 for 12 hours)."""


@dataclass(frozen=True)
class Track:
    """One patrol's fixes: lon/lat (WGS84) and seconds since the first fix, in the order walked."""

    lon: FloatArray
    lat: FloatArray
    seconds: FloatArray

    def __len__(self) -> int:
        return len(self.lon)

    def line(self) -> shapely.Geometry:
        """The track as a lon/lat line (a single fix: a point)."""
        if len(self) == 1:
            return shapely.points(self.lon[0], self.lat[0])
        return shapely.linestrings(np.column_stack([self.lon, self.lat]))


def check_track(lon: npt.ArrayLike, lat: npt.ArrayLike, seconds: npt.ArrayLike, source: str) -> Track:
    """A `Track` from parallel sequences, or a ValidationError naming the first bad fix and why."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    t = np.asarray(seconds, dtype=np.float64)
    problems: list[Problem] = []
    if not len(x):
        problems.append(Problem(None, "track", Message("visit.no_positions")))
    elif len(x) > MAX_POINTS:
        problems.append(
            Problem(None, "track", Message("visit.too_many_positions", n=len(x), most=MAX_POINTS))
        )
    else:
        bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
        if bad.any():
            row = int(np.argmax(bad))
            problems.append(Problem(row, "track", Message("visit.not_lonlat", x=x[row], y=y[row])))
        back = np.flatnonzero(~np.isfinite(t) | (np.diff(t, prepend=t[0]) < 0))
        if len(back):
            problems.append(Problem(int(back[0]), "time", Message("visit.backwards")))
    if problems:
        raise ValidationError(source, problems)
    return Track(x, y, t - t[0])


def metric_area(grid: shapely.Geometry, metric: pyproj.CRS) -> shapely.Geometry:
    """A grid's lon/lat (multi)polygon in `metric`, edges following their curved image, prepared."""
    area = to_metric(gpd.GeoSeries([grid], crs=WGS84), metric)[0]
    shapely.prepare(area)
    return area


def inside_grids(
    tracks: Sequence[Track], areas: npt.NDArray[np.object_], metric: pyproj.CRS
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per track: (metres walked in all, metres inside, seconds inside) its grid's area (`areas[i]`,
    from `metric_area`, for `tracks[i]`). One transformation and one pass over every leg of every
    track, so a year of a district's patrols is measured in seconds; a leg wholly inside (the common
    case, answered by the prepared area) is not cut."""
    n = len(tracks)
    sizes = np.array([len(t) for t in tracks], dtype=np.intp)
    if not n or not sizes.sum():
        return np.zeros(n), np.zeros(n), np.zeros(n)
    lon = np.concatenate([t.lon for t in tracks])
    lat = np.concatenate([t.lat for t in tracks])
    seconds = np.concatenate([t.seconds for t in tracks])
    owner = np.repeat(np.arange(n), sizes)
    x, y = from_wgs84(lon, lat, _spec(metric))
    xy = np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
    leg = np.flatnonzero(owner[1:] == owner[:-1])  # leg i runs from fix i to fix i + 1 of one track
    which = owner[leg]
    area = areas[which]
    legs = shapely.linestrings(np.stack([xy[leg], xy[leg + 1]], axis=1))
    length = shapely.length(legs)
    inside = np.where(shapely.contains(area, legs), length, np.nan)
    cut = np.flatnonzero(np.isnan(inside))
    inside[cut] = shapely.length(shapely.intersection(legs[cut], area[cut]))
    still_inside = shapely.contains_xy(area, xy[leg, 0], xy[leg, 1])
    share = np.divide(inside, length, out=still_inside.astype(np.float64), where=length > 0)
    duration = seconds[leg + 1] - seconds[leg]

    def per_track(values: FloatArray) -> FloatArray:
        return np.bincount(which, weights=values, minlength=n).astype(np.float64)

    return per_track(length), per_track(inside), per_track(duration * share)


def roads_walked(
    roads: gpd.GeoSeries,
    grid: shapely.Geometry,
    tracks: Sequence[Track],
    metric: pyproj.CRS,
    buffer_m: float = WALKED_BUFFER_M,
) -> tuple[float, float]:
    """(metres of the grid's roads, of which walked) by these tracks (see the module's rules)."""
    area = shapely.buffer(metric_area(grid, metric), ROAD_EDGE_M)
    lines = to_metric(roads.to_crs(WGS84), metric) if len(roads) else np.array([], dtype=object)
    parts = shapely.get_parts(shapely.intersection(lines, area))
    parts = parts[(shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)]  # lines, not points
    if not len(parts):
        return 0.0, 0.0
    coords, index = shapely.get_coordinates(shapely.segmentize(parts, PIECE_M), return_index=True)
    same = index[1:] == index[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    length = np.hypot(*(end - start).T)
    if not tracks:
        return float(length.sum()), 0.0
    walked_lines = [shapely.linestrings(_metric_xy(t, metric)) for t in tracks if len(t) > 1]
    walked_points = [shapely.points(_metric_xy(t, metric)[0]) for t in tracks if len(t) == 1]
    walked = shapely.union_all(np.array(walked_lines + walked_points, dtype=object))
    mid = (start + end) / 2
    near = shapely.dwithin(shapely.points(mid), walked, buffer_m)
    return float(length.sum()), float(length[near].sum())


def _metric_xy(track: Track, metric: pyproj.CRS) -> FloatArray:
    """The fixes in metres (a transformation of points; no edge needs densifying)."""
    x, y = from_wgs84(track.lon, track.lat, _spec(metric))
    return np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])


def _spec(metric: pyproj.CRS) -> CRSSpec:
    """The parsed metric CRS (parsing a pyproj CRS looks its EPSG code up: a millisecond per track;
    hashing one writes its WKT: keyed by its definition string instead)."""
    return _parsed(metric.srs)


@lru_cache(maxsize=16)
def _parsed(srs: str) -> CRSSpec:
    return parse_crs(pyproj.CRS(srs))
