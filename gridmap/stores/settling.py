"""What SQL alone cannot derive after an external edit of a GeoPackage: `grid_code`.

The GeoPackage's triggers (`gridmap.stores.gpkg_triggers`) log every row
QGIS or GDAL changes; `settled_grids` reads that log's codes and gives the
rows whose `grid_code` must change, by the rules of `gridmap.assignment`
(the same functions, so the answer is the one an import would give):

- a changed building, and every building meeting a changed grid's old or
  new shape, takes the grid holding its largest area share;
- a changed point, every point meeting a changed grid's or building's old or
  new shape, and every household naming a changed building, is placed
  again: its registered building's grid, else the grid of the building it
  lies in, else the grid covering it (buildings keep their stored grid,
  or the one derived in this same pass).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.stores.base import BBox

POINT_LAYERS = ("households", "service_points", "speakers")


class Rows(Protocol):
    """Reads stored rows (catalogue fields, `revision`, geometry) inside the settling transaction."""

    def __call__(
        self,
        layer: str,
        *,
        codes: list[str] | None = None,
        bbox: BBox | None = None,
        building_codes: list[str] | None = None,
    ) -> gpd.GeoDataFrame: ...

    def old(self, layer: str, codes: list[str]) -> gpd.GeoDataFrame:
        """The latest superseded version of each of `codes` (its shape before the edit)."""
        ...


def settled_grids(rows: Rows, touched: Mapping[str, list[str]]) -> dict[str, gpd.GeoDataFrame]:
    """Per derived layer, the stored rows whose `grid_code` changes, with the new value set."""
    from gridmap.assignment import (  # the stores package is imported by assignment itself
        BuildingLocator,
        GridLocator,
        building_grids,
        household_grids,
        index_in,
        point_grids,
        point_xy,
    )

    grids = rows("grids")
    locator = GridLocator(grids)
    codes = np.asarray(locator.codes, dtype=object)
    areas = _shapes(rows, "grids", touched.get("grids", []))

    buildings = _targets(rows, "buildings", touched.get("buildings", []), areas)
    out: dict[str, gpd.GeoDataFrame] = {}
    derived = _codes_at(codes, building_grids(grids, buildings))
    out["buildings"] = _differing(buildings, derived)

    moved = sorted({*touched.get("buildings", []), *out["buildings"]["code"].astype(str)})
    point_areas = areas + _shapes(rows, "buildings", moved)
    for layer in POINT_LAYERS:
        targets = _targets(rows, layer, touched.get(layer, []), point_areas)
        if layer == "households" and moved:
            named = rows(layer, building_codes=moved)
            targets = pd.concat([targets, named]).drop_duplicates("code", ignore_index=True)
        if targets.empty:
            out[layer] = targets
            continue
        around = _buildings_for(rows, targets, out["buildings"])
        building_grid = index_in(around["grid_code"], codes)
        inside = BuildingLocator(around)
        if layer == "households":
            pos = household_grids(locator, targets, around["code"], building_grid, inside)
        else:
            pos = point_grids(locator, inside, building_grid, *point_xy(targets))[0]
        out[layer] = _differing(targets, _codes_at(codes, pos))
    return {layer: frame for layer, frame in out.items() if len(frame)}


def _shapes(rows: Rows, layer: str, codes: list[str]) -> list[BBox]:
    """The bounds of each feature's current and previous shape."""
    if not codes:
        return []
    frames = [rows(layer, codes=codes), rows.old(layer, codes)]
    geoms = np.concatenate([np.asarray(f.geometry.values, dtype=object) for f in frames])
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    return [tuple(float(v) for v in b) for b in shapely.bounds(geoms)]  # type: ignore[misc]


def _targets(rows: Rows, layer: str, codes: list[str], areas: list[BBox]) -> gpd.GeoDataFrame:
    """The features named, and those meeting any of `areas`, each once."""
    parts = [rows(layer, codes=codes)] if codes else []
    parts += [rows(layer, bbox=box) for box in areas]
    if not parts:
        return rows(layer, codes=[])
    return pd.concat(parts).drop_duplicates("code", ignore_index=True)


def _buildings_for(rows: Rows, points: gpd.GeoDataFrame, derived: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The buildings the points may lie in or name, with the grids derived in this pass."""
    geoms = np.asarray(points.geometry.values, dtype=object)
    present = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    parts = []
    if len(present):
        x0, y0, x1, y1 = shapely.total_bounds(present)
        parts.append(rows("buildings", bbox=(float(x0), float(y0), float(x1), float(y1))))
    if "building_code" in points.columns:
        named = sorted(set(points["building_code"].dropna().astype(str)))
        if named:
            parts.append(rows("buildings", codes=named))
    found = pd.concat(parts) if parts else rows("buildings", codes=[])
    found = found.drop_duplicates("code", ignore_index=True)
    if len(derived):
        fresh = derived.set_index(derived["code"].astype(str))["grid_code"]
        code = found["code"].astype(str)
        found["grid_code"] = found["grid_code"].where(~code.isin(fresh.index), code.map(fresh))
    return found.sort_values("code", ignore_index=True)


def _codes_at(codes: np.ndarray, pos: np.ndarray) -> pd.Series:
    values = np.where(pos >= 0, codes[np.maximum(pos, 0)] if len(codes) else None, None)
    return pd.Series(values, dtype="string")


def _differing(frame: gpd.GeoDataFrame, grid_code: pd.Series) -> gpd.GeoDataFrame:
    """The rows of `frame` whose grid_code is not `grid_code`, with it set."""
    new = grid_code.reset_index(drop=True)
    old = frame["grid_code"].astype("string").reset_index(drop=True)
    differs = ~((old == new).fillna(False) | (old.isna() & new.isna())).to_numpy(dtype=bool)
    out = frame.reset_index(drop=True)[differs].copy()
    out["grid_code"] = new[differs].to_numpy()
    return out.reset_index(drop=True)
