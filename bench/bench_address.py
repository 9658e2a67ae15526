"""Address lookups: match rate per address form, and old against new code at 1M households.

    .venv/bin/python -m bench.bench_address --baseline DIR [--duration 30] [--port 8130]

1. The corpus of bench/address_corpus.py on the committed sample and on
   districts generated with other seeds: per form, the share answered right
   (the building named; nothing for a road the register lacks), wrong
   buildings, and wrong grids from exact or normalised matches; and the
   representative point of every building looked up by point.
2. With `--baseline DIR` (a checkout of the code before the change, e.g.
   `git worktree add /tmp/base <commit>`): two `gridmap serve --workers N`,
   the baseline's on `--port` and the current one on `--port`+1, over the
   workload of bench.bench_api (the sample at scale 20, 1,000,000 households).
   wrk drives each in turn with the same single-address requests (3 interleaved
   slices, medians), then each answers the same 10,000-address batch (median of 3).
3. The request issue 10 reported stalling a server: `POST /lookup/batch?suggest=true`
   of 2,000 random 60-character addresses without a token, while /health and
   single lookups are timed every 50 ms.
Writes bench/RESULTS.md section "address".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import httpx

from bench.address_corpus import FormResult, corpus, evaluate, representative_points
from bench.bench_api import BATCH, QUERIES, addresses, ensure_wrk, load, matched_paths, server, workload
from bench.common import table, write_section
from gridmap.address import AddressIndex
from gridmap.assignment import BuildingLocator, GridLocator, building_grids, point_grids
from gridmap.sample import generate
from gridmap.sample.files import read_sample

ROUNDS = 3
HEAVY_ROWS = 2_000
DISTRICTS: dict[str, Callable[[], Mapping[str, gpd.GeoDataFrame]]] = {
    "committed sample": read_sample,
    "seed 7": lambda: generate(seed=7),
    "seed 2026": lambda: generate(seed=2026),
}


def corpus_rates() -> tuple[str, list[str]]:
    """The per-form table over every district, and one line per district on point lookups."""
    per_form: dict[str, list[FormResult]] = {}
    points = []
    for label, make in DISTRICTS.items():
        frames = make()
        grids, buildings = frames["grids"], frames["buildings"]
        positions = building_grids(grids, buildings)
        grid_of = dict(zip(buildings["code"].astype(str), positions.tolist(), strict=True))
        for result in evaluate(AddressIndex.from_frames(frames), grid_of, corpus(frames)):
            per_form.setdefault(result.form, []).append(result)
        found, _ = point_grids(
            GridLocator(grids), BuildingLocator(buildings), positions, *representative_points(buildings)
        )
        points.append(f"{label}: {int((found == positions).sum()):,} of {len(buildings):,}")
    rows: list[list[object]] = []
    for form, results in per_form.items():
        rates = " / ".join(f"{r.rate:.1%}" for r in results)
        rows.append(
            [
                form,
                " / ".join(f"{r.cases:,}" for r in results),
                rates,
                sum(r.wrong for r in results),
                sum(r.wrong_grid_exact for r in results),
            ]
        )
    header = [
        "form",
        "cases",
        "right (" + " / ".join(DISTRICTS) + ")",
        "wrong building",
        "wrong grid (exact)",
    ]
    return table(header, rows), points


PROBES = ("/health", f"/lookup?address={quote('和平路151号4栋')}", "/lookup?lon=114.3004380&lat=30.5645401")


def _probe(client: httpx.Client, latencies: list[float]) -> None:
    """Time one round of the probes (ms, appended to `latencies`), then pause 50 ms."""
    for path in PROBES:
        start = time.perf_counter()
        client.get(path)
        latencies.append(1000 * (time.perf_counter() - start))
    time.sleep(0.05)


def heavy_batch(base: str, rows: int, seed: int = 10) -> dict[str, float]:
    """An anonymous suggest batch of random 60-character addresses: its seconds, probe latencies meanwhile."""
    rng = random.Random(seed)
    alphabet = "幸福和平友谊路街号栋单元室紫荆玉兰新村花园小区社区街道武汉市区0123456789abcdefgh "
    items = [{"address": "".join(rng.choice(alphabet) for _ in range(60))} for _ in range(rows)]
    latencies: list[float] = []
    outcome: dict[str, float] = {}
    with httpx.Client(base_url=base, timeout=3600) as client:
        idle: list[float] = []
        for _ in range(30):
            _probe(client, idle)
        idle.sort()
        outcome["idle_p50"], outcome["idle_max"] = statistics.median(idle), idle[-1]

        def heavy() -> None:
            start = time.perf_counter()
            reply = client.post("/lookup/batch?suggest=true", json=items)
            outcome["seconds"] = time.perf_counter() - start
            results = reply.json()["results"]
            outcome["suggested"] = sum(r.get("suggestions") is not None for r in results)

        worker = threading.Thread(target=heavy)
        worker.start()
        time.sleep(0.2)
        while worker.is_alive():
            _probe(client, latencies)
        worker.join()
    ordered = sorted(latencies) or [0.0]
    return {
        **outcome,
        "probes": len(latencies),
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "max": ordered[-1],
    }


# Timed in a fresh interpreter per side, so each imports its own checkout (PYTHONPATH).
_LOOKUP_COST = """
import json, sys, time
from gridmap.lookup import LookupService
from gridmap.privacy import Role
from gridmap.stores import open_store
queries = json.load(sys.stdin)
with open_store(sys.argv[1]) as store:
    service = LookupService(store, refresh_seconds=1e9)
    snapshot = service.snapshot()
    times = {"ok": [], "not_found": []}
    for query in queries:
        start = time.perf_counter()
        try:
            snapshot.by_address(query, Role.ANONYMOUS)
            kind = "ok"
        except Exception:
            kind = "not_found"
        times[kind].append(1000 * (time.perf_counter() - start))
    service.close()
print(json.dumps(times))
"""


def lookup_cost(store_path: Path, queries: list[str], env: dict[str, str]) -> dict[str, list[float]]:
    """Milliseconds per address lookup in one process (matched, and not found with suggestions).

    `env` holds the PYTHONPATH of the checkout to time.
    """
    done = subprocess.run(
        [sys.executable, "-c", _LOOKUP_COST, str(store_path.resolve())],
        cwd=env["PYTHONPATH"],  # `-c` puts the working directory first on the path
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    times: dict[str, list[float]] = json.loads(done.stdout)
    return times


def in_process(baseline: Path, store_path: Path, queries: list[str]) -> str:
    """Per-lookup cost inside one process, old and new alternately (less sensitive to a loaded machine)."""
    sides = {"before": {"PYTHONPATH": str(baseline)}, "after": {"PYTHONPATH": str(Path(__file__).parents[1])}}
    runs: dict[str, dict[str, list[float]]] = {side: {"ok": [], "not_found": []} for side in sides}
    for _ in range(ROUNDS):
        for side, env in sides.items():
            for kind, times in lookup_cost(store_path, queries, env).items():
                runs[side][kind].extend(times)
    rows: list[list[object]] = []
    for side, kinds in runs.items():
        for kind, times in kinds.items():
            ordered = sorted(times) or [0.0]
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
            rows.append(
                [side, kind, f"{len(times) // ROUNDS:,}", f"{statistics.median(ordered):.3f}", f"{p99:.3f}"]
            )
    return table(["code", "answer", "lookups", "p50 ms", "p99 ms"], rows)


def compare(baseline: Path, duration: int, port: int, connections: int, workers: int) -> tuple[str, str]:
    """Old and new servers side by side: single address lookups under wrk, a 10,000-row batch, heavy batch."""
    wrk = ensure_wrk()
    store_path = workload(20, 1_000_000)
    paths = [f"/lookup?address={quote(a)}" for a in addresses(store_path, QUERIES)]
    batch = {"items": [{"address": a} for a in addresses(store_path, BATCH, seed=11)]}
    sides = {"before": {"PYTHONPATH": str(baseline)}, "after": {}}
    cost = in_process(baseline, store_path, addresses(store_path, QUERIES))
    with ExitStack() as stack:
        bases = {
            side: stack.enter_context(server(store_path, port + k, env, start_seconds=600, workers=workers))
            for k, (side, env) in enumerate(sides.items())
        }
        for base in bases.values():
            load(wrk, base, paths, 10, connections)  # warm-up: every worker builds its indexes
        matched = set.intersection(*(set(matched_paths(base, paths)) for base in bases.values()))
        workloads = {"address (all)": paths, "address, matched by both": [p for p in paths if p in matched]}
        slices: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _ in range(ROUNDS):
            for name, chosen in workloads.items():
                for side, base in bases.items():
                    run = load(wrk, base, chosen, duration // ROUNDS, connections)
                    slices.setdefault((name, side), []).append(run)
        batch_s: dict[str, list[float]] = {side: [] for side in bases}
        found: dict[str, float] = {}
        clients = {
            side: stack.enter_context(httpx.Client(base_url=b, timeout=600)) for side, b in bases.items()
        }
        for _ in range(ROUNDS):
            for side, client in clients.items():
                start = time.perf_counter()
                results = client.post("/lookup/batch", json=batch).json()["results"]
                batch_s[side].append(time.perf_counter() - start)
                found[side] = sum(r["status"] == "ok" for r in results) / len(results)
        heavy_after = heavy_batch(bases["after"], HEAVY_ROWS)
        heavy_before = heavy_batch(bases["before"], 20)
    rows: list[list[object]] = []
    for name in workloads:
        for side in sides:
            parts = slices[(name, side)]
            rows.append(
                [
                    name,
                    side,
                    f"{statistics.median(p['rps'] for p in parts):,.0f}",
                    f"{statistics.median(p['p50'] for p in parts):.2f}",
                    f"{statistics.median(p['p99'] for p in parts):.2f}",
                    f"{statistics.median(p['non_2xx'] for p in parts):.0%}",
                ]
            )
    for side in sides:
        rows.append(
            [
                f"batch of {BATCH:,} addresses",
                side,
                "",
                "",
                f"{statistics.median(batch_s[side]):.2f} s",
                f"{1 - found[side]:.0%}",
            ]
        )
    lookups = table(["workload", "code", "requests/s", "p50 ms", "p99 ms", "non-2xx"], rows)
    heavy = "\n".join(
        [
            f"- after: {HEAVY_ROWS:,} random 60-character addresses, `suggest=true`, no token: "
            f"{heavy_after['seconds']:.1f} s, suggestions for {heavy_after['suggested']:.0f} rows "
            f"(the anonymous cap); meanwhile {heavy_after['probes']:.0f} probes of /health, an address "
            f"and a point lookup: p50 {heavy_after['p50']:.1f} ms, p99 {heavy_after['p99']:.1f} ms, "
            f"max {heavy_after['max']:.1f} ms (target < 100 ms); the same probes just before, with no "
            f"batch running: p50 {heavy_after['idle_p50']:.1f} ms, max {heavy_after['idle_max']:.1f} ms",
            f"- before, only 20 such addresses: {heavy_before['seconds']:.1f} s, and the probes sent "
            f"meanwhile waited up to {heavy_before['max']:.0f} ms (the batch ran on the event loop)",
        ]
    )
    return (
        f"{lookups}\n\nThe same {QUERIES:,} address lookups timed inside one process per code "
        f"(`Snapshot.by_address`, {ROUNDS} alternating runs):\n\n{cost}",
        heavy,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of the code before the change")
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--port", type=int, default=8130)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of each server")
    args = parser.parse_args()
    forms, points = corpus_rates()
    body = f"""
Address forms (`bench/address_corpus.py`): every building of each district written in each
form that applies to it; "right" is the building named (nothing, for a road the register lacks).

{forms}

Point lookup at the representative point of every building gives that building's grid:
{"; ".join(points)}.
"""
    if args.baseline is not None:
        load_before = os.getloadavg()[0]
        lookups, heavy = compare(args.baseline, args.duration, args.port, args.connections, args.workers)
        load_after = os.getloadavg()[0]
        body += f"""
Before and after at 1,000,000 households (the bench.bench_api workload: 21,425 buildings), two
`gridmap serve --workers {args.workers}` side by side on 127.0.0.1, driven in turn by wrk (2 threads,
{args.connections} connections, {args.duration} s per workload and code in {ROUNDS} interleaved slices,
medians), on the machine's 2 cores shared with other work (load average {load_before:.0f} when the
comparison began, {load_after:.0f} when it ended). "before" is `{args.baseline}`.
The address requests are bench.bench_api's: 40 % as registered, 50 % rewritten, 10 % with a
character of a name changed, which now includes roads the register lacks (404 with suggestions,
where before some matched another road).

{lookups}

{heavy}
"""
    print(body)
    write_section("address", body)


if __name__ == "__main__":
    main()
