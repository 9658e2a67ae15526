"""Walking distance on a PostGIS store: pgRouting in the database against the network pulled to scipy.

    .venv/bin/python -m bench.bench_walking_pgrouting [--scales 1 8] [--repeat 3]

Workloads: the sample district at each scale (`gridmap.sample.generate(scale)`,
its roads cut by a river with few bridges), each in a PostGIS database with
pgRouting, built on first use and reused while its household count matches.
Per store, each engine `--repeat` times on a new connection (median; the
first call of a connection pays for PROJ's set-up in that backend):
- pgRouting (`bench.walking_pgrouting`): the roads noded in SQL, every
  household and service point snapped and made a vertex, one
  `pgr_drivingDistance` from a super-source with the 2,000 m cut-off; the
  households' distances fetched;
- scipy: roads, households and service points read from the store (what
  analysis reads anyway), gridmap's network built, every point snapped, one
  multi-source Dijkstra (`gridmap.walking`).
The answers are compared household by household (largest difference, and
households on a different side of 300 / 500 / 1,000 m). Writes bench/RESULTS.md
(section "walking_pgrouting") with the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import numpy as np
import psycopg

from bench.common import table, write_section
from bench.walking_pgrouting import walk_in_database
from gridmap.analysis import read_input
from gridmap.coverage import metric_xy
from gridmap.crs import metric_crs
from gridmap.sample.generate import generate
from gridmap.stores import open_store
from gridmap.vocabulary import LIFE_CIRCLES
from gridmap.walking import DEFAULT_CUTOFF_M, build_network, snap, walk_to_nearest

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def routed_store(scale: int) -> tuple[str, int]:
    """The URL of the scale's database (PostGIS, pgRouting, the district loaded) and its households."""
    name = f"gridmap_bench_walking_{scale}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    frames = generate(scale)
    with open_store(url) as store:
        if store.counts()["households"] != len(frames["households"]):
            store.replace_many(frames)
    return url, len(frames["households"])


def _pgrouting(url: str, srid: int) -> tuple[np.ndarray, float, dict[str, float]]:
    start = time.perf_counter()
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        found, steps = walk_in_database(conn, srid)
    return found["metres"].to_numpy(), time.perf_counter() - start, steps


def _scipy(url: str) -> tuple[np.ndarray, float, dict[str, float]]:
    steps: dict[str, float] = {}
    start = time.perf_counter()
    with open_store(url, create=False) as store:
        crs = metric_crs(store.read("grids"))
        mark = time.perf_counter()
        roads = store.read("roads")
        steps["read roads"] = time.perf_counter() - mark
        mark = time.perf_counter()
        households = read_input(store, "households").sort_values("code", ignore_index=True)
        sites = store.read("service_points")
        steps["read points"] = time.perf_counter() - mark
    mark = time.perf_counter()
    network = build_network(roads, crs)
    steps["network"] = time.perf_counter() - mark
    mark = time.perf_counter()
    homes, facilities = snap(network, metric_xy(households, crs)), snap(network, metric_xy(sites, crs))
    steps["snap"] = time.perf_counter() - mark
    mark = time.perf_counter()
    metres = walk_to_nearest(network, homes, facilities).metres
    steps["search"] = time.perf_counter() - mark
    return metres, time.perf_counter() - start, steps


def _median(runs: list[tuple[np.ndarray, float, dict[str, float]]]) -> tuple[float, dict[str, float]]:
    steps = {k: statistics.median(run[2][k] for run in runs) for k in runs[0][2]}
    return statistics.median(run[1] for run in runs), steps


def measure(scale: int, url: str, households: int, repeat: int) -> dict[str, Any]:
    with open_store(url, create=False) as store:
        srid = int(metric_crs(store.read("grids")).to_epsg() or 0)
    routed = [_pgrouting(url, srid) for _ in range(repeat)]
    pulled = [_scipy(url) for _ in range(repeat)]
    a, b = routed[0][0], pulled[0][0]
    both = np.isfinite(a) & np.isfinite(b)
    return {
        "scale": scale,
        "households": households,
        "pgrouting": _median(routed),
        "scipy": _median(pulled),
        "max_diff": float(np.max(np.abs(a[both] - b[both]))) if both.any() else 0.0,
        "reach_differs": int((np.isfinite(a) != np.isfinite(b)).sum()),
        "circle_differs": int(sum(((a <= m) != (b <= m)).sum() for _, m in LIFE_CIRCLES)),
        "within_1000": float(np.mean(b <= 1000.0)),
    }


def _verdict(largest: dict[str, Any]) -> str:
    """Which engine a PostGIS store should use, from the largest workload: pgRouting only where it is
    faster and gives the same answers."""
    routed, pulled = largest["pgrouting"][0], largest["scipy"][0]
    same = largest["reach_differs"] == 0 and largest["circle_differs"] == 0 and largest["max_diff"] < 1e-6
    if routed < pulled and same:
        return f"pgRouting is faster ({pulled / routed:.1f}×) with the same answers."
    return (
        f"At scale {largest['scale']} pgRouting takes {routed / pulled:.1f}× the time of reading the "
        "roads and points into scipy"
        + (" (same answers)" if same else " and its answers differ")
        + ": PostGIS stores keep the scipy path."
    )


def _load() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stores = {scale: routed_store(scale) for scale in args.scales}  # built before anything is timed
    load_before = _load()
    results = [measure(scale, *stores[scale], args.repeat) for scale in args.scales]
    load_after = _load()
    rows = []
    for r in results:
        p_total, p_steps = r["pgrouting"]
        s_total, s_steps = r["scipy"]
        slowest = sorted(p_steps.items(), key=lambda kv: -kv[1])[:4]
        rows.append(
            [
                f"{r['scale']} ({r['households']:,} households)",
                f"{p_total:.2f}",
                ", ".join(f"{k} {v:.2f}" for k, v in slowest),
                f"{s_total:.2f}",
                ", ".join(f"{k} {v:.2f}" for k, v in s_steps.items()),
                f"{r['max_diff']:.1e}",
                f"{r['reach_differs']} / {r['circle_differs']}",
                f"{r['within_1000']:.1%}",
            ]
        )
    body = (
        "Each household's walking distance to its nearest service point on a PostGIS store, cut-off "
        f"{DEFAULT_CUTOFF_M:,.0f} m: pgRouting in the database (`bench/walking_pgrouting.py`: roads noded "
        "in SQL, points made vertices, one `pgr_drivingDistance` from a super-source) against the roads "
        "and points read from the store into gridmap's scipy path (`gridmap.walking`). Median of "
        f"{args.repeat} runs each, every run on a new connection (pgRouting's `segments` step holds "
        "PROJ's set-up in a new backend, about 0.2–0.4 s); seconds. Load average (1/5/15 min) "
        f"{load_before} before, {load_after} after (the machine is shared).\n\n"
        + table(
            [
                "sample scale",
                "pgRouting total",
                "its slowest steps",
                "scipy total",
                "its steps",
                "largest difference (m)",
                "reach / circle disagreements",
                "within 1,000 m",
            ],
            rows,
        )
    )
    body += "\n\n" + _verdict(results[-1])
    write_section("walking_pgrouting", body)
    print(body)


if __name__ == "__main__":
    main()
