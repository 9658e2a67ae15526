"""Which grid a case belongs to: the same rule and the same code as a lookup.

A case at an address belongs to the grid of the building the address names
(`LookupService.by_address`); a case given only by a point belongs to the
grid `LookupService.by_point` finds for it, in any supported CRS. Routing
never forks the lookup: whatever rule lookups follow, cases follow — so an
address on a known road whose house number the register lacks is routed to
the grid a lookup interpolates (no building, and no point unless one is
given).

A case is always taken (a hotline cannot hang up on a caller): an address
the register does not know falls back to the point, and a case with neither
a known address nor a point in a grid is kept unplaced (待定位), with the
lookup's suggestions (and candidate grids), for an editor to place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from gridmap.crs import to_wgs84
from gridmap.errors import Problem, ValidationError
from gridmap.lookup import AddressNotFoundError, LookupService, OutsideError
from gridmap.privacy import Role
from gridmap.stores import Store
from gridmap.texts import Message


@dataclass(frozen=True)
class Place:
    """Where a case is: its derived grid, community, street (and building), and its point in WGS84.

    `placed_by` says how (address, point, editor); an unplaced case has no grid and `why` says why,
    with the addresses the register suggests.
    """

    grid_code: str | None
    community_code: str | None
    street_code: str | None
    building_code: str | None
    lon: float | None
    lat: float | None
    placed_by: str | None = None
    why: str | None = None
    suggestions: tuple[str, ...] = ()


def route(
    lookup: LookupService,
    store: Store,
    *,
    address: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
) -> Place:
    """The place of a case given by an address, a point, both, or neither (the address decides the grid).

    An unknown address, a point in no grid, or nothing at all give an
    unplaced Place; malformed input (half a point, an unknown CRS) still
    raises.
    """
    address = (address or "").strip() or None
    if (lon is None) != (lat is None):
        raise ValidationError(Message("case.source_new"), [Problem(None, "lon", Message("case.half_point"))])
    point: tuple[float, float] | None = None
    if lon is not None and lat is not None:
        if not (np.isfinite(lon) and np.isfinite(lat)):
            raise ValidationError(
                Message("case.source_new"), [Problem(None, "lon", Message("case.not_finite"))]
            )
        x, y = to_wgs84(np.array([lon]), np.array([lat]), crs)
        point = (float(x[0]), float(y[0]))
    why = Message("case.why.nothing")
    suggestions: tuple[str, ...] = ()
    if address is not None:
        try:
            return _placed(store, lookup.by_address(address, Role.ADMIN), point, "address")
        except AddressNotFoundError as exc:
            why = Message("case.why.not_registered", address=address)
            if exc.candidates:
                grids = reduce(
                    lambda first, second: Message("case.or", first=first, second=second), exc.candidates
                )
                why = Message("case.why.maybe_grid", why=why, grids=grids)
            suggestions = tuple(str(s.get("address") or s) for s in (exc.suggestions or ())[:5])
        except OutsideError:
            why = Message("case.why.building_outside", address=address)
    if point is not None:
        try:
            return _placed(store, lookup.by_point(point[0], point[1], "wgs84", Role.ADMIN), point, "point")
        except OutsideError:
            why = Message("case.why.also_point", why=why) if address else Message("case.why.point_outside")
    return Place(
        None,
        None,
        None,
        None,
        point[0] if point else None,
        point[1] if point else None,
        why=why,
        suggestions=suggestions,
    )


def route_points(lookup: LookupService, store: Store, lon: npt.ArrayLike, lat: npt.ArrayLike) -> list[Place]:
    """The places of many cases given by WGS84 points alone, located in one call (what `route` gives
    each; a missing coordinate is a case given nothing, kept unplaced)."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    given = np.isfinite(x) & np.isfinite(y)
    snapshot = lookup.snapshot()
    grids, buildings = snapshot.by_points(np.where(given, x, 0.0), np.where(given, y, 0.0), "wgs84")
    places = []
    for at, (gx, gy, grid, building) in enumerate(zip(x, y, grids, buildings, strict=True)):
        if not given[at]:
            places.append(Place(None, None, None, None, None, None, why=Message("case.why.nothing")))
        elif grid < 0:
            places.append(
                Place(None, None, None, None, float(gx), float(gy), why=Message("case.why.point_outside"))
            )
        else:
            reply = snapshot.point_answer(int(grid), int(building), Role.ADMIN)
            places.append(_placed(store, reply, (float(gx), float(gy)), "point"))
    return places


def _placed(store: Store, reply: dict[str, Any], point: tuple[float, float] | None, method: str) -> Place:
    """A lookup's reply as the place of a case (drawn inside its building when no point was given)."""
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
        placed_by=method,
    )


def _building_point(store: Store, code: str) -> tuple[float, float] | None:
    """A point inside the building (its representative point), where the case is drawn."""
    found = store.read("buildings", codes=[code])
    if found.empty or found.geometry.iloc[0] is None:
        return None
    inside = shapely.point_on_surface(found.geometry.iloc[0])
    return float(inside.x), float(inside.y)


def place_in_grid(store: Store, grid: str) -> Place:
    """The place of a case an editor puts in grid `grid` by hand (its community and street from the store)."""
    grids = store.read("grids", codes=[grid])
    if grids.empty:
        raise ValidationError(
            Message("case.source_new"), [Problem(None, "grid", Message("case.no_grid", grid=repr(grid)))]
        )
    community = grids["community_code"].iloc[0]
    communities = store.read("communities", codes=[community]) if isinstance(community, str) else None
    street = communities["street_code"].iloc[0] if communities is not None and not communities.empty else None
    return Place(
        grid_code=grid,
        community_code=community if isinstance(community, str) else None,
        street_code=street if isinstance(street, str) else None,
        building_code=None,
        lon=None,
        lat=None,
        placed_by="editor",
    )
