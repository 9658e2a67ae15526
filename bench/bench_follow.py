"""How soon an edit made outside gridmap is served: /health, the item, a lookup and /coverage.

    .venv/bin/python -m bench.bench_follow [--rounds 4] [--stores GeoPackage PostGIS] [--label after]

Workload: the test district of `tests/api` (3 grids) in a fresh store of each
kind, served by the API's app in-process with its builder thread (as
`gridmap serve` runs it). Each round moves speaker K1 between grids G1 and G3
and renames grid G3 by a writer that is not gridmap (GDAL's Python bindings
on the GeoPackage, psycopg SQL on PostGIS), then polls each reader every
0.05 s until it serves the edit: the revision, the speaker's new place and
derived grid, the new grid name from a point lookup, and G1's speaker share
in /coverage. Seconds are counted from the external commit's return.
Prints one JSON line per store: the median and slowest of each reader.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.main import create_app
from bench.bench_write_path import _postgis
from gridmap.stores import open_store
from tests.api.conftest import VIEWER, bearer, district, settings_for
from tests.stores.test_external_edits import Writer, gdal_writer, sql_writer

ROUNDS = (  # K1's place, its grid, G1's speaker share once served, G3's new name
    ((114.3195, 30.5195), "G3", 0.0, "和平网格(一)"),
    ((114.3045, 30.505), "G1", 1.0, "和平网格(二)"),
)
READERS = ("health", "item", "lookup", "coverage")


def _g1_share(client: TestClient) -> float:
    reply = client.get("/coverage", params={"level": "grids"}, headers=bearer(VIEWER))
    return float({g["code"]: g for g in reply.json()["grids"]}["G1"]["speaker_share"])


def _follow(client: TestClient, write: Writer, rounds: int) -> dict[str, list[float]]:
    start = time.monotonic()
    while _g1_share(client) != 1.0 and time.monotonic() - start < 120:  # the first analysis
        time.sleep(0.05)
    times: dict[str, list[float]] = {name: [] for name in READERS}
    for n in range(rounds):
        seen = _round(client, write, n)
        for reader in READERS:
            times[reader].append(seen.get(reader, float("inf")))
    return times


def _round(client: TestClient, write: Writer, n: int) -> dict[str, float]:
    """One external edit; the seconds each reader took to serve it."""
    (x, y), grid, share, name = ROUNDS[n % len(ROUNDS)]
    name = f"{name}{n}"
    before = client.get("/health").json()["revision"]
    edits: list[dict[str, Any]] = [
        {"op": "move", "layer": "speakers", "code": "K1", "wkt": f"POINT ({x} {y})"},
        {"op": "set", "layer": "grids", "code": "G3", "fields": {"name": name}},
    ]
    assert write(edits) == [None, None]
    start = time.monotonic()

    def item() -> bool:
        properties = client.get("/collections/speakers/items/K1").json()
        return bool(
            properties["geometry"]["coordinates"] == [x, y] and properties["properties"]["grid_code"] == grid
        )

    def lookup() -> bool:
        return bool(
            client.get("/lookup", params={"lon": 114.315, "lat": 30.51}).json()["grid"]["name"] == name
        )

    checks: dict[str, Callable[[], bool]] = {
        "health": lambda: client.get("/health").json()["revision"] != before,
        "item": item,
        "lookup": lookup,
        "coverage": lambda: _g1_share(client) == share,
    }
    seen: dict[str, float] = {}
    while len(seen) < len(checks) and time.monotonic() - start < 60:
        for reader, check in checks.items():
            if reader not in seen and check():
                seen[reader] = time.monotonic() - start
        time.sleep(0.05)
    return seen


def _measure(url: str, rounds: int) -> dict[str, list[float]]:
    with open_store(url) as store:
        store.replace_many(district())
    write = gdal_writer(url) if url.endswith(".gpkg") else sql_writer(url)
    settings = settings_for(url, serving_dir=Path(tempfile.mkdtemp(prefix="bench-follow-")))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        return _follow(client, write, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--stores", nargs="+", choices=["GeoPackage", "PostGIS"], default=["GeoPackage", "PostGIS"]
    )
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    for store in args.stores:
        load = os.getloadavg()[0]
        if store == "GeoPackage":
            times = _measure(str(Path(tempfile.mkdtemp(prefix="bench-follow-")) / "store.gpkg"), args.rounds)
        else:
            with _postgis() as url:
                times = _measure(url, args.rounds)
        summary = {r: [round(statistics.median(v), 2), round(max(v), 2)] for r, v in times.items()}
        print(
            json.dumps({"label": args.label, "store": store, "load": round(load, 1), **summary}), flush=True
        )


if __name__ == "__main__":
    main()
