"""Speaker and service point coverage of households, in metres.

- Speaker coverage: a household is covered when it lies within the range of a
  `working` speaker; broken speakers cover nothing.
- Service coverage: a household is covered when it lies within `radius_m` of a
  service point.

Speaker range. When a speaker has both `power_w` (> 0) and `sensitivity_db`
(its datasheet SPL at 1 W and 1 m), its range comes from the inverse-square
law: the sound pressure level at r metres is

    SPL(r) = sensitivity_db + 10·lg(power_w) − 20·lg(r)

and the speaker is audible while SPL(r) ≥ ambient_db + margin_db, so

    r = 10 ** ((sensitivity_db + 10·lg(power_w) − ambient_db − margin_db) / 20).

Defaults: 55 dB(A) ambient (an urban residential street by day) and a 15 dB
margin for intelligible speech; a 110 dB / 50 W horn then reaches about 707 m.
The datasheet figures win over `radius_m` because canonical frames always
carry a `radius_m` (the catalogue fills 300 m when the input had none), so a
speaker with measured power and sensitivity would otherwise never use them.
A speaker without both figures uses `radius_m`.

Distances go through a `DistanceModel`. `StraightLine` is the one used today;
a walking-network model (distance along paths to the service point) fits the
same seam by answering the same question for the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from gridmap.arrays import BoolArray, FloatArray
from gridmap.crs import transformer
from gridmap.errors import CRSError

DEFAULT_SPEAKER_RADIUS_M = 300.0
DEFAULT_SERVICE_RADIUS_M = 500.0


class DistanceModel(Protocol):
    """Answers which origins lie within reach of at least one site (metric coordinates)."""

    def reached(self, origins: FloatArray, sites: FloatArray, radii: FloatArray) -> BoolArray:
        """For each origin (n × 2 metres), whether some site (m × 2) lies within its own radius (m)."""
        ...


@dataclass(frozen=True)
class StraightLine:
    """Euclidean distance in the metric CRS, exact with per-site radii.

    Three KD-tree passes, each settling what it can so the next has less to do:

    1. Origins are binned into square cells (an eighth of the median radius,
       larger where origins are spread thin, up to half of it); a cell lying
       wholly inside its centre's nearest site's range settles every origin
       in it. Households cluster in buildings, so most settle here. Skipped
       when origins hardly share cells.
    2. Each remaining origin's nearest site: within that site's radius, it is reached.
    3. The rest take one exact nearest-neighbour query with the sites lifted
       to (x, y, √(R² − r²)), R the largest radius: the squared distance from
       an origin (x', y', 0) is d² + R² − r², so "d ≤ r for some site" becomes
       "the nearest lifted site is within R".

    `workers` is passed to scipy's KD-tree queries (-1: all cores).
    """

    workers: int = -1

    def reached(self, origins: FloatArray, sites: FloatArray, radii: FloatArray) -> BoolArray:
        out = np.zeros(len(origins), dtype=bool)
        usable = np.isfinite(radii) & (radii >= 0) & np.isfinite(sites).all(axis=1)
        if not usable.any() or len(origins) == 0:
            return out
        sites, radii = sites[usable], radii[usable]
        # Work relative to the sites' centre so squares stay exact in float64.
        centre = sites.mean(axis=0)
        flat = sites - centre
        big = float(radii.max())
        reach = big * (1 + 1e-12) + 1e-9
        tree = cKDTree(flat)
        todo = np.flatnonzero(np.isfinite(origins).all(axis=1))
        query = origins[todo] - centre

        settled = self._whole_cells(tree, query, radii, reach)
        todo, query = todo[~settled], query[~settled]
        out[np.flatnonzero(np.isfinite(origins).all(axis=1))[settled]] = True

        dist, nearest = tree.query(query, k=1, distance_upper_bound=reach, workers=self.workers)
        found = nearest < len(flat)
        hit = np.zeros(len(todo), dtype=bool)
        hit[found] = dist[found] <= radii[nearest[found]]
        out[todo[hit]] = True
        rest = ~hit & found  # some site lies within the largest radius, but the nearest one falls short
        if rest.any():
            lifted = cKDTree(np.column_stack([flat, np.sqrt(big * big - radii * radii)]))
            third = np.zeros((int(rest.sum()), 1))
            far, _ = lifted.query(
                np.hstack([query[rest], third]), k=1, distance_upper_bound=reach, workers=self.workers
            )
            out[todo[rest]] = far <= reach
        return out

    def _whole_cells(self, tree: cKDTree, query: FloatArray, radii: FloatArray, reach: float) -> BoolArray:
        """Origins in a cell that one site's range wholly contains (pass 1)."""
        # An eighth of the typical radius, or larger where origins are spread thin (about 8 per cell).
        extent = np.ptp(query, axis=0) if len(query) else np.zeros(2)
        spread = float(np.sqrt(max(extent[0] * extent[1], 1.0) * 8.0 / max(len(query), 1)))
        typical = float(np.median(radii))
        size = max(min(max(typical / 8.0, spread), typical / 2.0), 1.0)
        cell = np.floor(query / size).astype(np.int64)
        codes, unique = pd.factorize(cell[:, 0] * (1 << 32) + cell[:, 1])
        if len(unique) * 4 > len(query):
            return np.zeros(len(query), dtype=bool)
        first = np.empty(len(unique), dtype=np.intp)
        first[codes[::-1]] = np.arange(len(query))[::-1]
        centres = (cell[first] + 0.5) * size
        half = size * np.sqrt(0.5)
        dist, nearest = tree.query(centres, k=1, distance_upper_bound=reach + half, workers=self.workers)
        found = nearest < tree.n
        whole = np.zeros(len(unique), dtype=bool)
        whole[found] = dist[found] + half <= radii[nearest[found]]
        return whole[codes]


@dataclass(frozen=True)
class CoverageOptions:
    """How ranges are decided: acoustic ambient and margin, and the distance model of each kind."""

    ambient_db: float = 55.0
    margin_db: float = 15.0
    speaker_distance: DistanceModel = field(default_factory=StraightLine)
    service_distance: DistanceModel = field(default_factory=StraightLine)


def audible_radius_m(
    power_w: npt.ArrayLike,
    sensitivity_db: npt.ArrayLike,
    ambient_db: float = 55.0,
    margin_db: float = 15.0,
) -> FloatArray:
    """Distance in metres at which a speaker falls to `ambient_db + margin_db` (inverse-square law).

    NaN where power is missing or not positive, or sensitivity is missing.
    """
    power = np.asarray(power_w, dtype=np.float64)
    sens = np.asarray(sensitivity_db, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = sens + 10.0 * np.log10(power) - ambient_db - margin_db
        radius = np.power(10.0, level / 20.0)
    return np.where((power > 0) & np.isfinite(radius), radius, np.nan)


def speaker_radii(speakers: gpd.GeoDataFrame, options: CoverageOptions | None = None) -> FloatArray:
    """Range of each speaker in metres: acoustic when power and sensitivity are set, else `radius_m`."""
    opts = options or CoverageOptions()
    stated = _column(speakers, "radius_m", DEFAULT_SPEAKER_RADIUS_M)
    acoustic = audible_radius_m(
        _column(speakers, "power_w", np.nan),
        _column(speakers, "sensitivity_db", np.nan),
        opts.ambient_db,
        opts.margin_db,
    )
    return np.where(np.isnan(acoustic), stated, acoustic)


def service_radii(service_points: gpd.GeoDataFrame) -> FloatArray:
    """Service radius of each point in metres (`radius_m`, 500 where missing)."""
    return _column(service_points, "radius_m", DEFAULT_SERVICE_RADIUS_M)


def working(speakers: gpd.GeoDataFrame) -> BoolArray:
    """Which speakers are working (a missing status counts as working, the catalogue default)."""
    status = speakers["status"].astype("string").fillna("working").str.strip().str.lower()
    return (status == "working").to_numpy(dtype=bool)


def metric_xy(frame: gpd.GeoDataFrame, crs: pyproj.CRS) -> FloatArray:
    """n × 2 metric coordinates of a point frame (NaN rows where the geometry is missing)."""
    if frame.crs is None:
        raise CRSError("frame has no CRS")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    tx, ty = transformer(frame.crs, crs).transform(x, y)
    return np.column_stack([np.asarray(tx, dtype=np.float64), np.asarray(ty, dtype=np.float64)])


def speaker_coverage(
    households_xy: FloatArray,
    speakers: gpd.GeoDataFrame,
    crs: pyproj.CRS,
    options: CoverageOptions | None = None,
) -> BoolArray:
    """Whether each household (metric n × 2 in `crs`) is within range of a working speaker."""
    opts = options or CoverageOptions()
    on = working(speakers)
    sites = metric_xy(speakers, crs)[on]
    return opts.speaker_distance.reached(households_xy, sites, speaker_radii(speakers, opts)[on])


def service_coverage(
    households_xy: FloatArray,
    service_points: gpd.GeoDataFrame,
    crs: pyproj.CRS,
    options: CoverageOptions | None = None,
) -> BoolArray:
    """Whether each household (metric n × 2 in `crs`) is within `radius_m` of a service point."""
    opts = options or CoverageOptions()
    sites = metric_xy(service_points, crs)
    return opts.service_distance.reached(households_xy, sites, service_radii(service_points))


def speaker_ranges(
    speakers: gpd.GeoDataFrame, crs: pyproj.CRS, options: CoverageOptions | None = None
) -> npt.NDArray[np.object_]:
    """Circles (in `crs`) reached by each working speaker, for uncovered-area geometry."""
    on = working(speakers)
    xy = metric_xy(speakers, crs)[on]
    radii = speaker_radii(speakers, options)[on]
    keep = np.isfinite(xy).all(axis=1) & np.isfinite(radii) & (radii > 0)
    return shapely.buffer(shapely.points(xy[keep]), radii[keep], quad_segs=16)


def _column(frame: gpd.GeoDataFrame, name: str, default: float) -> FloatArray:
    """A real column as float64 with `default` for missing values (or a missing column)."""
    if name not in frame.columns:
        return np.full(len(frame), default, dtype=np.float64)
    values = frame[name].astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isnan(values), default, values)
