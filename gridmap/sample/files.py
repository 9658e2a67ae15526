"""The sample's files: GeoJSON per layer, households as CSV (lon/lat columns), and loading into a store.

GeoJSON (RFC 7946, 7 decimals ≈ 1 cm) opens in QGIS, geojson.io and every
web map; households are a CSV because that is how household registers are
kept and because it is a third of the size. Files are written in code order
with fixed precision, so regenerating gives byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely.geometry

from gridmap.catalogue import LAYER_NAMES, get_layer
from gridmap.errors import NotFoundError
from gridmap.frames import WGS84, conform
from gridmap.sample.generate import District, generate
from gridmap.stores.base import Store

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SAMPLE_DIR = DATA_DIR / "sample"
DIRTY_DIR = DATA_DIR / "dirty"
CSV_LAYERS = frozenset({"households"})


def layer_path(directory: Path, layer: str) -> Path:
    """Where `layer` lives in a sample directory."""
    return directory / (f"{layer}.csv" if layer in CSV_LAYERS else f"{layer}.geojson")


def write_sample(frames: dict[str, gpd.GeoDataFrame], out_dir: str | Path) -> list[Path]:
    """Write each layer of `frames` into `out_dir` (created if needed); returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for layer, frame in frames.items():
        path = layer_path(out, layer)
        canonical = conform(layer, frame).sort_values("code", ignore_index=True)
        if layer in CSV_LAYERS:
            _write_csv(canonical, path)
        else:
            _write_geojson(canonical, path)
        written.append(path)
    return written


HOUSEHOLD_CHUNK = 500_000
"""Households spelt out and written at a time by `write_district` (a few hundred MB of strings)."""


def write_district(district: District, out_dir: str | Path) -> list[Path]:
    """Write a generated district like `write_sample`, households chunk by chunk (same bytes).

    Only one chunk of households is ever held as strings, so a city of ten
    million households is written in a few gigabytes at most.
    """
    out = Path(out_dir)
    written = write_sample(district.layers, out)
    path = layer_path(out, "households")
    path.unlink(missing_ok=True)
    for start in range(0, max(district.household_count, 1), HOUSEHOLD_CHUNK):
        chunk = district.households(slice(start, start + HOUSEHOLD_CHUNK))
        _write_csv(chunk, path, append=start > 0)
    return [*written, path]


def _write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    """RFC 7946 GeoJSON, one feature per line (readable diffs).

    Written with the standard library rather than GDAL so that the bytes
    depend only on the data: Python prints a float as its shortest repr,
    the same on every platform and version.
    """
    attributes = frame.drop(columns="geometry").astype(object)
    records = attributes.where(attributes.notna(), None).to_dict("records")
    features = [
        json.dumps(
            {"type": "Feature", "properties": record, "geometry": shapely.geometry.mapping(geom)},
            ensure_ascii=False,
        )
        for record, geom in zip(records, frame.geometry.values, strict=True)
    ]
    text = '{"type": "FeatureCollection", "features": [\n' + ",\n".join(features) + "\n]}\n"
    path.write_text(text, encoding="utf-8", newline="\n")


def _write_csv(frame: gpd.GeoDataFrame, path: Path, *, append: bool = False) -> None:
    """Point layer as CSV: the catalogue fields, then lon and lat; booleans as true/false.

    With `append`, the rows go after those already in `path`, without a header.
    """
    table = pd.DataFrame(frame.drop(columns="geometry"))
    for name in table.columns:
        if table[name].dtype == "boolean":
            table[name] = table[name].map({True: "true", False: "false"}).astype("string")
    table["lon"] = frame.geometry.x.map("{:.7f}".format)
    table["lat"] = frame.geometry.y.map("{:.7f}".format)
    table.to_csv(path, index=False, lineterminator="\n", mode="a" if append else "w", header=not append)


def read_sample(directory: str | Path | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The canonical frames of a sample directory (default data/sample)."""
    src = Path(directory) if directory is not None else SAMPLE_DIR
    frames = {}
    for layer in LAYER_NAMES:
        path = layer_path(src, layer)
        if not path.exists():
            raise NotFoundError(f"sample file {path} is missing; run `gridmap sample --out {src}`")
        frame = _read_csv(layer, path) if layer in CSV_LAYERS else pyogrio.read_dataframe(path)
        frames[layer] = conform(layer, frame.set_crs(WGS84, allow_override=True))
    return frames


def _read_csv(layer: str, path: Path) -> gpd.GeoDataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    spec = get_layer(layer)
    for f in spec.fields:
        if f.type == "boolean":
            table[f.name] = table[f.name].map({"true": True, "false": False})
        elif f.type in ("integer", "real"):
            table[f.name] = pd.to_numeric(table[f.name])
    lon, lat = table.pop("lon").astype(float).to_numpy(), table.pop("lat").astype(float).to_numpy()
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)


def load_sample(store: Store, path: str | Path | None = None) -> dict[str, int]:
    """Replace every layer of `store` with the sample district (idempotent); returns the counts.

    Without `path`, the committed data/sample is used, or — in an installation
    without the data folder — the district is generated on the fly (same seed,
    same features).
    """
    frames = generate() if path is None and not SAMPLE_DIR.exists() else read_sample(path)
    store.replace_many(frames)
    return {layer: len(frame) for layer, frame in frames.items()}


def directory_size(directory: str | Path) -> int:
    """Total size in bytes of the files in `directory`."""
    return int(np.sum([p.stat().st_size for p in Path(directory).iterdir() if p.is_file()]))
