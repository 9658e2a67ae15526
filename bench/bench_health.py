"""/health while lookups load the server: what a load balancer's probe sees under wrk.

    .venv/bin/python -m bench.bench_health [--seconds 30] [--connections 32]

Workload: the sample district (`gridmap demo`'s 24,451 households) in a
GeoPackage under bench/work, served by `gridmap serve --workers 2`. wrk
drives `--connections` connections for `--seconds` at point and address
lookups (`bench.bench_api`'s request mix); meanwhile one client asks /health
every 50 ms on connections of its own. Reported: /health p50 / p99 / slowest
and failures during the load, and the same with the server idle just before
(the baseline of the same run), with the lookups per second wrk reached.
Writes bench/RESULTS.md section "health-under-load".
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from urllib.parse import urlencode

import httpx

from bench.bench_api import addresses, ensure_wrk, load, points, server
from bench.common import WORK, table, write_section
from gridmap.sample import load_sample
from gridmap.stores import open_store

PROBE_SECONDS = 0.05


def _probe(base: str, stop: threading.Event) -> tuple[list[float], int]:
    """/health latencies (seconds) until `stop`, and how many probes failed."""
    times: list[float] = []
    failed = 0
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                ok = client.get(f"{base}/health").status_code == 200
            except httpx.HTTPError:
                ok = False
            times.append(time.perf_counter() - started)
            failed += not ok
            time.sleep(PROBE_SECONDS)
    return times, failed


def _summary(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    path = WORK / "health-sample.gpkg"
    if not path.exists():
        with open_store(str(path)) as store:
            load_sample(store)
    wrk = ensure_wrk()
    paths = [f"/lookup?{urlencode({'lon': x, 'lat': y})}" for x, y in points(path, 1000)]
    paths += [f"/lookup?{urlencode({'address': a})}" for a in addresses(path, 1000)]
    load_before = os.getloadavg()[0]
    rows: list[list[object]] = []
    with server(path) as base:
        for _ in range(20):  # every worker's indexes built before anything is timed
            httpx.get(f"{base}{paths[_]}", timeout=60)
        stop = threading.Event()
        result: dict[str, tuple[list[float], int]] = {}
        idle = threading.Thread(target=lambda: result.__setitem__("idle", _probe(base, stop)))
        idle.start()
        time.sleep(10)
        stop.set()
        idle.join()
        stop = threading.Event()
        busy = threading.Thread(target=lambda: result.__setitem__("busy", _probe(base, stop)))
        busy.start()
        reached = load(wrk, base, paths, args.seconds, args.connections)
        stop.set()
        busy.join()
    for name, label in (("idle", "idle (10 s)"), ("busy", f"lookups under wrk ({args.seconds} s)")):
        times, failed = result[name]
        p50, p99, worst = _summary(times)
        rows.append([label, len(times), f"{p50:.1f}", f"{p99:.1f}", f"{worst:.1f}", failed])
        print(*rows[-1], flush=True)
    body = (
        f"`gridmap serve --workers 2` over the sample district (24,451 households, GeoPackage); wrk "
        f"-t2 -c{args.connections} at point and address lookups ({reached.get('rps', 0):,.0f} requests/s "
        f"reached); one client asks /health every {PROBE_SECONDS * 1000:.0f} ms. Load average "
        f"{load_before:.1f} before the run.\n\n"
        + table(["server", "/health probes", "p50 ms", "p99 ms", "slowest ms", "failed"], rows)
    )
    write_section("health-under-load", body)


if __name__ == "__main__":
    main()
