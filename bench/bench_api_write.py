"""One-feature API write benchmark: how long a PUT of one speaker takes, on both stores.

    .venv/bin/python -m bench.bench_api_write [--scale 1] [--rounds 20] [--label after]

Workload: `gridmap.sample.generate(scale)` loaded into a GeoPackage and a
PostGIS store (a fresh database, dropped afterwards). An in-process app (the
API as `gridmap serve` runs it, builder in a thread) answers, through
FastAPI's test client with an admin token:
- PUT of one speaker moved 30 m (each round a different speaker, alternately
  within its grid and into the neighbouring one), the reply's grid checked;
- PATCH of one household's phone;
- GET of the same speaker (the read a write is compared with).
Median and slowest of `--rounds` each. `--label` names the code measured
(for before/after rows of the same section in bench/RESULTS.md).
Writes bench/RESULTS.md section "api-write".
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from bench.common import table, write_section
from gridmap.sample import generate
from gridmap.stores import open_store

ADMIN = "bench-admin-token-0123456789abcdef"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def _postgis() -> Iterator[str]:
    name = f"gridmap_test_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _timed(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, max(times) * 1000


def _measure(url: str, layers: dict, rounds: int, tmp: Path) -> list[tuple[str, float, float]]:
    with open_store(url) as store:
        for name, frame in layers.items():
            store.replace(name, frame)
    settings = ApiSettings(  # type: ignore[call-arg]
        store=url,
        tokens=json.dumps({ADMIN: {"role": "admin"}}),
        builder="thread",
        serving_dir=tmp / "serving",
    )
    speakers = layers["speakers"].sort_values("code").reset_index(drop=True)
    households = layers["households"]["code"].astype(str).tolist()
    auth = {"Authorization": f"Bearer {ADMIN}"}
    out = []
    with TestClient(create_app(settings)) as client:
        state = {"i": 0}

        def put() -> None:
            i = state["i"] = state["i"] + 1
            code = str(speakers["code"].iat[i % len(speakers)])
            feature = client.get(f"/collections/speakers/items/{code}", headers=auth).json()
            lon, lat = feature["geometry"]["coordinates"]
            feature["geometry"]["coordinates"] = [lon + (0.0003 if i % 2 else -0.0003), lat]
            reply = client.put(f"/collections/speakers/items/{code}", headers=auth, json=feature)
            assert reply.status_code == 200, reply.text

        def patch() -> None:
            i = state["i"] = state["i"] + 1
            code = households[i % len(households)]
            body = {"properties": {"contact_phone": f"1380000{i % 10000:04d}"}}
            reply = client.patch(f"/collections/households/items/{code}", headers=auth, json=body)
            assert reply.status_code == 200, reply.text

        def get() -> None:
            code = str(speakers["code"].iat[state["i"] % len(speakers)])
            assert client.get(f"/collections/speakers/items/{code}", headers=auth).status_code == 200

        put()  # warm-up: indexes, caches, the first analysis
        for name, fn in (
            ("PUT speaker (moved 30 m)", put),
            ("PATCH household phone", patch),
            ("GET speaker", get),
        ):
            median, worst = _timed(fn, rounds)
            out.append((name, median, worst))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--label", default="current")
    args = parser.parse_args()
    layers = generate(scale=args.scale)
    households = len(layers["households"])
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("gpkg", "postgis"):
            if kind == "gpkg":
                results = _measure(str(Path(tmp) / "bench.gpkg"), layers, args.rounds, Path(tmp) / "g")
            else:
                with _postgis() as url:
                    results = _measure(url, layers, args.rounds, Path(tmp) / "p")
            for name, median, worst in results:
                rows.append([args.label, kind, name, f"{median:.1f}", f"{worst:.1f}"])
                print(args.label, kind, name, f"median {median:.1f} ms, slowest {worst:.1f} ms", flush=True)
    body = (
        f"Scale {args.scale} ({households:,} households), {args.rounds} rounds each, in-process app "
        "(test client, builder in a thread).\n\n"
        + table(["code", "store", "request", "median ms", "slowest ms"], rows)
    )
    write_section(f"api-write-{args.label}", body)


if __name__ == "__main__":
    main()
