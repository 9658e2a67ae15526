"""What crosses county lines: features filed under one county but lying in another, and sites' reach.

Each county is analysed alone, so two things must be settled first, by
location, for the result to equal the single-process run:

- strays: a building or point whose code names one county but which lies
  inside another county's grids (or has no county in its code) moves there;
- reach: a speaker or service point near a county line covers households on
  the other side, so it is lent (as a read-only guest) to every county whose
  grids its range reaches.

Each county's outline (the union of its grids) and its strays are computed
per partition on the cluster (`county_outline`); the strays, few, are placed
on the driver; the reach of every site is joined with the outlines by
dask-geopandas over the partitioned site layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.analysis import WHOLE_LAYERS
from gridmap.assignment import DERIVED_LAYERS
from gridmap.coverage import CoverageOptions, service_radii, speaker_radii
from gridmap.distributed.partitions import county_of, layer_file, read_county, read_layer, read_whole
from gridmap.frames import WGS84

SITE_LAYERS = ("speakers", "service_points")
# Degrees per metre, overstated (a box around the circle, at most 1 % too small a metre per degree).
_METRES_PER_DEGREE_LAT = 110_000.0


@dataclass(frozen=True)
class CountyOutline:
    """One county's grids as one shape, and its features lying outside it (code, layer, point)."""

    county: str
    outline: shapely.Geometry
    strays: gpd.GeoDataFrame


@dataclass
class Moves:
    """Per county: features to add (strays moving in, guest sites) and codes to drop (strays moving out)."""

    arriving: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # county → layer → codes
    leaving: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    guests: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    source: dict[tuple[str, str], str] = field(default_factory=dict)  # (layer, code) → county file


def county_outline(root: str | Path, county: str) -> CountyOutline:
    """The union of a county's grids, and its buildings and points outside it."""
    frames = read_county(root, county)
    grids = np.asarray(frames["grids"].geometry.values, dtype=object)
    grids = grids[~shapely.is_missing(grids)]
    outline = shapely.union_all(shapely.make_valid(grids)) if len(grids) else shapely.Polygon()
    shapely.prepare(outline)
    parts = []
    for layer in DERIVED_LAYERS:
        frame = frames[layer]
        points = _points_of(frame, layer)
        inside = shapely.covers(outline, points) & ~shapely.is_missing(points)
        out = ~inside & ~shapely.is_missing(points)
        if out.any():
            parts.append(
                gpd.GeoDataFrame(
                    {"layer": layer, "code": frame["code"].to_numpy()[out], "home": county},
                    geometry=points[out],
                    crs=WGS84,
                )
            )
    strays = pd.concat(parts, ignore_index=True) if parts else _no_strays()
    return CountyOutline(county, outline, gpd.GeoDataFrame(strays, geometry="geometry", crs=WGS84))


def _points_of(frame: gpd.GeoDataFrame, layer: str) -> np.ndarray:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return shapely.point_on_surface(geoms) if layer == "buildings" else geoms


def _no_strays() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "layer": pd.Series([], dtype=str),
            "code": pd.Series([], dtype=str),
            "home": pd.Series([], dtype=str),
        },
        geometry=gpd.GeoSeries([], crs=WGS84),
        crs=WGS84,
    )


def outlines_frame(outlines: list[CountyOutline]) -> gpd.GeoDataFrame:
    """One row per county with grids: `county, geometry`."""
    kept = [o for o in outlines if not shapely.is_empty(o.outline)]
    return gpd.GeoDataFrame(
        {"county": [o.county for o in kept]}, geometry=[o.outline for o in kept], crs=WGS84
    )


def place_strays(outlines: list[CountyOutline], moves: Moves) -> None:
    """Move each stray to the county whose grids hold it (strays in no county stay where they are)."""
    strays = pd.concat([o.strays for o in outlines], ignore_index=True)
    if len(strays) == 0:
        return
    strays = gpd.GeoDataFrame(strays, geometry="geometry", crs=WGS84)
    hits = gpd.sjoin(strays, outlines_frame(outlines), how="inner", predicate="within")
    hits = hits[~hits.index.duplicated(keep="first")]
    for row in hits[["layer", "code", "home", "county"]].itertuples(index=False):
        _add(moves.leaving, row.home, row.layer, row.code)
        _add(moves.arriving, row.county, row.layer, row.code)
        moves.source[(row.layer, row.code)] = row.home


def lend_sites(
    root: str | Path,
    counties: list[str],
    outlines: gpd.GeoDataFrame,
    options: CoverageOptions,
    moves: Moves,
    walking_m: float = 0.0,
) -> None:
    """Lend each speaker and service point to every other county its range reaches (dask-geopandas join);
    a service point reaches at least `walking_m` when households walk to it (never farther on foot)."""
    for layer in SITE_LAYERS:
        sites = dask_geopandas.read_parquet([str(layer_file(root, layer, county)) for county in counties])
        reach = sites.map_partitions(_reach_boxes, layer, options, walking_m, meta=_reach_meta())
        pairs = dask_geopandas.sjoin(reach, outlines, how="inner", predicate="intersects")
        found = pairs[["code", "county"]].compute()
        filed = county_of(found["code"]).to_numpy()
        arrived = {code: c for c, layers in moves.arriving.items() for code in layers.get(layer, [])}
        for code, county, file in zip(found["code"], found["county"], filed, strict=True):
            if county != arrived.get(code, file):
                _add(moves.guests, county, layer, code)
                moves.source[(layer, code)] = file


def _reach_boxes(
    sites: gpd.GeoDataFrame, layer: str, options: CoverageOptions, walking_m: float = 0.0
) -> gpd.GeoDataFrame:
    """A lon/lat box around each site's range (a little larger than the circle)."""
    if layer == "speakers":
        radii = speaker_radii(sites, options)
    else:
        radii = np.maximum(service_radii(sites), walking_m)
    radii = np.nan_to_num(radii, nan=0.0)
    x, y = shapely.get_x(sites.geometry.values), shapely.get_y(sites.geometry.values)
    dy = radii / _METRES_PER_DEGREE_LAT
    dx = dy / np.maximum(np.cos(np.radians(np.clip(np.abs(y) + dy, 0.0, 89.0))), 1e-6)
    boxes = shapely.box(x - dx, y - dy, x + dx, y + dy)
    return gpd.GeoDataFrame({"code": sites["code"].astype(str).to_numpy()}, geometry=boxes, crs=WGS84)


def _reach_meta() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": pd.Series([], dtype=str)}, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84
    )


def _add(target: dict[str, dict[str, list[str]]], county: str, layer: str, code: str) -> None:
    target.setdefault(county, {}).setdefault(layer, []).append(code)


def county_frames(
    root: str | Path, county: str, moves: Moves
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, set[str]]]:
    """A county's layers as the analysis must see them, and the codes of its guest sites per layer."""
    frames = read_county(root, county)
    leaving = moves.leaving.get(county, {})
    incoming: dict[str, list[str]] = {}
    for source in (moves.arriving.get(county, {}), moves.guests.get(county, {})):
        for layer, codes in source.items():
            incoming.setdefault(layer, []).extend(codes)
    for layer, codes in leaving.items():
        frame = frames[layer]
        frames[layer] = frame[~frame["code"].isin(codes)].reset_index(drop=True)
    for layer, codes in incoming.items():
        by_file: dict[str, list[str]] = {}
        for code in codes:
            by_file.setdefault(moves.source[(layer, code)], []).append(code)
        extra = [_rows(read_layer(root, layer, src), wanted) for src, wanted in by_file.items()]
        frames[layer] = pd.concat([frames[layer], *extra], ignore_index=True).sort_values(
            "code", ignore_index=True
        )
    for layer in WHOLE_LAYERS:  # the walking network is the whole area's, as in one process
        frames[layer] = read_whole(root, layer)
    guests = {layer: set(codes) for layer, codes in moves.guests.get(county, {}).items()}
    return frames, guests


def _rows(frame: gpd.GeoDataFrame, codes: list[str]) -> gpd.GeoDataFrame:
    return frame[frame["code"].isin(codes)]
