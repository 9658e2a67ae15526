"""A service point moved at city scale with the walking network: PUT to /coverage, before and after.

    .venv/bin/python -m bench.bench_walking_edits --baseline DIR [--scale 200] [--moves 5]

Workload: the city GeoPackage of `bench.bench_city` (scale 200: 5,023,863
households, 12,200 grids, 2,978 service points, 28,162 roads), copied aside
first. For each code in turn (`base`: the checkout at DIR, the code before
walking edits were kept; `after`: this checkout), one `gridmap serve --workers 2`
over the copy with an empty folder of published analyses, then `--moves`
service points moved 150 m east one after the other through the API (PUT):
for each, the time from the PUT's reply until /coverage carries the store's
revision of the write, and the builder processes' CPU seconds meanwhile. The
same service points are moved by both codes (the second code moves each a
further 150 m), nothing else runs from the benchmark meanwhile.
Writes bench/RESULTS.md section "walking-edits".

    .venv/bin/python -m bench.bench_walking_edits --baseline DIR --live [--scale 20] [--order base,after]
        [--layer roads]

The builder's refresh alone, in-process: per code a child process (that
code's `gridmap` only) keeps a `LiveAnalysis` of a copy of the city and times
`refresh` after each service point moved through the store (`--layer roads`:
each road's middle vertex moved instead): wall and CPU seconds of the refresh,
of the walking measure inside it, the households of the region analysed again,
and the process's peak memory. `--order` names the codes run and their order
(`after` alone where time is short). Writes section "walking-edits-live-<scale>"
(roads: "walking-roads-live-<scale>").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.bench_serving import ADMIN, builder_cpu, put_until_shown, server
from bench.common import WORK, run_on_copy, table, write_section
from gridmap.stores import Store, open_store

PORT = 8170

LIVE = """
import json, sys, time, cProfile, pstats, resource, shapely
from gridmap import incremental
from gridmap.serving import LiveAnalysis
from gridmap.stores import open_store
path, codes, layer = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
out = {"moves": []}
parts = []  # households of each part analysed again (the region of the edit)
real = incremental.analyze
def counted(frames, *args, **kwargs):
    parts.append(len(frames["households"]))
    return real(frames, *args, **kwargs)
incremental.analyze = counted
WALKING = {("walking.py", "_walking"), ("incremental.py", "_walk_patched")}
with open_store(path) as store:
    live = LiveAnalysis(store)
    start = time.perf_counter(); live.refresh(); out["first_s"] = time.perf_counter() - start
    for code in codes:
        feature = store.read(layer, codes=[code])
        if layer == "roads":  # the middle vertex moved about 50 m
            xy = shapely.get_coordinates(feature.geometry.iloc[0])
            xy[len(xy) // 2] += (0.0005, 0.0003)
            moved = shapely.LineString(xy)
        else:
            p = feature.geometry.iloc[0]
            moved = shapely.Point(p.x + 0.0015, p.y)
        store.upsert(layer, feature.set_geometry([moved], crs=feature.crs))
        profile = cProfile.Profile(time.process_time)
        parts.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        profile.enable(); live.refresh(); profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stats = pstats.Stats(profile).stats
        walk = sum(v[3] for k, v in stats.items() if (k[0].rsplit("/", 1)[-1], k[2]) in WALKING)
        out["moves"].append({"wall_s": wall, "cpu_s": cpu, "walking_s": walk, "redone": sum(parts)})
out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def move(base: str, store: Store, proc: psutil.Process, code: str) -> dict[str, float]:
    """PUT service point `code` 150 m east; seconds until /coverage shows it, builder CPU meanwhile."""
    with httpx.Client(base_url=base, timeout=120, headers=ADMIN) as client:
        feature = client.get(f"/collections/service_points/items/{code}").json()
        x, y = feature["geometry"]["coordinates"][:2]
        feature["geometry"] = {"type": "Point", "coordinates": [x + 0.0015, y]}
        feature = {k: feature[k] for k in ("type", "properties", "geometry")}
        cpu = builder_cpu(proc)
        path = f"/collections/service_points/items/{code}"
        start, written, shown = put_until_shown(client, store, path, feature, 600)
        return {"put_s": written - start, "visible_s": shown - written, "cpu_s": builder_cpu(proc) - cpu}


@dataclass(frozen=True)
class Run:
    """One code's server: start-up seconds, each move's figures, the server's memory after them."""

    startup_s: float
    moves: list[dict[str, float]]
    rss_mib: float

    def median(self, figure: str) -> float:
        return statistics.median(m[figure] for m in self.moves)


def run(store_path: Path, code: Path, label: str, codes: list[str]) -> Run:
    url = str(store_path)
    with open_store(url) as store, server(url, PORT, f"walking-{label}", code) as (base, proc, startup):
        time.sleep(5)  # the builder settles after its first publish
        moves = [move(base, store, proc, c) for c in codes]
        rss = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
    return Run(startup, moves, rss / 2**20)


def live(store_path: Path, code: Path, codes: list[str], layer: str) -> dict[str, object]:
    """`LIVE` in a child process running the `gridmap` of `code` on a copy of `store_path`."""
    copy = store_path.with_name(f"{store_path.stem}-live.gpkg")
    return run_on_copy(
        LIVE, store_path, copy, code, [str(copy), ",".join(codes), layer], stderr=subprocess.PIPE
    )


def live_report(
    args: argparse.Namespace,
    counts: dict[str, int],
    results: dict[str, dict[str, Any]],
    start: tuple[float, float, float],
) -> str:
    load = os.getloadavg()
    roads = args.layer == "roads"
    layer_flag = " --layer roads" if roads else ""
    moved = "road's middle vertex moved about 50 m" if roads else "service point moved 150 m east"
    features = "roads" if roads else "points"
    rows: list[list[object]] = []
    for name, result in results.items():
        moves = result["moves"]
        rows.append(
            [
                name,
                f"{result['first_s']:.1f}",
                " / ".join(f"{m['wall_s']:.2f}" for m in moves),
                " / ".join(f"{m['cpu_s']:.2f}" for m in moves),
                f"{statistics.median(m['cpu_s'] for m in moves):.2f}",
                " / ".join(f"{m['walking_s']:.2f}" for m in moves),
                " / ".join(f"{m['redone']:,}" for m in moves),
                f"{result['rss_mib']:,.0f}",
            ]
        )
    cpu = {n: statistics.median(m["cpu_s"] for m in r["moves"]) for n, r in results.items()}
    walk = {n: statistics.median(m["walking_s"] for m in r["moves"]) for n, r in results.items()}
    ratio = (
        f"Builder CPU per move {cpu['base'] / cpu['after']:.1f}× less (median), the walking measure's"
        f" part {walk['base'] / max(walk['after'], 1e-3):.1f}× less, in the same run."
        if {"base", "after"} <= set(results)
        else "Only " + " and ".join(results) + " was run."
    )
    return "\n".join(
        [
            f"`python -m bench.bench_walking_edits --baseline {args.baseline} --live --scale {args.scale}"
            f" --moves {args.moves} --order {args.order}{layer_flag}`:"
            f" the city GeoPackage at scale {args.scale}"
            f" ({counts['households']:,} households, {counts['service_points']:,} service points,"
            f" {counts['roads']:,} roads);"
            " per code a child process keeps the builder's `LiveAnalysis` and times its `refresh`"
            f" after each {moved} through the store (the same {features} for both"
            " codes; the walking measure's share from a profile of the refresh, its CPU seconds,"
            " slightly inflated by the profiling: the measure in the region analysed again, and"
            " where the code has it, the walks patched beyond it; households analysed again: those"
            " of the region the refresh handed to `analyze`, the whole city when it analysed all)."
            " 1-minute load average"
            f" {start[0]:.1f} at the start, {load[0]:.1f} at the end (2 cores, shared with other work).",
            "",
            table(
                [
                    "code",
                    "first analysis (s)",
                    "refresh wall (s)",
                    "refresh CPU (s)",
                    "median CPU (s)",
                    "walking measure in it (s)",
                    "households analysed again",
                    "peak RSS (MiB)",
                ],
                rows,
            ),
            "",
            ratio,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the code before")
    parser.add_argument("--scale", type=int, default=200)
    parser.add_argument("--moves", type=int, default=5)
    parser.add_argument("--live", action="store_true", help="the builder's refresh in-process, not served")
    parser.add_argument("--order", default="base,after", help="with --live: the codes run, in this order")
    parser.add_argument(
        "--layer",
        default="service_points",
        choices=["service_points", "roads"],
        help="with --live: what moves",
    )
    args = parser.parse_args()
    source = WORK / f"city{args.scale}.gpkg"
    if args.live:
        start = os.getloadavg()
        with open_store(str(source)) as store:
            counts = store.counts()
            features = store.read(args.layer)
        step = max(len(features) // args.moves, 1)
        codes = [str(c) for c in features["code"].iloc[::step][: args.moves]]
        checkouts = {"after": Path(__file__).resolve().parents[1], "base": args.baseline.resolve()}
        found: dict[str, dict[str, Any]] = {}
        for name in args.order.split(","):  # each printed as it ends: a run stopped early keeps them
            found[name] = live(source, checkouts[name], codes, args.layer)
            print(name, json.dumps(found[name]), flush=True)
        name = "walking-roads-live" if args.layer == "roads" else "walking-edits-live"
        write_section(f"{name}-{args.scale}", live_report(args, counts, found, start))
        return
    copy = WORK / f"city{args.scale}-walking-edits.gpkg"
    shutil.copyfile(source, copy)
    load = os.getloadavg()
    with open_store(str(copy)) as store:
        counts = store.counts()
        sites = store.read("service_points")
    step = max(len(sites) // args.moves, 1)
    codes = [str(c) for c in sites["code"].iloc[::step][: args.moves]]
    results = {
        "base": run(copy, args.baseline.resolve(), "base", codes),
        "after": run(copy, Path(__file__).resolve().parents[1], "after", codes),
    }
    copy.unlink()
    end = os.getloadavg()
    for name, result in results.items():
        print(name, result, flush=True)
    rows: list[list[object]] = []
    for name, result in results.items():
        rows.append(
            [
                name,
                f"{result.startup_s:.0f}",
                " / ".join(f"{m['visible_s']:.2f}" for m in result.moves),
                f"{result.median('visible_s'):.2f}",
                " / ".join(f"{m['cpu_s']:.2f}" for m in result.moves),
                f"{result.median('cpu_s'):.2f}",
                f"{result.rss_mib:,.0f}",
            ]
        )
    base, after = results["base"], results["after"]
    text = "\n".join(
        [
            f"`python -m bench.bench_walking_edits --baseline {args.baseline} --scale {args.scale} --moves"
            f" {args.moves}`: the city GeoPackage ({counts['households']:,} households,"
            f" {counts['service_points']:,} service points, {counts['roads']:,} roads), served by"
            " `gridmap serve --workers 2` with each code in turn; the same service points moved 150 m east"
            " one after another through the API (PUT), each timed from the PUT's reply until /coverage"
            " carries its revision; builder CPU: the builder processes' user + system seconds over the same"
            f" span. Load average (1/5/15 min) {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start,"
            f" {end[0]:.1f} / {end[1]:.1f} / {end[2]:.1f} at the end (2 cores, shared with other work).",
            "",
            table(
                [
                    "code",
                    "start-up (s)",
                    "PUT to /coverage (s)",
                    "median (s)",
                    "builder CPU per move (s)",
                    "median CPU (s)",
                    "server RSS after (MiB)",
                ],
                rows,
            ),
            "",
            f"Median PUT to /coverage {base.median('visible_s') / after.median('visible_s'):.1f}× faster,"
            f" builder CPU per move {base.median('cpu_s') / after.median('cpu_s'):.1f}× less than the code"
            " before, in the same run.",
        ]
    )
    write_section("walking-edits", text)


if __name__ == "__main__":
    main()
