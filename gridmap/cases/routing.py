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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap.arrays import IntArray
from gridmap.assignment import BuildingLocator, GridLocator, index_in, point_grids
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


Placing = Callable[[npt.ArrayLike, npt.ArrayLike], list[Place]]
"""The places of many cases given by WGS84 points (`route_points` with a lookup, or `HeldPlaces`)."""


def route_points(lookup: LookupService, store: Store, lon: npt.ArrayLike, lat: npt.ArrayLike) -> list[Place]:
    """The places of many cases given by WGS84 points alone, located in one call (what `route` gives
    each; a missing coordinate is a case given nothing, kept unplaced)."""
    snapshot = lookup.snapshot()

    def placed(grid: int, building: int, point: tuple[float, float]) -> Place:
        return _placed(store, snapshot.point_answer(grid, building, Role.ADMIN), point, "point")

    return _located(lon, lat, lambda x, y: snapshot.by_points(x, y, "wgs84"), placed)


@dataclass(frozen=True)
class HeldPlaces:
    """`route_points` from layers and indexes a caller holds already, with no lookup snapshot.

    The serving builder keeps the grids, communities, streets and buildings of the revision it
    analysed, with their grid and building indexes; a lookup snapshot (the whole register read
    again and its address index built: seconds and hundreds of megabytes at city scale, held for
    the builder's life) would only say again what these say. A point takes the grid
    `gridmap.assignment.point_grids` gives it, the lookup's own rule on the same indexes; the
    community and street are the grid's, as far as those layers hold them, as a lookup names them.
    """

    locator: GridLocator
    inside: BuildingLocator
    building_codes: npt.NDArray[np.object_]
    """The codes of the buildings `inside` indexes, in its order."""
    building_grid: IntArray
    """Each of those buildings' grid, as a position among `locator.codes` (-1: none)."""
    community_of: Mapping[str, str | None]
    """Grid code → its community's code, when the communities layer holds it."""
    street_of: Mapping[str, str | None]
    """Community code → its street's code, when the streets layer holds it."""

    @classmethod
    def of(
        cls, frames: Mapping[str, gpd.GeoDataFrame], locator: GridLocator, inside: BuildingLocator
    ) -> HeldPlaces:
        """Over `frames` (grids, communities, streets, and buildings with `grid_code` derived) and
        the indexes of their grids (`locator`) and buildings (`inside`)."""
        buildings = frames["buildings"]
        streets = set(_texts(frames["streets"]["code"]))
        street_of = _mapping(frames["communities"], "street_code")
        return cls(
            locator=locator,
            inside=inside,
            building_codes=buildings["code"].astype(str).to_numpy(dtype=object),
            building_grid=index_in(buildings["grid_code"], locator.codes),
            community_of={
                grid: c if c in street_of else None
                for grid, c in _mapping(frames["grids"], "community_code").items()
            },
            street_of={c: s if s in streets else None for c, s in street_of.items()},
        )

    def __call__(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> list[Place]:
        """The places `route_points` gives these WGS84 points."""

        def locate(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[IntArray, IntArray]:
            return point_grids(self.locator, self.inside, self.building_grid, x, y)

        return _located(lon, lat, locate, self._placed)

    def _placed(self, grid: int, building: int, point: tuple[float, float]) -> Place:
        code = str(self.locator.codes[grid])
        community = self.community_of.get(code)
        return Place(
            grid_code=code,
            community_code=community,
            street_code=self.street_of.get(community) if community is not None else None,
            building_code=str(self.building_codes[building]) if building >= 0 else None,
            lon=point[0],
            lat=point[1],
            placed_by="point",
        )


def _located(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    locate: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], tuple[IntArray, IntArray]],
    placed: Callable[[int, int, tuple[float, float]], Place],
) -> list[Place]:
    """Points located in one call (`locate`: grid and building positions, -1 for none), each in its
    grid (`placed`), one outside every grid or without coordinates kept unplaced with the reason."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    given = np.isfinite(x) & np.isfinite(y)
    grids, buildings = locate(np.where(given, x, 0.0), np.where(given, y, 0.0))
    places = []
    for at, (gx, gy, grid, building) in enumerate(zip(x, y, grids, buildings, strict=True)):
        if not given[at]:
            places.append(Place(None, None, None, None, None, None, why=Message("case.why.nothing")))
        elif grid < 0:
            places.append(
                Place(None, None, None, None, float(gx), float(gy), why=Message("case.why.point_outside"))
            )
        else:
            places.append(placed(int(grid), int(building), (float(gx), float(gy))))
    return places


def _texts(values: pd.Series) -> list[str | None]:
    """A text column as a list, None for a missing value."""
    return [v if isinstance(v, str) else None for v in values.astype(object)]


def _mapping(frame: pd.DataFrame, column: str) -> dict[str, str | None]:
    """Each row's code → its text `column` (None when missing)."""
    pairs = zip(_texts(frame["code"]), _texts(frame[column]), strict=True)
    return {code: value for code, value in pairs if code is not None}


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
