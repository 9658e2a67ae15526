"""What SQL alone cannot derive after an external edit of a GeoPackage: `grid_code`.

The GeoPackage's triggers (`gridmap.stores.gpkg_triggers`) log every row
QGIS or GDAL changes; `settled_grids` reads that log's codes and gives the
rows whose `grid_code` must change, by the rules of `gridmap.assignment`
(the same functions, so the answer is the one an import would give, and
the one PostGIS's triggers give):

- a changed building, and every building meeting a changed grid's old or
  new shape, takes the grid holding its largest area share;
- a changed point, every point meeting a changed grid's or building's old or
  new shape, and every household naming a changed building, is placed
  again: its registered building's grid, else the grid of the building it
  lies in, else the grid covering it (buildings keep their stored grid,
  or the one derived in this same pass).

It runs inside the settling write transaction, holding the file, so it
reads no more than it needs, as PostGIS's triggers do: the rows named, the
candidates the GeoPackage's R-trees (`rtree_<layer>_geom`) give for their
boxes, and shapely's exact tests on those few geometries; no frames. A
one-feature edit of a city settles in milliseconds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from gridmap.crs import metric_crs
from gridmap.stores.wkb import gpkg_geometries

POINT_LAYERS = ("households", "service_points", "speakers")
_WIDEN = 1e-9
"""Degrees (0.1 mm) each R-tree probe is widened by: a candidate too many is tested exactly, one too
few would be a wrong grid, and a coordinate passed as JSON text may come back one bit off."""

Objects = npt.NDArray[np.object_]
Settled = dict[str, list[tuple[str, str | None]]]
"""Per derived layer, (code, new grid_code) of each stored row whose grid changes."""


@dataclass(frozen=True)
class _Rows:
    """Stored rows of one layer: codes, their stored grid and registered building (None: no such
    column), WGS84 geometries; each code once."""

    codes: Objects
    grid: Objects
    building: Objects
    geoms: Objects

    @staticmethod
    def of(found: Sequence[tuple[Any, ...]]) -> _Rows:
        """From rows of (code, grid_code, building_code, geometry blob), the first of each code kept."""
        unique = list({str(row[0]): row for row in reversed(found)}.values())[::-1]
        column = [np.array([row[i] for row in unique], dtype=object) for i in range(3)]
        geoms = gpkg_geometries([row[3] for row in unique]) if unique else np.array([], dtype=object)
        return _Rows(column[0].astype(str).astype(object), column[1], column[2], geoms)

    def __len__(self) -> int:
        return len(self.codes)


def settled_grids(conn: sqlite3.Connection, touched: Mapping[str, Sequence[str]]) -> Settled:
    """Per derived layer, the stored rows whose `grid_code` changes, with the new value."""
    from gridmap.assignment import (  # the stores package is imported by assignment itself
        BuildingLocator,
        GridLocator,
        household_positions,
        point_grids,
    )

    areas = _shapes(conn, "grids", touched.get("grids", []))
    buildings = _read(conn, "buildings", codes=touched.get("buildings", []), boxes=areas)
    derived = _codes(*_building_grids(conn, buildings))
    out: Settled = {"buildings": _differing(buildings, derived)}
    fresh = dict(zip(buildings.codes, derived, strict=True))

    moved = sorted({*touched.get("buildings", []), *(code for code, _ in out["buildings"])})
    point_areas = np.vstack([areas, _shapes(conn, "buildings", moved)])
    for layer in POINT_LAYERS:
        named = moved if layer == "households" else []
        targets = _read(conn, layer, codes=touched.get(layer, []), boxes=point_areas, building_codes=named)
        if not len(targets):
            continue
        x, y = shapely.get_x(targets.geoms), shapely.get_y(targets.geoms)
        probes = np.column_stack([x, y, x, y])
        registered = sorted({str(c) for c in targets.building if c is not None})
        around = _read(conn, "buildings", fids=_candidates(conn, "buildings", probes), codes=registered)
        grids = _read(conn, "grids", fids=_candidates(conn, "grids", probes))
        # Each building's grid (derived in this pass, else stored) by position: the candidate grids
        # first, then grids outside the probes that a building straddling into them names.
        held = [fresh.get(code, grid) for code, grid in zip(around.codes, around.grid, strict=True)]
        codes = np.concatenate([grids.codes, _existing(conn, set(held) - {None, *grids.codes})])
        building_grid = _index_of(held, codes)
        locator = GridLocator.of(grids.codes, grids.geoms)
        inside = BuildingLocator.of(around.codes, around.geoms)
        if layer == "households":
            via = _index_of(targets.building, around.codes)
            pos = household_positions(locator, via, x, y, building_grid, inside)
        else:
            pos = point_grids(locator, inside, building_grid, x, y)[0]
        out[layer] = _differing(targets, _codes(codes, pos))
    return {layer: rows for layer, rows in out.items() if rows}


def _existing(conn: sqlite3.Connection, codes: set[str]) -> Objects:
    """Those of `codes` that name a stored grid, sorted."""
    if not codes:
        return np.array([], dtype=object)
    rows = conn.execute(
        "SELECT code FROM grids WHERE code IN (SELECT value FROM json_each(?))", (json.dumps(sorted(codes)),)
    )
    return np.array(sorted({row[0] for row in rows} & codes), dtype=object)


def _building_grids(conn: sqlite3.Connection, buildings: _Rows) -> tuple[Objects, npt.NDArray[np.intp]]:
    """Codes of the grids the buildings' R-tree boxes meet, and each building's position among them."""
    from gridmap.assignment import building_positions

    if not len(buildings):
        return np.array([], dtype=object), np.full(0, -1, dtype=np.intp)
    geoms = buildings.geoms
    boxes = shapely.bounds(geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))])
    grids = _read(conn, "grids", fids=_candidates(conn, "grids", boxes))
    return grids.codes, building_positions(grids.codes, grids.geoms, geoms, _metric(conn))


def _metric(conn: sqlite3.Connection) -> pyproj.CRS:
    """The metric CRS an import measures building shares in: chosen from all grids' extent (the
    R-tree's, rounded outwards to 32-bit floats: a 1-metre shift of the centre)."""
    bounds = conn.execute(
        "SELECT min(minx), min(miny), max(maxx), max(maxy) FROM rtree_grids_geom"
    ).fetchone()
    return metric_crs([float("nan") if v is None else float(v) for v in bounds])


def _read(
    conn: sqlite3.Connection,
    layer: str,
    *,
    codes: Sequence[str] = (),
    boxes: npt.NDArray[np.float64] | None = None,
    fids: Sequence[int] = (),
    building_codes: Sequence[str] = (),
) -> _Rows:
    """The rows named by code or fid, naming one of `building_codes`, or whose R-tree box meets a box."""
    grid = "grid_code" if layer != "grids" else "NULL"
    building = "building_code" if layer == "households" else "NULL"
    select = f'SELECT code, {grid}, {building}, geom FROM "{layer}" WHERE '
    found: list[tuple[Any, ...]] = []
    if codes:
        wanted = set(codes)  # SQLite compares text up to a NUL: only the codes asked for, exactly
        rows = conn.execute(select + "code IN (SELECT value FROM json_each(?))", (json.dumps(list(codes)),))
        found += [row for row in rows if row[0] in wanted]
    if building_codes:
        found += conn.execute(
            select + "building_code IN (SELECT value FROM json_each(?))", (json.dumps(list(building_codes)),)
        ).fetchall()
    if boxes is not None and len(boxes):
        fids = [*fids, *_candidates(conn, layer, boxes)]
    if len(fids):
        found += conn.execute(
            select + "fid IN (SELECT value FROM json_each(?))", (json.dumps([int(f) for f in fids]),)
        ).fetchall()
    return _Rows.of(found)


def _candidates(conn: sqlite3.Connection, layer: str, boxes: npt.NDArray[np.float64]) -> list[int]:
    """Fids whose R-tree box meets any of `boxes` (minx, miny, maxx, maxy): one indexed join."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if not len(boxes):
        return []
    wide = boxes + np.array([-_WIDEN, -_WIDEN, _WIDEN, _WIDEN])
    rows = conn.execute(
        # CROSS JOIN keeps the probes outside: each probes the R-tree, rather than a scan of it.
        f'SELECT DISTINCT r.id FROM json_each(?) AS b CROSS JOIN "rtree_{layer}_geom" AS r '
        "WHERE r.maxx >= b.value ->> 0 AND r.minx <= b.value ->> 2 "
        "AND r.maxy >= b.value ->> 1 AND r.miny <= b.value ->> 3",
        (json.dumps(wide.tolist()),),
    )
    return [int(row[0]) for row in rows]


def _shapes(conn: sqlite3.Connection, layer: str, codes: Sequence[str]) -> npt.NDArray[np.float64]:
    """The bounds of each feature's current shape and of its latest superseded one (before the edit)."""
    if not codes:
        return np.empty((0, 4))
    listed = json.dumps(list(codes))
    now = conn.execute(
        f'SELECT geom FROM "{layer}" WHERE code IN (SELECT value FROM json_each(?))', (listed,)
    )
    old = conn.execute(
        f'SELECT code, geom FROM "{layer}_history" WHERE code IN (SELECT value FROM json_each(?)) '
        "ORDER BY superseded",
        (listed,),
    )
    latest = {row[0]: row[1] for row in old}
    geoms = gpkg_geometries([row[0] for row in now] + list(latest.values()))
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    return np.asarray(shapely.bounds(geoms), dtype=np.float64).reshape(-1, 4)


def _index_of(values: Sequence[object] | Objects, keys: Objects) -> npt.NDArray[np.intp]:
    """Position of each value among `keys` (-1: absent or None): a dict, as there are a handful."""
    at = {key: i for i, key in enumerate(keys)}
    return np.array([at.get(value, -1) for value in values], dtype=np.intp)


def _codes(codes: Objects, pos: npt.NDArray[np.intp]) -> Objects:
    """The code at each position (None at -1)."""
    out = np.full(len(pos), None, dtype=object)
    found = pos >= 0
    out[found] = codes[pos[found]]
    return out


def _differing(rows: _Rows, grid: Objects) -> list[tuple[str, str | None]]:
    """(code, grid) of the rows whose stored grid is not `grid`."""
    return [
        (str(code), None if new is None else str(new))
        for code, old, new in zip(rows.codes, rows.grid, grid, strict=True)
        if (None if old is None else str(old)) != (None if new is None else str(new))
    ]
