"""City benchmark: `gridmap analyze --out` and `gridmap map` on a 5-million-household GeoPackage store.

    .venv/bin/python -m bench.bench_city [--scale 200] [--baseline DIR]

Workload: `gridmap.sample.plan(scale)` (scale 200: 12,200 grids, 5,023,863
households, every one a real sample household, no copies), loaded once into
bench/work/city<scale>.gpkg and reused.

Measured, each command in a forked process as a user runs it (`gridmap …`
through the CLI): wall time, CPU time (user + system, all threads) and peak
resident memory. With `--baseline DIR` (a checkout of gridmap's source from
before this work, e.g. `git archive <commit> gridmap | tar -x -C DIR`), the
same `gridmap analyze --out` is also run from that source in the same
session, the two taken in turn `--runs` times (medians reported). The city
map: its HTML size, and whether it renders in headless Chromium (the page
reports `gridmap.renderedAt`; no request may leave the machine), with the
time that took. Writes bench/RESULTS.md section
"analysis-city".
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

from bench.common import WORK, run_cli, table, write_section
from bench.workload import city_store
from gridmap.stores import open_store
from tests.maps.browser import chromium, open_map

TARGET_S, TARGET_GIB, TARGET_MAP_MB = 25.0, 4.0, 10.0


def _store(scale: int) -> Path:
    return city_store(scale, WORK / f"city{scale}.gpkg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=200)
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3, help="runs of each analyze command (medians reported)")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    store = str(_store(args.scale))
    with open_store(store) as opened:
        counts = opened.counts()
    load = os.getloadavg()[0]
    out = WORK / "city-out"
    command = ["analyze", "--store", store, "--out", str(out)]
    sources: dict[str, str | None] = {"`gridmap analyze --out`": None}
    if args.baseline:
        label = f"`gridmap analyze --out` from {args.baseline} (same store, same session)"
        sources = {label: str(args.baseline), **sources}
    runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label in sources}
    for _ in range(args.runs):  # the two sources in turn, so a drift of the machine's speed hits both
        for label, source in sources.items():
            shutil.rmtree(out, ignore_errors=True)
            runs[label].append(run_cli(command, source))
            print(label, runs[label][-1], flush=True)
    rows = [
        [label, *(statistics.median(r[i] for r in done) for i in range(3))] for label, done in runs.items()
    ]
    analyze_row = rows[-1]
    walls = {label: sorted(r[0] for r in done) for label, done in runs.items()}
    html = WORK / "city-map.html"
    wall, cpu, peak = run_cli(["map", "--store", store, "--out", str(html)])
    rows.append(["`gridmap map` (analysis included)", wall, cpu, peak])
    size_mb = html.stat().st_size / 1e6
    with chromium() as context:
        start = time.perf_counter()
        page, log = open_map(context, html, timeout_ms=300_000)
        render = time.perf_counter() - start
        page.close()
    rendered = not log.page_errors and not log.blocked
    print(rows[-1], size_mb, render, log, flush=True)
    shown = [[r[0], f"{r[1]:.1f}", f"{r[2]:.1f}", f"{r[3]:,.0f}"] for r in rows]
    a_wall, a_peak = analyze_row[1], analyze_row[3] / 1024
    body = f"""
Workload: `python -m bench.bench_city --scale {args.scale}`: the sample at scale {args.scale}
({counts["grids"]:,} grids, {counts["households"]:,} households, {counts["speakers"]:,} speakers,
{counts["service_points"]:,} service points) in a GeoPackage store. Each command in a child
process as a user runs it; 1-minute load average {load:.1f} at the start and
{os.getloadavg()[0]:.1f} at the end (2 cores). CPU seconds are user + system of all threads.

{table(["command", "wall s", "CPU s", "peak MiB"], shown)}

Analyze rows are medians of {args.runs} runs, the sources taken in turn; every run's wall seconds:
{"; ".join(f"{label}: {', '.join(f'{w:.1f}' for w in ws)}" for label, ws in walls.items())}.

- `gridmap analyze --out` at {counts["households"]:,} households: {a_wall:.1f} s wall
  (target ≤ {TARGET_S:.0f} s: {"met" if a_wall <= TARGET_S else "NOT met"}),
  peak {a_peak:.2f} GiB (target ≤ {TARGET_GIB:.0f} GiB: {"met" if a_peak <= TARGET_GIB else "NOT met"}).
- city map: {size_mb:.1f} MB (target ≤ {TARGET_MAP_MB:.0f} MB:
  {"met" if size_mb <= TARGET_MAP_MB else "NOT met"}); headless Chromium
  {"rendered it" if rendered else "did NOT render it"} in {render:.1f} s
  (page errors {len(log.page_errors)}, requests leaving the machine {len(log.blocked)}).
"""
    write_section("analysis-city", body)


if __name__ == "__main__":
    main()
