"""Which grid a case belongs to: the same rule and the same code as a lookup.

A case at an address belongs to the grid of the building the address names
(`LookupService.by_address`); a case given only by a point belongs to the
grid `LookupService.by_point` finds for it, in any supported CRS. Routing
never forks the lookup: whatever rule lookups follow, cases follow — so an
address on a known road whose house number the register lacks is routed to
the grid a lookup interpolates (no building, and no point unless one is
given), and one the lookup cannot place is refused with its candidate grids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gridmap.crs import to_wgs84
from gridmap.errors import Problem, ValidationError
from gridmap.lookup import LookupService
from gridmap.privacy import Role
from gridmap.stores import Store


@dataclass(frozen=True)
class Place:
    """Where a case is: its derived grid, community, street (and building), and its point in WGS84."""

    grid_code: str
    community_code: str | None
    street_code: str | None
    building_code: str | None
    lon: float | None
    lat: float | None


def route(
    lookup: LookupService,
    store: Store,
    *,
    address: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
) -> Place:
    """The place of a case given by an address, a point, or both (the address decides the grid).

    Raises the lookup's own errors: an unknown address (with suggestions and,
    for a number the register lacks, candidate grids), a point or building in
    no grid, an unknown CRS.
    """
    address = (address or "").strip() or None
    has_point = lon is not None and lat is not None
    if address is None and not has_point:
        problems = [Problem(None, "address", "give an address, or both lon and lat")]
        raise ValidationError("case", problems)
    point: tuple[float, float] | None = None
    if has_point:
        assert lon is not None and lat is not None
        if not (np.isfinite(lon) and np.isfinite(lat)):
            raise ValidationError("case", [Problem(None, "lon", "lon and lat must be finite numbers")])
        x, y = to_wgs84(np.array([lon]), np.array([lat]), crs)
        point = (float(x[0]), float(y[0]))
    reply = (
        lookup.by_address(address, Role.ADMIN)
        if address is not None
        else lookup.by_point(float(lon or 0.0), float(lat or 0.0), crs, Role.ADMIN)
    )
    building = reply.get("building") or None
    building_code = building["code"] if building else None
    if point is None and building_code is not None:
        point = _building_point(store, building_code)
    community = reply.get("community") or {}
    street = reply.get("street") or {}
    return Place(
        grid_code=reply["grid"]["code"],
        community_code=community.get("code"),
        street_code=street.get("code"),
        building_code=building_code,
        lon=point[0] if point else None,
        lat=point[1] if point else None,
    )


def _building_point(store: Store, code: str) -> tuple[float, float] | None:
    """A point inside the building (its representative point), where the case is drawn."""
    found = store.read("buildings", codes=[code])
    if found.empty or found.geometry.iloc[0] is None:
        return None
    inside = shapely.point_on_surface(found.geometry.iloc[0])
    return float(inside.x), float(inside.y)
