"""A lookup snapshot patched with the features an edit touched, instead of read and indexed again.

What each part of a `gridmap.lookup.Snapshot` is made of, and so what an edit
must redo:

- the grid index (`locator`): the grids' codes and geometries;
- the grid replies (`grid_rows`, `grid_community`): the grids' `GRID_FIELDS`
  and `community_code`; `communities` and `streets`: their codes, names and
  (communities) `street_code`;
- each building's grid (`building_grid`): the building's geometry against the
  grids' codes and geometries, in the metric CRS of the grids' extent;
- the building index (`building_locator`): the buildings' codes and geometries;
- the address index (`addresses`): the buildings' codes, names and addresses,
  the street and community names (`places`) and, per building, the names of
  the street and community of its grid (`areas`).

So a grid's attributes alone redo its replies and at most the areas of its
buildings; a redrawn grid redoes the (small) grid index and places again the
buildings whose bounding box meets the grid's old or new one; a moved building
is placed alone and the building index is made again from the geometries held;
a building added, removed or re-addressed makes the address index again from
the rows held. Nothing is read but the touched rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from gridmap.address import AddressIndex, building_areas
from gridmap.assignment import BuildingLocator, GridLocator, building_positions
from gridmap.crs import metric_crs
from gridmap.privacy import Role, protect, sight

if TYPE_CHECKING:
    from gridmap.lookup import Snapshot

BOUNDARY_LAYERS = ("grids", "communities", "streets")
"""The boundary layers a snapshot holds whole (small: thousands of rows at most), in `Boundaries` order."""
GRID_FIELDS = ("code", "name", "party_branch", "worker_name", "worker_phone")
"""What a lookup says about a grid; `gridmap.privacy.protect` removes or masks by role (README, Roles)."""
Area = tuple[str | None, str | None]


@dataclass(frozen=True)
class Boundaries:
    """The grids, communities and streets one snapshot was built from."""

    grids: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame

    def frame(self, name: str) -> gpd.GeoDataFrame:
        """The layer `name` of `BOUNDARY_LAYERS`."""
        frame: gpd.GeoDataFrame = getattr(self, name)
        return frame

    @cached_property
    def metric(self) -> pyproj.CRS:
        """The CRS buildings' shares of the grids are measured in (`gridmap.crs.metric_crs`)."""
        return metric_crs(self.grids)

    def places(self) -> list[str | None]:
        """The street and community names an address may write before its road."""
        return [*nullable(self.streets["name"]), *nullable(self.communities["name"])]

    def grid_community(self) -> list[str | None]:
        """Each grid's community code, by grid position."""
        return nullable(self.grids["community_code"])

    def grid_rows(self, at: npt.NDArray[np.intp] | None = None) -> dict[Role, list[dict[str, Any]]]:
        """Per role, what a lookup says about each grid (or the grids at positions `at`), by position."""
        grids = self.grids if at is None else self.grids.iloc[at]
        # A plain frame: protecting and listing a GeoDataFrame's copies costs more than the rows.
        fields = cast(
            gpd.GeoDataFrame, pd.DataFrame({n: grids[n] for n in GRID_FIELDS if n in grids.columns})
        )
        seen: dict[str, list[dict[str, Any]]] = {}  # roles of one sight share the rows
        rows: dict[Role, list[dict[str, Any]]] = {}
        for role in Role:
            if sight(role) not in seen:
                visible = protect("grids", fields, role)
                seen[sight(role)] = [
                    {name: rec.get(name) for name in GRID_FIELDS} for rec in records(visible, visible.columns)
                ]
            rows[role] = seen[sight(role)]
        return rows

    def grid_areas(self) -> list[Area]:
        """(street name, community name) per grid position, and (None, None) last: a building's area is
        `grid_areas()[building_grid]`, position -1 (no grid) taking the last."""
        return [
            *building_areas(
                np.arange(len(self.grids)), self.grid_community(), self.communities, self.streets
            ),
            (None, None),
        ]

    def building_areas(self, building_grid: npt.NDArray[np.intp]) -> list[Area]:
        """Per building, the names of its grid's street and community."""
        areas = self.grid_areas()
        return [areas[g] for g in building_grid.tolist()]


def with_boundaries(snap: Snapshot, bounds: Boundaries, redrawn: Sequence[str] | None) -> Snapshot:
    """`snap` over `bounds`; `redrawn`: the grid codes whose rows may differ (None: any, as on another date).

    The grid index and the buildings' grids are kept when no grid's code set or
    geometry changed; the address index is kept, or given the areas of the
    buildings whose street or community changed.
    """
    if redrawn is not None and _same_shapes(snap.bounds.grids, bounds.grids, redrawn):
        locator, b_grid = snap.locator, snap.building_grid
        at = np.flatnonzero(bounds.grids["code"].isin(list(redrawn)).to_numpy(dtype=bool))
        edited = bounds.grid_rows(at)
        copies: dict[int, list[dict[str, Any]]] = {}  # one copy per list the roles share
        grid_rows = {}
        for role, rows in snap.grid_rows.items():
            if id(rows) not in copies:
                copies[id(rows)] = list(rows)
                for k, row in zip(at.tolist(), edited[role], strict=True):
                    copies[id(rows)][k] = row
            grid_rows[role] = copies[id(rows)]
    else:
        locator = GridLocator(bounds.grids)
        b_grid = _placed_again(snap, bounds, locator, redrawn)
        grid_rows = bounds.grid_rows()
    areas = bounds.grid_areas()
    places = bounds.places()
    if places != snap.bounds.places():
        addresses = snap.addresses.with_places(places, [areas[g] for g in b_grid.tolist()])
    else:
        ids: dict[Area, int] = {}
        old = np.array([ids.setdefault(a, len(ids)) for a in snap.bounds.grid_areas()])[snap.building_grid]
        new = np.array([ids.setdefault(a, len(ids)) for a in areas])[b_grid]
        changed = np.flatnonzero(old != new)
        addresses = snap.addresses.with_areas(changed, [areas[g] for g in b_grid[changed].tolist()])
    return dataclasses.replace(
        snap,
        locator=locator,
        grid_rows=grid_rows,
        grid_community=bounds.grid_community(),
        communities=index_by_code(bounds.communities, ("code", "name", "street_code")),
        streets=index_by_code(bounds.streets, ("code", "name")),
        building_grid=b_grid,
        addresses=addresses,
        bounds=bounds,
    )


def with_buildings(snap: Snapshot, fresh: gpd.GeoDataFrame, codes: Sequence[str]) -> Snapshot:
    """`snap` with the buildings `codes` as `fresh` holds them (absent from it: deleted)."""
    order = np.argsort(fresh["code"].astype(str).to_numpy(dtype=object), kind="stable")
    fresh = fresh.iloc[order]
    fresh_codes = fresh["code"].astype(str).to_numpy(dtype=object)
    geoms = np.asarray(fresh.geometry.values, dtype=object)
    rows = records(fresh, ("code", "name", "address"))
    grid = building_positions(
        snap.locator.codes,
        np.asarray(snap.bounds.grids.geometry.values, dtype=object),
        geoms,
        snap.bounds.metric,
    )
    at = [snap.buildings.get(code) for code in fresh_codes.tolist()]
    held = {code for code in codes if code in snap.buildings}
    if None not in at and len(held) == len(at):  # the same buildings, edited in place
        return _edited(snap, np.array(at, dtype=np.intp), rows, geoms, grid)
    drop = np.array([snap.buildings[code] for code in held], dtype=np.intp)
    keep = np.ones(len(snap.building_codes), dtype=bool)
    keep[drop] = False
    kept = np.flatnonzero(keep)
    k_codes = snap.building_codes[kept]
    ins = np.searchsorted(k_codes, fresh_codes)  # code order, as the store reads them
    b_codes = np.insert(k_codes, ins, fresh_codes)
    b_geoms = np.insert(snap.building_geoms[kept], ins, geoms)
    b_grid = np.insert(snap.building_grid[kept], ins, grid)
    every = np.empty(len(snap.building_rows), dtype=object)
    every[:] = snap.building_rows
    added = np.empty(len(rows), dtype=object)
    added[:] = rows
    b_rows: list[dict[str, Any]] = np.insert(every[kept], ins, added).tolist()
    return dataclasses.replace(
        snap,
        buildings=dict(zip(b_codes.tolist(), range(len(b_codes)), strict=True)),
        building_rows=b_rows,
        building_grid=b_grid,
        building_locator=BuildingLocator.of(b_codes, b_geoms),
        addresses=_address_index(b_rows, snap.bounds, b_grid, snap.addresses),
        building_codes=b_codes,
        building_geoms=b_geoms,
    )


def _edited(
    snap: Snapshot,
    at: npt.NDArray[np.intp],
    rows: list[dict[str, Any]],
    geoms: npt.NDArray[np.object_],
    grid: npt.NDArray[np.intp],
) -> Snapshot:
    """`snap` with the buildings at rows `at` replaced (no building added or removed)."""
    b_rows = list(snap.building_rows)
    for k, row in zip(at.tolist(), rows, strict=True):
        b_rows[k] = row
    b_geoms = snap.building_geoms.copy()
    b_geoms[at] = geoms
    b_grid = snap.building_grid.copy()
    b_grid[at] = grid
    moved = not _same(snap.building_geoms[at], geoms)
    if any(snap.building_rows[k] != row for k, row in zip(at.tolist(), rows, strict=True)):
        addresses = _address_index(b_rows, snap.bounds, b_grid, snap.addresses)
    else:
        areas = snap.bounds.grid_areas()
        addresses = snap.addresses.with_areas(at, [areas[g] for g in grid.tolist()])
    return dataclasses.replace(
        snap,
        building_rows=b_rows,
        building_grid=b_grid,
        building_locator=BuildingLocator.of(snap.building_codes, b_geoms) if moved else snap.building_locator,
        addresses=addresses,
        building_geoms=b_geoms,
    )


def _address_index(
    rows: list[dict[str, Any]], bounds: Boundaries, building_grid: npt.NDArray[np.intp], known: AddressIndex
) -> AddressIndex:
    """The address index of the buildings `rows` (the register changed: made again, nothing read;
    the normalised forms of `known`, the index before the edit, taken)."""
    frame = pd.DataFrame(
        {name: pd.array([row[name] for row in rows], dtype="string") for name in ("code", "name", "address")}
    )
    return AddressIndex(
        frame, places=bounds.places(), areas=bounds.building_areas(building_grid), known=known
    )


def _placed_again(
    snap: Snapshot, bounds: Boundaries, locator: GridLocator, redrawn: Sequence[str] | None
) -> npt.NDArray[np.intp]:
    """Each building's grid in `bounds`: only those near the `redrawn` grids' old or new shapes are
    placed again, unless any may have moved (`redrawn` None) or the metric CRS changed."""
    codes = locator.codes
    geoms = np.asarray(bounds.grids.geometry.values, dtype=object)
    if redrawn is None or bounds.metric != snap.bounds.metric:
        return building_positions(codes, geoms, snap.building_geoms, bounds.metric)
    position = {code: i for i, code in enumerate(codes.tolist())}
    moved = np.array([position.get(code, -1) for code in [*snap.locator.codes.tolist(), None]], dtype=np.intp)
    out = moved[snap.building_grid]  # -1 (no grid) takes the last: -1
    names = set(redrawn)
    old_geoms = np.asarray(snap.bounds.grids.geometry.values, dtype=object)
    shapes = np.concatenate(
        [
            old_geoms[[code in names for code in snap.locator.codes.tolist()]],
            geoms[[code in names for code in codes.tolist()]],
        ]
    )
    near = snap.building_locator.near(shapes)
    out[near] = building_positions(codes, geoms, snap.building_geoms[near], bounds.metric)
    return out


def _same_shapes(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, codes: Sequence[str]) -> bool:
    """Whether `new` holds the grids of `old`, each with the same geometry (only `codes` may differ)."""
    old_codes = old["code"].astype(str).to_numpy(dtype=object)
    new_codes = new["code"].astype(str).to_numpy(dtype=object)
    if len(old_codes) != len(new_codes) or not bool(np.all(old_codes == new_codes)):
        return False
    rows = np.flatnonzero(new["code"].isin(list(codes)).to_numpy(dtype=bool))
    return _same(
        np.asarray(old.geometry.values, dtype=object)[rows],
        np.asarray(new.geometry.values, dtype=object)[rows],
    )


def _same(a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]) -> bool:
    """Whether the geometries are identical pairwise (both missing counts as identical)."""
    return bool(
        np.all(shapely.equals_exact(a, b, tolerance=0.0) | (shapely.is_missing(a) & shapely.is_missing(b)))
    )


def patched_rows(frame: gpd.GeoDataFrame, fresh: gpd.GeoDataFrame, codes: Sequence[str]) -> gpd.GeoDataFrame:
    """A small layer `frame` with the features `codes` as `fresh` holds them (absent: deleted), by code."""
    kept = frame[~frame["code"].isin(list(codes))]
    parts = [part for part in (kept, fresh[list(frame.columns)]) if len(part)]
    if not parts:
        return frame.iloc[:0]
    merged = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=frame.crs).sort_values(
        "code", kind="stable", ignore_index=True
    )


def nullable(values: Any) -> list[str | None]:
    """A text column as a list with None for missing values."""
    return [None if v is None else str(v) for v in values.astype(object).where(values.notna(), None)]


def records(frame: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of `frame` as `{column: value}` in frame order, missing values as None."""
    part = frame[list(columns)].astype(object)
    part = part.where(part.notna(), None)
    out: list[dict[str, Any]] = part.to_dict("records")
    return out


def index_by_code(frame: Any, columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    """`code → {column: value}` with missing values as None."""
    return {rec["code"]: rec for rec in records(frame, columns)}
