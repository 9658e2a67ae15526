"""并单: a new report that repeats a case nearby is proposed as its duplicate, for an editor to confirm.

A report repeats a case when it has the same subcategory, lies within
`radius_m` (50 m by default) of it — whatever grid either lies in — and that
case is still open or closed within the last `closed_days` (7) days. The
store narrows the candidates to a box around the point; the distance is
the great-circle distance in metres (at 50 m it differs from a projected
one by millimetres).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), for great-circle distances."""


@dataclass(frozen=True)
class DuplicateRule:
    """How near and how recent a case must be for a new report to be proposed as its duplicate."""

    radius_m: float = 50.0
    closed_days: int = 7

    def closed_since(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(days=self.closed_days)


def bbox_around(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box holding every point within `radius_m` of (lon, lat) (a little more, never less)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * 1.01
    dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def nearest(
    candidates: Iterable[Mapping[str, Any]], lon: float, lat: float, radius_m: float
) -> list[tuple[Mapping[str, Any], float]]:
    """The candidates within `radius_m` of the point, nearest first, with their distances."""
    found = [
        (case, distance_m(lon, lat, float(case["lon"]), float(case["lat"])))
        for case in candidates
        if case.get("lon") is not None and case.get("lat") is not None
    ]
    return sorted((f for f in found if f[1] <= radius_m), key=lambda f: (f[1], f[0]["code"]))
