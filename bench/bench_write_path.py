"""One-feature write benchmark: the in-memory write path against the file path it replaced, in one run.

    .venv/bin/python -m bench.bench_write_path [--scale 1] [--rounds 30]
    .venv/bin/python -m bench.bench_write_path --store CITY.gpkg --rounds 10   # a store at hand, edited
    .venv/bin/python -m bench.bench_write_path --postgis-from CITY.gpkg --rounds 6   # the city in PostGIS

Workload: `gridmap.sample.generate(scale)` loaded into a GeoPackage and a
PostGIS store (a fresh database, dropped afterwards). Each round moves one
speaker 30 m and sets one household's phone (a different feature each round),
as an API PUT hands them to gridmap, by the two paths taking turns:
- file: the features written to a temporary GeoJSON file and imported with
  `import_file` (GDAL reads the file), every parent and every grid read
  whole: what an API write did before;
- memory: `import_source(features_source(...))`, reading only the parents
  the features name and the grids meeting their extent.
Both answers are checked (the speaker's derived grid, the phone stored).
`--postgis-from` loads a city GeoPackage into a fresh PostGIS database (its
small layers whole, its households by `gridmap import`, chunked), measures
there and drops the database.
Median and slowest of `--rounds` per path, store and edit.
Writes bench/RESULTS.md section "write-path".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely

from bench.bench_import_bounded import _layer as city_layer
from bench.common import run_cli, table, write_section
from gridmap.export import geojson_features
from gridmap.ingest import derive, features_source, import_file, import_source, importer
from gridmap.sample import generate
from gridmap.stores import Store, open_store

PG_ADMIN = os.environ.get("GRIDMAP_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def _postgis() -> Iterator[str]:
    name = f"gridmap_test_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _whole_reads() -> Iterator[None]:
    """The file path's reads: every parent and grid read whole (no write counts as small)."""
    before = derive.SMALL_WRITE, importer.SMALL_WRITE
    derive.SMALL_WRITE = importer.SMALL_WRITE = 0
    try:
        yield
    finally:
        derive.SMALL_WRITE, importer.SMALL_WRITE = before


def _by_file(store: Store, layer: str, features: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, _whole_reads():
        path = Path(tmp) / f"{layer}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
        import_file(store, layer, path, crs="wgs84", mode="append")


def _in_memory(store: Store, layer: str, features: list[dict[str, Any]]) -> None:
    import_source(store, layer, features_source(features), crs="wgs84", mode="append")


PATHS: dict[str, Callable[[Store, str, list[dict[str, Any]]], None]] = {
    "file": _by_file,
    "memory": _in_memory,
}
EAST_30_M = np.array([0.0003, 0.0])


def _measure(url: str, layers: dict | None, rounds: int) -> dict[tuple[str, str], list[float]]:
    """Each path's seconds per edit; `layers` are loaded first (None: the store already holds them)."""
    with open_store(url) as store:
        if layers is not None:
            store.replace_many(layers)
        speakers = store.read("speakers")
        households = store.query("households", limit=rounds * 2 + 2).frame  # not a city's 5M rows
        grids = store.read("grids")
        times: dict[tuple[str, str], list[float]] = {}
        for i in range(rounds * 2 + 2):
            path = "file" if i % 2 else "memory"
            speaker = speakers.iloc[[i % len(speakers)]].copy()
            speaker["geometry"] = shapely.transform(speaker.geometry.values, lambda xy: xy + EAST_30_M)
            household = households.iloc[[i]].copy()
            household["contact_phone"] = f"1380000{i:04d}"
            for edit, frame in (("speaker moved 30 m", speaker), ("household phone", household)):
                features = geojson_features(frame.drop(columns=["grid_code"], errors="ignore"))
                started = time.perf_counter()
                PATHS[path](store, edit.split()[0] + "s", features)
                if i >= 2:  # the first round of each path warms caches
                    times.setdefault((path, edit), []).append(time.perf_counter() - started)
            code = str(speaker["code"].iat[0])
            stored = store.read("speakers", codes=[code])
            inside = grids[grids.contains(stored.geometry.iat[0])]["code"].tolist()
            assert stored["grid_code"].iat[0] == (inside[0] if inside else None), (code, inside)
            phone = store.read("households", codes=[str(household["code"].iat[0])])["contact_phone"].iat[0]
            assert phone == household["contact_phone"].iat[0]
    return times


CITY_LAYERS = ("streets", "communities", "grids", "buildings", "service_points", "speakers")


def _load_city(url: str, city: Path) -> None:
    """The city's small layers written whole, then its households imported as a user would."""
    with open_store(url) as store:
        store.replace_many({layer: city_layer(city, layer) for layer in CITY_LAYERS})
    run_cli(["import", "households", str(city.resolve()), "--store", url, "--yes"])


def _rows(kind: str, times: dict[tuple[str, str], list[float]]) -> list[list[object]]:
    rows: list[list[object]] = []
    for edit in ("speaker moved 30 m", "household phone"):
        file, memory = times[("file", edit)], times[("memory", edit)]
        rows.append(
            [
                kind,
                edit,
                f"{statistics.median(file) * 1000:.0f} / {max(file) * 1000:.0f}",
                f"{statistics.median(memory) * 1000:.0f} / {max(memory) * 1000:.0f}",
                f"{statistics.median(memory) / statistics.median(file):.2f}",
            ]
        )
        print(*rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--store", help="measure on this GeoPackage store instead (it is edited)")
    parser.add_argument(
        "--postgis-from", type=Path, help="measure on this city GeoPackage loaded into PostGIS"
    )
    args = parser.parse_args()
    rows: list[list[object]] = []
    load = os.getloadavg()[0]
    if args.postgis_from:
        with _postgis() as url:
            loaded = time.perf_counter()
            _load_city(url, args.postgis_from)
            loaded = time.perf_counter() - loaded
            load = os.getloadavg()[0]
            with open_store(url) as store:
                count = store.counts()["households"]
            rows += _rows("PostGIS", _measure(url, None, args.rounds))
        workload = (
            f"{args.postgis_from.name} ({count:,} households) loaded into a fresh PostGIS database "
            f"in {loaded:.0f} s"
        )
        section = f"write-path-{count // 1_000_000}m-postgis"
    elif args.store:
        with open_store(args.store, create=False) as store:
            count = store.counts()["households"]
        rows += _rows("GeoPackage", _measure(args.store, None, args.rounds))
        workload = f"A store of {count:,} households ({Path(args.store).name})"
        section = f"write-path-{count // 1_000_000}m"
    else:
        layers = generate(scale=args.scale)
        count = len(layers["households"])
        with tempfile.TemporaryDirectory() as tmp:
            rows += _rows("GeoPackage", _measure(str(Path(tmp) / "bench.gpkg"), layers, args.rounds))
        with _postgis() as url:
            rows += _rows("PostGIS", _measure(url, layers, args.rounds))
        workload, section = f"Scale {args.scale} ({count:,} households)", f"write-path-scale-{args.scale}"
    body = (
        f"{workload}, {args.rounds} rounds per path, the two paths taking "
        f"turns; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.\n\n"
        + table(["store", "edit", "file path ms (median / slowest)", "memory path ms", "memory / file"], rows)
    )
    write_section(section, body)


if __name__ == "__main__":
    main()
