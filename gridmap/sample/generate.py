"""Assemble the sample district's canonical layers from one seeded generator."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap.arrays import FloatArray
from gridmap.frames import WGS84, conform
from gridmap.sample.buildings import Buildings, build_buildings, number_within
from gridmap.sample.facilities import Points, build_service_points, build_speakers
from gridmap.sample.layout import WUCHANG, Layout, Place, build_layout, to_lonlat
from gridmap.sample.people import HouseholdDraws, Households, build_staff, draw_households
from gridmap.sample.roads import Roads, build_roads

DEFAULT_SEED = 20261124


@dataclass(frozen=True)
class District:
    """A generated district before its households are spelt out: every other layer, and their draws.

    `households(rows)` gives any slice of the households layer as a canonical
    frame, so `generate` and the streaming `gridmap sample` writer produce the
    same rows whatever the slicing.
    """

    layers: dict[str, gpd.GeoDataFrame]  # every layer but households, canonical and in code order
    draws: HouseholdDraws
    building_code: npt.NDArray[np.str_]
    building_grid_code: npt.NDArray[np.str_]
    place: Place

    @property
    def household_count(self) -> int:
        return len(self.draws)

    def households(self, rows: slice = slice(None)) -> gpd.GeoDataFrame:
        """Households `rows` (in code order) as a canonical frame."""
        frame = _households(
            self.draws.households(rows), self.building_code, self.building_grid_code, self.place
        )
        return conform("households", frame)

    def frames(self) -> dict[str, gpd.GeoDataFrame]:
        """Every layer (households whole), in the catalogue's order."""
        out = dict(self.layers)
        out["households"] = self.households()
        return {name: out[name] for name in _ORDER}


_ORDER = ("streets", "communities", "grids", "buildings", "households", "speakers", "service_points", "roads")


def generate(scale: int = 1, seed: int = DEFAULT_SEED, place: Place = WUCHANG) -> dict[str, gpd.GeoDataFrame]:
    """The sample district: `scale` streets of ~60 urban grids and one village each, canonical frames.

    The same (scale, seed) always gives the same frames. `grid_code` is filled
    with the true answer (what assignment must derive).
    """
    return plan(scale, seed, place).frames()


def plan(scale: int = 1, seed: int = DEFAULT_SEED, place: Place = WUCHANG) -> District:
    """Everything of the district (`generate`) but the households' strings: `District` makes those."""
    rng = np.random.default_rng(seed)
    layout = build_layout(scale, rng, place)
    buildings = build_buildings(layout, rng)
    draws = draw_households(buildings, rng)
    speakers = build_speakers(layout, buildings, rng)
    service_points = build_service_points(layout, rng)
    staff = build_staff(layout.grid_name, rng)

    grid_geoms = _grid_polygons(layout, place)
    grid_code = np.asarray(layout.grid_code)
    building_code = np.char.add(grid_code[buildings.grid], np.char.zfill(buildings.number.astype(str), 4))
    frames = {
        "streets": _streets(layout, grid_geoms),
        "communities": _communities(layout, grid_geoms),
        "grids": _frame(
            {
                "code": grid_code,
                "name": layout.grid_name,
                "community_code": np.asarray(layout.community_code)[layout.grid_community],
                "party_branch": staff.party_branch,
                "worker_name": staff.worker_name,
                "worker_phone": staff.worker_phone,
            },
            shapely.multipolygons(grid_geoms, indices=np.arange(len(grid_geoms))),
        ),
        "buildings": _buildings(buildings, building_code, grid_code, place),
        "speakers": _points(
            speakers, grid_code, place, prefix="GB", group=speakers.grid, group_codes=grid_code
        ),
        "roads": _roads(build_roads(layout, place.county), place),
        "service_points": _points(
            service_points,
            grid_code,
            place,
            prefix="FW",
            group=layout.grid_community[service_points.grid],
            group_codes=np.asarray(layout.community_code),
        ),
    }
    layers = {
        name: conform(name, frame).sort_values("code", ignore_index=True) for name, frame in frames.items()
    }
    return District(layers, draws, building_code, grid_code[buildings.grid], place)


def _frame(columns: dict[str, object], geometry: npt.ArrayLike) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(columns), geometry=np.asarray(geometry), crs=WGS84)


def _grid_polygons(layout: Layout, place: Place) -> npt.NDArray[np.object_]:
    """Grid polygons in lon/lat; shared vertices convert identically, so the tiling stays exact."""
    sizes = np.array([len(r) for r in layout.grid_rings])
    lonlat = to_lonlat(np.concatenate(layout.grid_rings), place)
    rings = shapely.linearrings(lonlat, indices=np.repeat(np.arange(len(sizes)), sizes))
    return shapely.orient_polygons(shapely.polygons(rings))  # counter-clockwise, as RFC 7946 wants


def _union_by(
    groups: npt.NDArray[np.int64], geoms: npt.NDArray[np.object_], n: int
) -> npt.NDArray[np.object_]:
    """One MultiPolygon per group: the coverage union of its member polygons (exact for a tiling)."""
    merged = shapely.orient_polygons([shapely.coverage_union_all(geoms[groups == i]) for i in range(n)])
    parts = [shapely.get_parts(m) for m in merged]
    return shapely.multipolygons(
        np.concatenate(parts), indices=np.repeat(np.arange(n), [len(p) for p in parts])
    )


def _streets(layout: Layout, grid_geoms: npt.NDArray[np.object_]) -> gpd.GeoDataFrame:
    street_of_grid = layout.community_street[layout.grid_community]
    geoms = _union_by(street_of_grid, grid_geoms, len(layout.street_code))
    return _frame({"code": layout.street_code, "name": layout.street_name}, geoms)


def _communities(layout: Layout, grid_geoms: npt.NDArray[np.object_]) -> gpd.GeoDataFrame:
    geoms = _union_by(layout.grid_community, grid_geoms, len(layout.community_code))
    return _frame(
        {
            "code": layout.community_code,
            "name": layout.community_name,
            "street_code": np.asarray(layout.street_code)[layout.community_street],
            "kind": layout.community_kind,
        },
        geoms,
    )


def _roads(roads: Roads, place: Place) -> gpd.GeoDataFrame:
    """Road lines in lon/lat; vertices shared by two roads convert identically, so they stay joined."""
    sizes = np.array([len(line) for line in roads.lines])
    lonlat = to_lonlat(np.concatenate(roads.lines), place)
    lines = shapely.linestrings(lonlat, indices=np.repeat(np.arange(len(sizes)), sizes))
    return _frame(
        {"code": roads.code, "name": roads.name, "kind": roads.kind, "walkable": True},
        lines,
    )


def _rectangles(rect: FloatArray, place: Place) -> npt.NDArray[np.object_]:
    """Counter-clockwise rectangles (metric x0, y0, x1, y1) as lon/lat polygons."""
    x0, y0, x1, y1 = rect.T
    ring = np.stack([np.stack(c, axis=1) for c in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))], axis=1)
    return shapely.polygons(to_lonlat(ring, place))


def _buildings(
    b: Buildings, code: npt.NDArray[np.str_], grid_code: npt.NDArray[np.str_], place: Place
) -> gpd.GeoDataFrame:
    return _frame(
        {
            "code": code,
            "name": b.name,
            "address": b.address,
            "floors": b.floors,
            "grid_code": grid_code[b.grid],
        },
        _rectangles(b.rect, place),
    )


def _households(
    h: Households, building_code: npt.NDArray[np.str_], building_grid: npt.NDArray[np.str_], place: Place
) -> gpd.GeoDataFrame:
    lonlat = to_lonlat(h.xy, place)
    code = np.char.add(building_code[h.building], np.char.zfill(h.number.astype(str), 4))
    frame = pd.DataFrame(
        {
            "code": code,
            "address": h.address,
            "building_code": building_code[h.building],
            "unit": pd.Series(h.unit).replace("", None),
            "room": pd.Series(h.room).replace("", None),
            "size": h.size,
            "party_member": h.party_member,
            "center_household": h.center_household,
            "contact_name": h.contact_name,
            "contact_phone": h.contact_phone,
            "grid_code": building_grid[h.building],
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=WGS84)


def _points(
    p: Points,
    grid_code: npt.NDArray[np.str_],
    place: Place,
    *,
    prefix: str,
    group: npt.NDArray[np.int64],
    group_codes: npt.NDArray[np.str_],
) -> gpd.GeoDataFrame:
    """Speakers or service points; codes are `prefix` + owning grid/community code + 2-digit number."""
    order = np.argsort(group, kind="stable")
    number = np.empty(len(group), dtype=np.int64)
    number[order] = number_within(group[order])
    code = np.char.add(np.char.add(prefix, group_codes[group]), np.char.zfill(number.astype(str), 2))
    lonlat = to_lonlat(p.xy, place)
    frame = pd.DataFrame(
        {
            "code": code,
            "name": p.name,
            "kind": pd.Series(p.kind).replace("", None),
            "status": pd.Series(p.status).replace("", None),
            "radius_m": p.radius_m,
            "grid_code": grid_code[p.grid],
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=WGS84)
