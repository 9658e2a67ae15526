"""Which grid owns an address or a point: in-memory indexes over one store.

Integrators ask this thousands of times a day, so the answer comes from
memory: a `GridLocator` (the same index and edge tie-break as the analysis)
and an `AddressIndex` over the building register. The indexes are rebuilt
when `store.revision()` changes; the revision is polled at most every
`refresh_seconds` (0.5 s by default), so a write through any process is seen
by every process within a second without a query per lookup.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt

from gridmap.address import AddressIndex, Match
from gridmap.assignment import BuildingLocator, GridLocator, building_grids, point_grids
from gridmap.crs import parse_crs, to_wgs84
from gridmap.errors import CRSError, NotFoundError
from gridmap.lookup_patch import (
    BOUNDARY_LAYERS,
    Boundaries,
    index_by_code,
    patched_rows,
    records,
    with_boundaries,
    with_buildings,
)
from gridmap.privacy import Role
from gridmap.stores import Store
from gridmap.texts import Message
from gridmap.versions import parse_date

__all__ = [
    "AddressNotFoundError",
    "LookupService",
    "OutsideError",
    "Query",
    "Snapshot",
]

MAX_SUGGESTIONS = 5
INTERPOLATED_SCORE = 0.8
"""The score of an interpolated answer: the grid is known (both neighbours share it), the building not."""
MAX_DATED = 8
"""Snapshots of past dates kept per service (an "as of" lookup reads and indexes that date's boundaries)."""
LOOKUP_LAYERS = frozenset({"streets", "communities", "grids", "buildings"})
"""The layers a snapshot is built from; edits elsewhere (households, speakers…) need no rebuild."""

Stamps = dict[str, dt.datetime | None]
log = logging.getLogger(__name__)
PATCH_MOST = 10_000
"""A refresh patches the snapshot with at most this many features the log names; more are read whole."""


class AddressNotFoundError(NotFoundError):
    """No building matches an address; carries up to five suggestions.

    `candidates` are the grids a house number the register lacks may lie in,
    when it is on a road the register holds but its registered neighbours are
    in different grids (or it lies past them, or across the road from them).
    """

    reason = "not_found"

    def __init__(
        self, address: str, suggestions: list[dict[str, Any]], candidates: Sequence[str] = ()
    ) -> None:
        if candidates:
            super().__init__(
                Message("lookup.no_building_near", address=repr(address), grids=" / ".join(candidates))
            )
        else:
            super().__init__(Message("lookup.no_building", address=repr(address)))
        self.suggestions = suggestions
        self.candidates = list(candidates)


class OutsideError(NotFoundError):
    """A point (or a matched building) that no grid contains."""

    reason = "outside"


@dataclass(frozen=True)
class Snapshot:
    """Everything a lookup needs, built from one store revision and never mutated.

    It keeps the boundaries it was built from and each building's code and
    geometry, so an edit is patched in (`patched`) from the rows it touched.
    """

    revision: str
    stamps: Stamps
    locator: GridLocator
    grid_rows: dict[Role, list[dict[str, Any]]]
    grid_community: list[str | None]
    communities: dict[str, dict[str, Any]]
    streets: dict[str, dict[str, Any]]
    buildings: dict[str, int]
    """Building code → row of `building_rows`, `building_grid`, `building_codes` and `building_geoms`."""
    building_rows: list[dict[str, Any]]
    building_grid: npt.NDArray[np.intp]
    building_locator: BuildingLocator
    addresses: AddressIndex
    bounds: Boundaries
    """The grids, communities and streets the indexes hold (positions in `locator` are rows of its grids)."""
    building_codes: npt.NDArray[np.object_]
    building_geoms: npt.NDArray[np.object_]
    position: int | None = None
    """The store's log position the snapshot is at least as recent as (None: unknown, never patched)."""

    @classmethod
    def load(
        cls,
        store: Store,
        revision: str,
        stamps: Stamps | None = None,
        *,
        addresses: AddressIndex | None = None,
        position: int | None = None,
    ) -> Snapshot:
        """Read the four layers a lookup touches and index them (`addresses`: an index of the same buildings).

        The address index learns the street and community names and, per
        building, where it lies, from these boundaries (cheap: the register's
        own indexes are kept).
        """
        bounds = Boundaries(store.read("grids"), store.read("communities"), store.read("streets"))
        return cls.build(revision, stamps or {}, bounds, store.read("buildings"), addresses, position)

    @classmethod
    def build(
        cls,
        revision: str,
        stamps: Stamps,
        bounds: Boundaries,
        buildings: gpd.GeoDataFrame,
        addresses: AddressIndex | None = None,
        position: int | None = None,
    ) -> Snapshot:
        """The snapshot of these boundaries and buildings (`addresses`: an index of the same buildings)."""
        # A building's grid is derived here (largest area share), never trusted from the store.
        b_grid = building_grids(bounds.grids, buildings, bounds.metric)
        b_rows = records(buildings, ("code", "name", "address"))
        places, areas = bounds.places(), bounds.building_areas(b_grid)
        codes = buildings["code"].astype(str).to_numpy(dtype=object)
        geoms = np.asarray(buildings.geometry.values, dtype=object)
        return cls(
            revision=revision,
            stamps=stamps,
            locator=GridLocator(bounds.grids),
            grid_rows=bounds.grid_rows(),
            grid_community=bounds.grid_community(),
            communities=index_by_code(bounds.communities, ("code", "name", "street_code")),
            streets=index_by_code(bounds.streets, ("code", "name")),
            buildings={row["code"]: i for i, row in enumerate(b_rows)},
            building_rows=b_rows,
            building_grid=b_grid,
            building_locator=BuildingLocator.of(codes, geoms),
            addresses=addresses.with_places(places, areas)
            if addresses is not None
            else AddressIndex(buildings, places=places, areas=areas),
            bounds=bounds,
            building_codes=codes,
            building_geoms=geoms,
            position=position,
        )

    def patched(
        self, store: Store, touched: Mapping[str, Sequence[str]], revision: str, stamps: Stamps, position: int
    ) -> Snapshot:
        """This snapshot with the features `touched` (layer → codes) as the store now holds them.

        Only those rows are read. The boundaries are small and patched whole;
        a grid's attributes alone re-index nothing, a redrawn grid re-indexes the
        grids and places again only the buildings near it; an edited building is
        placed alone (`gridmap.lookup_patch`). Equal, lookup for lookup, to `load`.
        """
        snap = self
        redrawn = {name: list(touched[name]) for name in BOUNDARY_LAYERS if touched.get(name)}
        if redrawn:
            layers = {
                name: self.bounds.frame(name)
                if name not in redrawn
                else patched_rows(
                    self.bounds.frame(name), store.read(name, codes=redrawn[name]), redrawn[name]
                )
                for name in BOUNDARY_LAYERS
            }
            bounds = Boundaries(layers["grids"], layers["communities"], layers["streets"])
            snap = with_boundaries(snap, bounds, redrawn.get("grids", []))
        if touched.get("buildings"):
            codes = list(touched["buildings"])
            snap = with_buildings(snap, store.read("buildings", codes=codes), codes)
        return dataclasses.replace(snap, revision=revision, stamps=stamps, position=position)

    def on_date(self, store: Store, date: str) -> Snapshot:
        """This snapshot over the boundaries in force on `date` (`Store.read_as_of`): every building
        placed again in them, the buildings and their indexes shared."""
        bounds = Boundaries(*(store.read_as_of(name, date) for name in BOUNDARY_LAYERS))
        return with_boundaries(self, bounds, None)

    def answer(
        self, grid_pos: int, role: Role, building: dict[str, Any] | None, match: dict[str, Any]
    ) -> dict[str, Any]:
        """The lookup reply for the grid at `grid_pos` (DESIGN.md, Interfaces)."""
        community = self.communities.get(self.grid_community[grid_pos] or "")
        street = self.streets.get(community["street_code"] or "") if community else None
        return {
            "grid": self.grid_rows[role][grid_pos],
            "community": {"code": community["code"], "name": community["name"]} if community else None,
            "street": street,
            "building": building,
            "match": match,
        }

    def by_address(self, address: str, role: Role) -> dict[str, Any]:
        """Match `address` against the building register and answer with its building's grid."""
        return self.for_match(address, self.addresses.match(address), role)

    def for_match(
        self, address: str, found: Match | None, role: Role, *, suggest: bool = True
    ) -> dict[str, Any]:
        """The reply for an address matched (or not) to a building; `suggest` searches for look-alikes.

        An address that names no building may still be placed between the
        registered numbers of its road (`placed`).
        """
        if found is None:
            reply, candidates = self.placed(address, role)
            if reply is not None:
                return reply
            raise AddressNotFoundError(address, self.suggestions(address) if suggest else [], candidates)
        row = self.buildings[found.building_code]
        building, grid_pos = self.building_rows[row], int(self.building_grid[row])
        if grid_pos < 0:
            raise OutsideError(
                Message("lookup.building_outside", building=found.building_code, address=building["address"])
            )
        match = {
            "method": found.method,
            "score": round(float(found.score), 3),
            "disagrees": list(found.disagrees),
        }
        return self.answer(grid_pos, role, building, match)

    def placed(self, address: str, role: Role) -> tuple[dict[str, Any] | None, list[str]]:
        """An address on a road of the register whose number it lacks: the reply, or the candidate grids.

        The number is placed between the registered numbers around it on the
        same side of the road; when the buildings there all lie in one grid,
        that grid answers (match `interpolated`, no building). Otherwise, and
        for a number past the road's last or across the road from every
        registered one, there is no answer, only the grids it may lie in. A
        road the register lacks places nothing.
        """
        placement = self.addresses.place(address)
        if placement is None:
            return None, []
        grids = sorted({int(self.building_grid[self.buildings[code]]) for code in placement.codes})
        candidates = [str(self.grid_rows[role][g]["code"]) for g in grids if g >= 0]
        if not placement.between or len(grids) != 1 or grids[0] < 0:
            return None, candidates
        match = {
            "method": "interpolated",
            "score": INTERPOLATED_SCORE,
            "disagrees": list(placement.disagrees),
            "between": list(placement.numbers),
        }
        return self.answer(grids[0], role, None, match), candidates

    def suggestions(self, address: str) -> list[dict[str, Any]]:
        """Up to five buildings whose address resembles `address`, best first."""
        out = []
        for s in self.addresses.suggest(address, MAX_SUGGESTIONS):
            out.append({"code": s.building_code, "address": s.address, "score": round(float(s.score), 3)})
        return out

    def by_points(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """(grid, building) positions of points in `crs` (-1 for none); a building's point takes its grid."""
        x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        spec = parse_crs(crs)
        if not spec.is_wgs84:  # WGS84 and CGCS2000 need no transformation (the usual case, kept cheap)
            x, y = to_wgs84(x, y, spec)
        return point_grids(self.locator, self.building_locator, self.building_grid, x, y)

    def point_answer(self, grid_pos: int, building_pos: int, role: Role) -> dict[str, Any]:
        """The reply for a located point: its grid, and the building it lies in (or null)."""
        building = self.building_rows[building_pos] if building_pos >= 0 else None
        return self.answer(grid_pos, role, building, {"method": "point", "score": 1.0})

    def by_point(self, lon: float, lat: float, crs: str, role: Role) -> dict[str, Any]:
        """The grid owning one point (its building's grid when it lies inside a registered building)."""
        grid, building = self.by_points([lon], [lat], crs)
        if grid[0] < 0:
            raise OutsideError(Message("lookup.point_outside", lon=lon, lat=lat, crs=crs))
        return self.point_answer(int(grid[0]), int(building[0]), role)


def changed_layers(old: Stamps, new: Stamps) -> set[str] | None:
    """The layers whose change time moved, or None when that cannot be told.

    Uncertainty (a backend without change times, or a change no layer time
    records, as when QGIS edits a GeoPackage) must rebuild everything.
    """
    if not old or any(old.get(name) is None or new.get(name) is None for name in old):
        return None
    changed = {name for name in new if new[name] != old.get(name)}
    return changed or None


@dataclass
class LookupService:
    """Lookups over a store, answered from a snapshot refreshed when the store's revision changes."""

    store: Store
    refresh_seconds: float = 0.5
    clock: Callable[[], float] = time.monotonic
    _snapshot: Snapshot | None = field(default=None, init=False)
    _checked: float = field(default=-math.inf, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _dated: dict[tuple[str, str], Snapshot] = field(default_factory=dict, init=False)

    def snapshot(self) -> Snapshot:
        """The current snapshot, never waiting for a refresh once there is one.

        When the last poll is older than `refresh_seconds`, one caller starts a
        background poll (and rebuild, if the store changed) and every caller
        keeps answering from the snapshot it has, so a rebuild of a city's
        indexes does not stall lookups.
        """
        current = self._snapshot
        if current is None:
            with self._lock:
                if self._snapshot is None:
                    self._refresh()
                    self._checked = self.clock()
                assert self._snapshot is not None
                return self._snapshot
        if self.clock() - self._checked >= self.refresh_seconds and self._lock.acquire(blocking=False):
            worker = threading.Thread(target=self._refresh_in_background, name="lookup-refresh", daemon=True)
            worker.start()
        return current

    def close(self) -> None:
        """Wait for a background refresh in flight, so the store can be closed under no reader."""
        with self._lock:
            self._checked = math.inf

    def _refresh_in_background(self) -> None:
        try:
            self._refresh()
        except Exception as exc:
            log.warning("lookup indexes not refreshed: %s", exc)
        finally:
            self._checked = self.clock()
            self._lock.release()

    def _refresh(self) -> None:
        """Bring the snapshot to the store's revision if a layer a lookup reads changed (or maybe did).

        The features the store's log names are patched in (`Snapshot.patched`);
        without a log, past `PATCH_MOST` features, or when the patch fails, the layers are read again.
        """
        revision = self.store.revision()
        current = self._snapshot
        if current is not None and current.revision == revision:
            return
        position = self.store.log_position()  # before any layer is read: they are at least this recent
        stamps = self.store.last_modified()
        changed = changed_layers(current.stamps, stamps) if current is not None else None
        if current is not None and changed is not None and not changed & LOOKUP_LAYERS:
            self._snapshot = dataclasses.replace(current, revision=revision, stamps=stamps, position=position)
            return
        touched = (
            self.store.touched_since(current.position, most=PATCH_MOST)
            if current is not None and current.position is not None
            else None
        )
        if current is not None and touched is not None and position is not None:
            lookup = {name: codes for name, codes in touched.items() if name in LOOKUP_LAYERS}
            try:
                self._snapshot = current.patched(self.store, lookup, revision, stamps, position)
                return
            except Exception:  # a patch that fails must not pin the old snapshot: read the layers again
                log.exception("lookup snapshot not patched; reading the layers again")
        # The address index (the slow part) depends on the buildings alone.
        keep = current is not None and changed is not None and "buildings" not in changed
        addresses = current.addresses if keep and current is not None else None
        self._snapshot = Snapshot.load(self.store, revision, stamps, addresses=addresses, position=position)

    def as_of(self, date: str | None) -> Snapshot:
        """The snapshot for the boundaries in force on `date` (None: today's), kept for a few dates."""
        current = self.snapshot()
        if date is None:
            return current
        key = (current.revision, parse_date(date))
        found = self._dated.get(key)
        if found is None:
            found = current.on_date(self.store, key[1])
            while len(self._dated) >= MAX_DATED:
                self._dated.pop(next(iter(self._dated)), None)
            self._dated[key] = found
        return found

    def by_address(
        self, address: str, role: Role = Role.ANONYMOUS, date: str | None = None
    ) -> dict[str, Any]:
        """The grid owning the building that `address` names (on `date`, when given)."""
        return self.as_of(date).by_address(address, role)

    def by_point(
        self, lon: float, lat: float, crs: str = "wgs84", role: Role = Role.ANONYMOUS, date: str | None = None
    ) -> dict[str, Any]:
        """The grid owning the point (lon, lat) given in `crs` (on `date`, when given)."""
        return self.as_of(date).by_point(lon, lat, crs, role)

    def batch(
        self,
        queries: Sequence[Query],
        role: Role = Role.ANONYMOUS,
        *,
        suggest: bool = False,
        suggest_limit: int | None = None,
        max_systems: int | None = None,
    ) -> list[dict[str, Any]]:
        """One result per query, in input order; a query that fails gets an error entry, not an exception.

        Points are located together per coordinate system (one vectorised call
        each); an unknown `crs` fails only its own rows. Suggestions for
        unmatched addresses rank the whole register (a millisecond or more
        each in a city), so they come only when asked, for at most
        `suggest_limit` rows; later unmatched rows get `"suggestions": null`.
        Rows in a coordinate system beyond the first `max_systems` of the
        batch are invalid (each system costs a transformation set-up).
        """
        snap = self.snapshot()
        results: list[dict[str, Any]] = [{} for _ in queries]
        by_crs: dict[str, list[int]] = {}
        by_address: list[int] = []
        for i, q in enumerate(queries):
            if q.error is not None:
                results[i] = {"status": "invalid", "detail": q.error}
            elif q.address is not None:
                by_address.append(i)
            else:
                by_crs.setdefault(q.crs, []).append(i)
        addresses = [queries[i].address or "" for i in by_address]
        matches = snap.addresses.match_many(addresses)
        left = (len(queries) if suggest_limit is None else suggest_limit) if suggest else 0
        for i, text, match in zip(by_address, addresses, matches, strict=True):
            searched = match is None and left > 0
            left -= searched
            results[i] = _attempt(snap, text, match, role, searched)
        for k, (crs, positions) in enumerate(by_crs.items()):
            if max_systems is not None and k >= max_systems:
                for i in positions:
                    results[i] = {"status": "invalid", "detail": f"at most {max_systems} systems per batch"}
                continue
            lon = np.array([queries[i].lon for i in positions], dtype=np.float64)
            lat = np.array([queries[i].lat for i in positions], dtype=np.float64)
            try:
                grids, buildings = snap.by_points(lon, lat, crs)
            except CRSError as exc:
                for i in positions:
                    results[i] = {"status": "invalid", "detail": str(exc)}
                continue
            for i, grid, building in zip(positions, grids.tolist(), buildings.tolist(), strict=True):
                results[i] = (
                    {"status": "ok", **snap.point_answer(grid, building, role)}
                    if grid >= 0
                    else {
                        "status": "outside",
                        "detail": f"no grid contains ({queries[i].lon}, {queries[i].lat})",
                    }
                )
        return [{"index": i, **r} for i, r in enumerate(results)]


@dataclass(frozen=True)
class Query:
    """One lookup of a batch: an address, or a point (lon, lat) in `crs`."""

    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    error: str | None = None
    """Why the row could not be read (it then gets an `invalid` result, the others go on)."""


def _attempt(snap: Snapshot, address: str, match: Match | None, role: Role, suggest: bool) -> dict[str, Any]:
    """One address of a batch: the reply (maybe interpolated), or the not-found error as an entry.

    `suggestions` is null when they were not searched for, a list (maybe empty) when they were;
    `candidates` lists the grids a number the register lacks may lie in (maybe none).
    """
    try:
        if match is None:
            reply, candidates = snap.placed(address, role)
            if reply is None:
                error = AddressNotFoundError(address, [], candidates)
                return {
                    "status": "not_found",
                    "detail": str(error),
                    "candidates": candidates,
                    "suggestions": snap.suggestions(address) if suggest else None,
                }
            return {"status": "ok", **reply}
        return {"status": "ok", **snap.for_match(address, match, role)}
    except OutsideError as exc:
        return {"status": "outside", "detail": str(exc)}
