"""The dirty twin of the sample district: exactly four planted problems, nothing else.

Each problem moves a single vertex (or adds a few) of the clean lon/lat
geometry, so every other shared vertex stays bit-identical and no other
finding appears. The moved vertices stay within the road margin where no
building, household, speaker or service point lies. data/README.md lists the
codes involved; `PLANTED` is the same list for tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.frames import conform
from gridmap.sample.generate import DEFAULT_SEED, generate

SHIFT_M = 10.0  # how far a grid's edge midpoint is pushed into its neighbour (overlap) or pulled back (gap)
CURL_HALF_M, CURL_DEPTH_M, CURL_RISE_M = 15.0, 20.0, 0.04  # the self-crossing loop on one grid edge
STRAY_NORTH_M = 150.0  # how far north of the district the stray household lies

# Ring positions of an urban grid (counter-clockwise from the north-west corner):
# 0 NW, 1 west mid, 2 SW, 3 south mid, 4 SE, 5 east mid, 6 NE, 7 north mid.
_EAST_MID, _NORTH_MID, _NW = 5, 7, 0


@dataclass(frozen=True)
class Planted:
    """The codes of the four planted problems of the dirty set."""

    overlap: tuple[str, str]  # grid pushed into its neighbour, the neighbour
    gap: tuple[str, str]  # grid pulled back from its neighbour, the neighbour
    self_intersection: str  # grid whose ring crosses itself
    stray_household: str  # household outside every grid


_STREET = "420106001"  # the first street: present at every scale, and its layout rules fix these neighbours
PLANTED = Planted(
    overlap=(f"{_STREET}001001", f"{_STREET}001002"),  # grids 001 and 002 of a community share an edge
    gap=(f"{_STREET}002001", f"{_STREET}002002"),
    self_intersection=f"{_STREET}003001",
    stray_household=f"{_STREET}001001" + "0000" + "0001",  # building number 0000: no such building
)


def generate_dirty(scale: int = 1, seed: int = DEFAULT_SEED) -> dict[str, gpd.GeoDataFrame]:
    """The sample district with an overlap, a gap, a self-intersecting grid and a stray household."""
    frames = generate(scale, seed)
    grids = frames["grids"].copy()
    pushed, pulled, curled = PLANTED.overlap[0], PLANTED.gap[0], PLANTED.self_intersection
    where = {code: int(np.flatnonzero(grids["code"] == code)[0]) for code in (pushed, pulled, curled)}
    rings = {code: _ring(grids.geometry.iloc[i]) for code, i in where.items()}
    metres = _metres_per_degree(float(rings[pushed][0, 1]))

    rings[pushed][_EAST_MID, 0] += SHIFT_M / metres[0]
    rings[pulled][_EAST_MID, 0] -= SHIFT_M / metres[0]
    rings[curled] = _with_curl(rings[curled], metres)
    for code in (pushed, pulled, curled):
        ring = np.round(rings[code], 7)
        ring[-1] = ring[0]
        grids.loc[where[code], "geometry"] = shapely.MultiPolygon([shapely.Polygon(ring)])
    frames["grids"] = grids

    households = frames["households"]
    north = shapely.get_coordinates(frames["streets"].geometry.values)[:, 1].max()
    west_grid = grids.geometry.iloc[where[pushed]]
    stray = pd.DataFrame(
        {
            "code": [PLANTED.stray_household],
            "address": ["临时安置点1号"],
            "size": [2],
            "contact_name": ["王建国"],
            "contact_phone": ["13800000000"],
        }
    )
    lon = round(float(west_grid.centroid.x), 7)
    lat = round(north + STRAY_NORTH_M / metres[1], 7)
    stray_frame = gpd.GeoDataFrame(stray, geometry=[shapely.Point(lon, lat)], crs=households.crs)
    merged = pd.concat([households, conform("households", stray_frame)])
    frames["households"] = conform("households", merged).sort_values("code", ignore_index=True)
    return frames


def _ring(geom: shapely.Geometry) -> np.ndarray:
    """The exterior ring coordinates of a one-part (Multi)Polygon."""
    return np.array(shapely.get_exterior_ring(shapely.get_geometry(geom, 0)).coords)


def _metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and latitude near `lat` (enough for a 10 m nudge)."""
    return 111_320.0 * math.cos(math.radians(lat)), 110_574.0


def _with_curl(ring: np.ndarray, metres: tuple[float, float]) -> np.ndarray:
    """Insert a small loop on the north edge that crosses itself (a bow-tie), inside the grid.

    The crossing lies `CURL_RISE_M / 2` inside the edge, so repairing the ring
    loses only a sliver of about 0.3 m², below any sensible gap tolerance: the
    problem to report is the invalid ring, nothing else.
    """
    nw, mid = ring[_NW], ring[_NORTH_MID]
    along = (mid - nw) * np.array(metres)
    u = along / np.linalg.norm(along)
    # The counter-clockwise ring walks this edge westward (mid → NW), interior on its left.
    inward = np.array([u[1], -u[0]])
    centre = (nw + mid) / 2 * np.array(metres)

    def at(a: float, b: float) -> np.ndarray:
        return (centre + a * u + b * inward) / np.array(metres)

    curl = [
        at(CURL_HALF_M, 0.0),
        at(-CURL_HALF_M, CURL_RISE_M),
        at(0.0, CURL_DEPTH_M),
        at(CURL_HALF_M, CURL_RISE_M),
        at(-CURL_HALF_M, 0.0),
    ]
    return np.vstack([ring[: _NORTH_MID + 1], curl, ring[_NORTH_MID + 1 :]])
