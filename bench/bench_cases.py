"""Cases on PostGIS: intake through the API (routing included) and statistics over a million cases.

    python -m bench.bench_cases [--requests 2000] [--cases 1000000] [--port 8170]

Intake: the sample district in a fresh PostGIS database behind `gridmap serve
--workers 2` on a loopback port; 16 client threads POST /cases with a token,
half by address (the building register's addresses), half by a GCJ-02 point,
so every case is routed like a lookup and written with its first event.
Statistics: the seeded year of sample cases (50,000 per seed) repeated with
fresh numbers up to `--cases` in the `cases` table (their events are not
loaded: statistics read the case table only); then the statistics per grid,
community, street and department, over everything and over one month, and
the first page of overdue cases with its total (median of 3 each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psycopg

from bench.common import WORK, analysed, median_seconds, table, write_section
from gridmap.cases.desk import CaseDesk
from gridmap.cases.lifecycle import Actor
from gridmap.cases.sample import sample_cases
from gridmap.catalogue import LAYER_NAMES
from gridmap.crs import from_wgs84
from gridmap.lookup import LookupService
from gridmap.privacy import Role
from gridmap.sample import load_sample
from gridmap.stores import open_store
from gridmap.stores.cases import CASE_COLUMNS, EVENT_COLUMNS, CaseFilter

ADMIN_URL = os.environ.get("GRIDMAP_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
TOKEN = "bench-cases-admin-token-0123456789"
THREADS = 16
PER_SEED = 50_000
NOW = dt.datetime(2026, 12, 2, 2, tzinfo=dt.UTC)


@contextmanager
def database() -> Iterator[str]:
    name = f"gridmap_bench_cases_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    try:
        yield "postgresql+psycopg://" + ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def server(url: str, port: int) -> Iterator[str]:
    """`gridmap serve --workers 2` on 127.0.0.1:`port`, stopped on exit."""
    WORK.mkdir(exist_ok=True)
    log = WORK / "bench_cases_server.log"
    env = {k: v for k, v in os.environ.items() if k != "GRIDMAP_TOKENS_FILE"}
    env["GRIDMAP_TOKENS"] = json.dumps({TOKEN: {"role": "admin", "name": "bench"}})
    command = [str(Path(sys.executable).with_name("gridmap")), "serve", "--store", url, "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen([*command, "--workers", "2"], stdout=out, stderr=out, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 600  # a shared machine can take minutes to start two workers
            while True:
                if analysed(base, timeout=30):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start ({proc.poll()}): {log.read_text()[-2000:]}")
                time.sleep(0.5)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def intake_bodies(url: str, n: int) -> list[dict[str, object]]:
    """Half by building address, half by a household's point in GCJ-02, shuffled."""
    rng = np.random.default_rng(16)
    with open_store(url) as store:
        buildings = store.read("buildings")
        households = store.read("households")
    addresses = buildings["address"].dropna().astype(str).to_numpy()
    pick = households.geometry.iloc[rng.integers(0, len(households), size=n - n // 2)]
    x, y = from_wgs84(pick.x.to_numpy(), pick.y.to_numpy(), "gcj02")
    bodies: list[dict[str, object]] = [
        {"category": "0102", "address": str(a), "source": "hotline"}
        for a in rng.choice(addresses, size=n // 2)
    ]
    bodies += [
        {"category": "0404", "lon": float(a), "lat": float(b), "crs": "gcj02"}
        for a, b in zip(x, y, strict=True)
    ]
    order = rng.permutation(len(bodies))
    return [bodies[i] for i in order]


def measure_intake(url: str, port: int, requests: int) -> dict[str, float]:
    bodies = intake_bodies(url, requests)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    latencies: list[float] = []
    with server(url, port) as base, httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for body in bodies[:20]:  # warm both workers' lookup indexes
            client.post("/cases", json=body).raise_for_status()

        def post(body: dict[str, object]) -> float:
            start = time.perf_counter()
            reply = client.post("/cases", json=body)
            if reply.status_code != 201:
                raise RuntimeError(f"{reply.status_code}: {reply.text[:300]}")
            return time.perf_counter() - start

        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            latencies = list(pool.map(post, bodies))
        elapsed = time.perf_counter() - started
    with open_store(url) as store:
        stored = store.case_book().count()
    if stored != requests + 20:
        raise RuntimeError(f"{stored} cases stored, expected {requests + 20}")
    ordered = sorted(latencies)
    return {
        "requests": requests,
        "seconds": elapsed,
        "rate": requests / elapsed,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
    }


def million(url: str, n: int) -> float:
    """Fill the case table with `n` cases (the seeded year, repeated with fresh numbers); seconds to load."""
    with open_store(url) as store:
        frames = {name: store.read(name) for name in LAYER_NAMES}
        base, _events, _ledger = sample_cases(frames, now=NOW, count=min(n, PER_SEED))
        parts = []
        for k in range(-(-n // len(base))):
            part = base.assign(code=base["code"] + f"-{k:03d}")
            parts.append(part)
        cases = pd.concat(parts, ignore_index=True).iloc[:n]
        started = time.perf_counter()
        store.case_book().replace(cases, pd.DataFrame(columns=list(EVENT_COLUMNS)))
        loaded = time.perf_counter() - started
        assert store.case_book().count() == n and set(cases.columns) <= set(CASE_COLUMNS)
    return loaded


def measure_statistics(url: str) -> list[list[object]]:
    rows: list[list[object]] = []
    with open_store(url) as store:
        desk = CaseDesk(store, LookupService(store), clock=lambda: NOW)
        month = desk.calendar.period(dt.date(2026, 7, 1), dt.date(2026, 7, 31))
        for by in ("grid", "community", "street", "department"):
            whole = median_seconds(partial(desk.statistics, by), repeat=3, warmup=1)
            july = median_seconds(partial(desk.statistics, by, since=month[0], until=month[1]), repeat=3)
            groups = len(desk.statistics(by))
            rows.append([by, f"{groups:,}", f"{whole:.3f}", f"{july:.3f}"])
        admin = Actor(Role.ADMIN, "bench")
        overdue = median_seconds(lambda: desk.search(admin, CaseFilter(overdue=True), limit=100), repeat=3)
        total = desk.search(admin, CaseFilter(overdue=True), limit=100)[1]
        rows.append([f"first 100 overdue cases + total ({total:,})", "", f"{overdue:.3f}", ""])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8170)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with database() as url:
        with open_store(url) as store:
            load_sample(store)
        intake = measure_intake(url, args.port, args.requests)
        print(f"intake: {intake}", flush=True)
        loaded = million(url, args.cases)
        print(f"loaded {args.cases:,} cases in {loaded:.1f} s", flush=True)
        stats = measure_statistics(url)
        print(stats, flush=True)
    load_after = os.getloadavg()[0]
    intake_row: list[object] = [f"{intake['requests']:,}", f"{intake['seconds']:.1f}"]
    intake_row.append(f"{intake['rate']:.0f}")
    intake_row += [f"{intake['p50']:.1f}", f"{intake['p99']:.1f}"]
    body = f"""
Cases on PostGIS (`python -m bench.bench_cases --requests {args.requests} --cases {args.cases}`).

Intake through the API: `gridmap serve --workers 2`, {THREADS} client threads on the same machine,
{intake["requests"]:,} `POST /cases` with an admin token, half by address, half by a GCJ-02 point
(every case routed by the lookup rules and written with its first event).

{table(["cases", "seconds", "cases/s", "p50 ms", "p99 ms"], [intake_row])}

Statistics over {args.cases:,} cases (the seeded year of sample cases repeated with fresh numbers,
loaded by COPY in {loaded:.1f} s), median of 3 after one warm-up, seconds:

{table(["by", "groups", "all cases", "one month (July)"], stats)}

The machine was shared with other work: its 1-minute load average was {load_before:.1f} at the
start and {load_after:.1f} at the end (2 cores), so these figures are pessimistic.
"""
    write_section("cases", body)


if __name__ == "__main__":
    main()
