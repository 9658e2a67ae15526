"""The analysis after an edit to speakers or service points, recomputed only where the edit reaches.

A site's edit changes which households it covers, so only the grids within
its old and new range can change. Their figures, and those of their
communities and streets, are recomputed by running the very same
`gridmap.analysis.analyze` on the streets holding those grids, and spliced
into the previous analysis; everything else is kept. A street is the unit
because every figure of the analysis (grid counts, uncovered areas, gaps,
community and street roll-ups, grades) depends only on the layers inside and
around it. Edits to other layers change assignment, topology or linkage and
take the whole analysis (`Refresh.full`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.analysis import GAP_TEXT, Analysis, AnalysisOptions, analyze, unassigned_gaps
from gridmap.assignment import BuildingLocator, GridLocator, codes_at, index_in, point_grids
from gridmap.coverage import service_radii, speaker_radii

SITE_LAYERS = ("speakers", "service_points")
"""Layers whose edits are recomputed street by street."""

_METRES_PER_DEGREE = 110_574.0  # of latitude; longitude scales by cos(latitude)


def changed_codes(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> list[str]:
    """Codes added, removed, or whose fields or geometry differ between two versions of a layer."""
    a = old.set_index("code", drop=False)
    b = new.set_index("code", drop=False)
    added = b.index.difference(a.index)
    removed = a.index.difference(b.index)
    both = a.index.intersection(b.index)
    a, b = a.loc[both], b.loc[both]
    fields = [c for c in a.columns if c != "geometry"]
    differs = ~(a[fields].astype(object).fillna("\0").eq(b[fields].astype(object).fillna("\0"))).all(axis=1)
    ga, gb = np.asarray(a.geometry.values, dtype=object), np.asarray(b.geometry.values, dtype=object)
    differs |= ~shapely.equals_exact(ga, gb, tolerance=0.0) & ~(
        shapely.is_missing(ga) & shapely.is_missing(gb)
    )
    return sorted([*added, *removed, *both[differs.to_numpy()]])


def reach(layer: str, sites: gpd.GeoDataFrame, options: AnalysisOptions) -> np.ndarray:
    """Boxes (lon/lat, n × 4) around each site holding every point it can reach."""
    radii = speaker_radii(sites, options.coverage) if layer == "speakers" else service_radii(sites)
    geoms = np.asarray(sites.geometry.values, dtype=object)
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    dy = radii / _METRES_PER_DEGREE * 1.01  # a margin for the metric projection's scale
    dx = dy / np.maximum(np.cos(np.radians(y)), 0.01)
    boxes = np.column_stack([x - dx, y - dy, x + dx, y + dy])
    return boxes[np.isfinite(boxes).all(axis=1)]


def affected_streets(analysis: Analysis, boxes: np.ndarray) -> list[str]:
    """Streets holding a grid that meets any of `boxes`."""
    grids = analysis.grids
    if not len(boxes) or not len(grids):
        return []
    tree = shapely.STRtree(np.asarray(grids.geometry.values, dtype=object))
    _, hit = tree.query(shapely.box(*boxes.T), predicate="intersects")
    return sorted(set(grids["street_code"].iloc[np.unique(hit)].dropna().astype(str)))


def region(
    frames: Mapping[str, gpd.GeoDataFrame], analysis: Analysis, streets: list[str], margin: np.ndarray
) -> tuple[dict[str, gpd.GeoDataFrame], np.ndarray]:
    """The layers the analysis of `streets` reads, and the positions of its households among all.

    Their areas, what was assigned inside them, and the sites within `margin` (degrees) around.
    """
    grid_codes = analysis.grids.loc[analysis.grids["street_code"].isin(streets), "code"]
    inside = {
        "streets": frames["streets"][frames["streets"]["code"].isin(streets)],
        "communities": frames["communities"][frames["communities"]["street_code"].isin(streets)],
        "grids": frames["grids"][frames["grids"]["code"].isin(grid_codes)],
    }
    rows = np.empty(0, dtype=np.intp)
    for layer in ("buildings", "households"):  # both in frame order, with grid_code derived
        rows = np.flatnonzero(analysis.frames[layer]["grid_code"].isin(grid_codes).to_numpy(dtype=bool))
        inside[layer] = frames[layer].iloc[rows]
    x0, y0, x1, y1 = inside["grids"].total_bounds
    window = shapely.box(x0 - margin[0], y0 - margin[1], x1 + margin[0], y1 + margin[1])
    for layer in SITE_LAYERS:
        sites = frames[layer]
        inside[layer] = sites[shapely.intersects(np.asarray(sites.geometry.values, dtype=object), window)]
    return {name: frame.reset_index(drop=True) for name, frame in inside.items()}, rows


def update_sites(
    frames: dict[str, gpd.GeoDataFrame],
    analysis: Analysis,
    edited: Mapping[str, gpd.GeoDataFrame],
    locator: GridLocator,
    options: AnalysisOptions | None = None,
    buildings: BuildingLocator | None = None,
) -> tuple[Analysis, list[str]]:
    """The analysis with site layers replaced by `edited` (whole new versions), and the streets redone.

    `frames` is updated in place to the new layers; the returned analysis
    equals `analyze(frames)` (tests/test_incremental.py holds it to that).
    `buildings` indexes `analysis.frames["buildings"]`: a site inside a
    building takes the building's grid, as `analyze` gives it (without it,
    the grid its point lies in).
    """
    opts = options or AnalysisOptions()
    boxes = [np.empty((0, 4))]
    out = dataclasses.replace(analysis, frames=dict(analysis.frames), timings={})
    place = _placer(analysis, locator, buildings)
    for layer, new in edited.items():
        codes = changed_codes(frames[layer], new)
        for version in (frames[layer], new):
            boxes.append(reach(layer, version[version["code"].isin(codes)], opts))
        frames[layer] = new
        out.frames[layer] = _assigned(new, analysis.frames[layer], codes, place)
    streets = affected_streets(analysis, np.concatenate(boxes))
    out.unassigned = _unassigned(analysis.unassigned, out.frames, list(edited))
    kept = out.gaps[(out.gaps["kind"] != "unassigned").to_numpy(dtype=bool)]
    out.gaps = _gap_frame([kept, unassigned_gaps(out.unassigned)], out.grids, analysis.gaps.crs)
    if streets:
        inside, rows = region(frames, analysis, streets, _widest_reach(frames, opts))
        out = _splice(out, analyze(inside, opts), streets, rows)
    return out, streets


def _widest_reach(frames: Mapping[str, gpd.GeoDataFrame], options: AnalysisOptions) -> np.ndarray:
    """Half the width and height (degrees) of the widest reach of any site: how far around sites matter."""
    boxes = np.concatenate([reach(layer, frames[layer], options) for layer in SITE_LAYERS])
    if not len(boxes):
        return np.zeros(2)
    return np.array([np.max(boxes[:, 2] - boxes[:, 0]), np.max(boxes[:, 3] - boxes[:, 1])]) / 2


Placer = Callable[[np.ndarray, np.ndarray], pd.api.extensions.ExtensionArray]
"""The grid code (null for none) of each lon/lat point."""


def _placer(analysis: Analysis, locator: GridLocator, buildings: BuildingLocator | None) -> Placer:
    """Where `analyze` puts a site: its building's grid when it lies in one, else the grid around it."""
    if buildings is None:
        return lambda x, y: codes_at(locator.codes, locator.locate(x, y))
    building_grid = index_in(analysis.frames["buildings"]["grid_code"], locator.codes)
    return lambda x, y: codes_at(locator.codes, point_grids(locator, buildings, building_grid, x, y)[0])


def _assigned(
    sites: gpd.GeoDataFrame, before: gpd.GeoDataFrame, changed: list[str], place: Placer
) -> gpd.GeoDataFrame:
    """Sites with `grid_code` derived from where they lie (`place` gives their grids).

    Sites not in `changed` keep the grid they had in `before` (the previous derived layer):
    only the edited ones are placed again.
    """
    kept = index_in(sites["code"], before["code"])
    fresh = (kept < 0) | sites["code"].isin(changed).to_numpy(dtype=bool)
    grid_code = codes_at(before["grid_code"], np.where(fresh, -1, kept))
    if fresh.any():
        geoms = np.asarray(sites.geometry.values, dtype=object)[fresh]
        grid_code[np.flatnonzero(fresh)] = place(shapely.get_x(geoms), shapely.get_y(geoms))
    return sites.assign(grid_code=grid_code)


def _unassigned(
    previous: gpd.GeoDataFrame, derived: Mapping[str, gpd.GeoDataFrame], layers: list[str]
) -> gpd.GeoDataFrame:
    """The previous unassigned features with the edited layers' own taken afresh."""
    keep = previous[~previous["layer"].isin(layers)]
    parts = [keep]
    for layer in layers:
        sites = derived[layer]
        lost = sites[
            sites["grid_code"].isna() & ~shapely.is_missing(np.asarray(sites.geometry.values, dtype=object))
        ]
        parts.append(
            gpd.GeoDataFrame(
                {"layer": layer, "code": lost["code"].to_numpy()},
                geometry=lost.geometry.to_numpy(),
                crs=previous.crs,
            ).reindex(columns=previous.columns)
        )
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=previous.crs)


def _replace_rows(whole: pd.DataFrame, part: pd.DataFrame, key: str, keys: Iterable[str]) -> pd.DataFrame:
    """`whole` with its rows whose `key` is in `keys` replaced by `part`'s, in `whole`'s order."""
    mine = whole[key].isin(keys).to_numpy(dtype=bool)
    if not mine.any():
        return whole
    position = pd.Index(part[key].astype(object)).get_indexer(whole.loc[mine, key].astype(object))
    out = whole.copy()
    out.loc[mine, list(part.columns)] = part.iloc[position].set_axis(out.index[mine]).to_numpy()
    return out


def _splice(out: Analysis, part: Analysis, streets: list[str], rows: np.ndarray) -> Analysis:
    """`out` with the figures of `streets` taken from `part` (the analysis of those streets alone).

    `rows` are the positions in `out.households` of the households `part` was given, in its order.
    """
    grid_codes = part.grids["code"]
    out.grids = _replace_rows(out.grids, part.grids, "code", grid_codes)
    out.communities = _replace_rows(out.communities, part.communities, "code", part.communities["code"])
    out.streets = _replace_rows(out.streets, part.streets, "code", streets)
    out.uncovered_areas = _replace_rows(out.uncovered_areas, part.uncovered_areas, "grid_code", grid_codes)
    households = out.households.copy(deep=False)  # the two columns below are replaced, not written into
    for column in ("speaker_covered", "service_covered"):
        values = households[column].to_numpy(copy=True)
        values[rows] = part.households[column].to_numpy()
        households[column] = values
    out.households = households
    per_grid = out.gaps["kind"].isin(list(GAP_TEXT)) & out.gaps["grid_code"].isin(grid_codes)
    fresh = part.gaps[part.gaps["kind"].isin(list(GAP_TEXT))]
    out.gaps = _gap_frame([out.gaps[~per_grid.to_numpy(dtype=bool)], fresh], out.grids, out.gaps.crs)
    return out


def _gap_frame(parts: list[pd.DataFrame], grids: pd.DataFrame, crs: object) -> gpd.GeoDataFrame:
    """Gap rows put together as `analyze` returns them: text columns as strings, in its order."""
    gaps = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    for name in ("kind", "grid_code", "description_zh", "description_en"):
        gaps[name] = gaps[name].astype("string")
    return gpd.GeoDataFrame(_in_gap_order(gaps, grids), geometry="geometry", crs=crs)


def _in_gap_order(gaps: pd.DataFrame, grids: pd.DataFrame) -> pd.DataFrame:
    """Gaps ordered as `analyze` orders them: per-grid kinds in `GAP_TEXT` order by grid, then the rest."""
    kinds = list(GAP_TEXT)
    rank = gaps["kind"].map({kind: i for i, kind in enumerate(kinds)}).fillna(len(kinds)).to_numpy()
    grid = pd.Index(grids["code"].astype(object)).get_indexer(gaps["grid_code"].astype(object))
    grid = np.where(rank < len(kinds), grid, 0)  # topology and unassigned rows keep their own order
    order = np.lexsort((grid, rank))
    return gaps.iloc[order].reset_index(drop=True)
