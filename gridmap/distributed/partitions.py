"""Layers split by county and kept as GeoParquet: the input of the distributed engine.

A feature's county is the first six digits of its code (GB/T 2260: province,
prefecture, county), as grids, communities, streets and the codes given to
buildings, households and sites all begin with their county. A code without
six digits goes to the partition `UNKNOWN`; the engine then places it by
location (see `gridmap.distributed.spread`).

On disk: `ROOT/<layer>/<county>.parquet`, one GeoParquet file per layer and
county, each in code order; `ROOT/counties.json` lists the counties. Every
worker of a cluster must see ROOT (a shared or network file system).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq

from gridmap.catalogue import LAYER_NAMES
from gridmap.errors import NotFoundError
from gridmap.frames import conform, empty_frame

COUNTY_DIGITS = 6
UNKNOWN = "000000"
MANIFEST = "counties.json"
MAX_HOUSEHOLDS = 250_000
"""Households of a county above which the engine cuts it into parts (`gridmap.distributed.parts`):
a part's analysis then stays well inside a 4 GiB worker."""


def county_of(codes: pd.Series) -> pd.Series:
    """The county (first six digits) of each code; `UNKNOWN` where a code has none."""
    found = codes.astype("string").str.extract(rf"(\d{{{COUNTY_DIGITS}}})", expand=False)
    return found.fillna(UNKNOWN).astype(str)


def layer_file(root: str | Path, layer: str, county: str) -> Path:
    """Where the partition of `layer` for `county` lives."""
    return Path(root) / layer / f"{county}.parquet"


def write_partitions(frames: Mapping[str, gpd.GeoDataFrame], root: str | Path) -> list[str]:
    """Split every layer of `frames` by county into GeoParquet files under `root`; returns the counties."""
    return write_layers(lambda layer: frames.get(layer, empty_frame(layer)), root)


def write_layers(read: Callable[[str], gpd.GeoDataFrame], root: str | Path) -> list[str]:
    """Split each layer `read(layer)` gives by county into GeoParquet files under `root`, one layer
    in memory at a time; returns the counties.

    Counties are those of any feature of any layer, so nothing is left out. A
    layer with no rows in a county gets an empty file, so every county has
    all seven layers.
    """
    written: dict[str, set[str]] = {}
    for layer in LAYER_NAMES:
        frame = read(layer)
        keys = county_of(frame["code"]).to_numpy()
        written[layer] = set()
        for county, part in frame.groupby(keys, sort=False):
            write_layer(part, root, layer, str(county))
            written[layer].add(str(county))
        del frame
    counties = sorted(set().union(*written.values()))
    for layer in LAYER_NAMES:
        for county in counties:
            if county not in written[layer]:
                write_layer(empty_frame(layer), root, layer, county)
    write_manifest(root, counties)
    return counties


def write_layer(frame: gpd.GeoDataFrame, root: str | Path, layer: str, county: str) -> Path:
    """Write one layer's partition of one county (canonical columns, in code order)."""
    path = layer_file(root, layer, county)
    path.parent.mkdir(parents=True, exist_ok=True)
    canonical = conform(layer, frame).sort_values("code", ignore_index=True)
    canonical.to_parquet(path, index=False, compression="zstd")
    return path


def write_manifest(root: str | Path, counties: Iterable[str]) -> None:
    """Record the counties of a partition directory."""
    Path(root).mkdir(parents=True, exist_ok=True)
    (Path(root) / MANIFEST).write_text(json.dumps(sorted(counties)) + "\n", encoding="utf-8")


def read_counties(root: str | Path) -> list[str]:
    """The counties a partition directory holds."""
    path = Path(root) / MANIFEST
    if not path.exists():
        raise NotFoundError(f"{root} holds no county partitions ({MANIFEST} is missing)")
    return list(json.loads(path.read_text(encoding="utf-8")))


def read_county(root: str | Path, county: str) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of one county, canonical."""
    return {layer: read_layer(root, layer, county) for layer in LAYER_NAMES}


def read_whole(root: str | Path, layer: str) -> gpd.GeoDataFrame:
    """One layer of every county, canonical, in code order."""
    parts = [read_layer(root, layer, county) for county in read_counties(root)]
    frames = [frame for frame in parts if len(frame)]
    if not frames:
        return empty_frame(layer)
    return conform(layer, pd.concat(frames, ignore_index=True)).sort_values("code", ignore_index=True)


def layer_rows(root: str | Path, layer: str, county: str) -> int:
    """How many rows one layer of one county holds (from the file's footer: nothing else is read)."""
    return int(pq.ParquetFile(layer_file(root, layer, county)).metadata.num_rows)


def read_layer(root: str | Path, layer: str, county: str) -> gpd.GeoDataFrame:
    """One layer of one county, canonical (empty when the file holds no rows)."""
    frame = gpd.read_parquet(layer_file(root, layer, county))
    return conform(layer, frame) if len(frame) else empty_frame(layer)
