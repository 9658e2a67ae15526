"""Dask city benchmark (issue 27): `gridmap analyze --engine dask` on one city against the single process.

    .venv/bin/python -m bench.bench_dask_city [--scale 40] [--part-households 250000] [--port 8170]
        [--memory-limit 4GiB] [--baseline DIR]

Workload: the sample at `--scale` (one county: scale 40 is about a million
households), loaded once into bench/work/city<scale>.gpkg (`bench.bench_city`)
and reused.

Measured in one run on the same store, each command in a child process as a
user runs it: `gridmap analyze --out` (single process) and `gridmap analyze
--engine dask --out --partitions DIR --part-households N --scheduler ADDR` on
a cluster of `dask scheduler` and two `dask worker` processes (one thread,
`--memory-limit` each) on 127.0.0.1, started fresh for the run and stopped
after it. Wall time, CPU time of the command's own process and its peak
resident memory (the driver), each worker's peak resident memory (its
process's maxrss, asked through a client at the end), how many parts the
county was cut into; and whether every output file of the two commands is
the same (the CSV tables compared cell by cell, as text; gaps.geojson feature
by feature). With `--baseline DIR` (gridmap's source from before the parts,
e.g. `git archive <commit> gridmap | tar -x -C DIR`), that source's `gridmap
analyze --engine dask --out` (one task per county, the driver reading every
layer whole) runs too, on a fresh cluster of its own, in the same session.
Writes bench/RESULTS.md section "dask-city-<scale>".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from distributed import Client

from bench.bench_city import _run, _store
from bench.bench_province import _peak_mib, _start_cluster
from bench.common import WORK, table, write_section
from gridmap.distributed.partitions import MAX_HOUSEHOLDS
from gridmap.stores import open_store

TABLES = ("grids", "communities", "streets", "households")


def _same_outputs(a: Path, b: Path) -> dict[str, bool]:
    """Per output file, whether the two directories hold the same (rows in code order)."""
    same = {}
    for name in TABLES:
        left, right = (
            pd.read_csv(d / f"{name}.csv", dtype=str).sort_values("code", ignore_index=True) for d in (a, b)
        )
        same[f"{name}.csv"] = left.equals(right)
    gaps = []
    for d in (a, b):
        features = json.loads((d / "gaps.geojson").read_text(encoding="utf-8"))["features"]
        gaps.append(sorted(json.dumps(f, sort_keys=True, ensure_ascii=False) for f in features))
    same["gaps.geojson"] = gaps[0] == gaps[1]
    return same


def _on_cluster(
    args: argparse.Namespace, command: list[str], source: str | None
) -> tuple[tuple[float, float, float], dict[str, float]]:
    """`gridmap COMMAND --scheduler …` (from `source`) on a fresh cluster: its figures, worker peaks."""
    procs = _start_cluster(args.port, args.memory_limit)
    try:
        with Client(f"tcp://127.0.0.1:{args.port}", timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            run = _run([*command, "--scheduler", f"tcp://127.0.0.1:{args.port}"], source)
            return run, client.run(_peak_mib)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


def _figures(run: tuple[float, float, float]) -> list[str]:
    return [f"{run[0]:.1f}", f"{run[1]:.1f}", f"{run[2]:,.0f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=40)
    parser.add_argument("--part-households", type=int, default=MAX_HOUSEHOLDS)
    parser.add_argument("--port", type=int, default=8170)
    parser.add_argument("--memory-limit", default="4GiB")
    parser.add_argument("--baseline", type=Path, default=None)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    store = str(_store(args.scale))
    with open_store(store) as opened:
        counts = opened.counts()
    load = os.getloadavg()[0]
    single_out, dask_out, root = WORK / "dask-city-single", WORK / "dask-city-dask", WORK / "dask-city-parts"
    for path in (single_out, dask_out, root):
        shutil.rmtree(path, ignore_errors=True)

    single = _run(["analyze", "--store", store, "--out", str(single_out)])
    print("single", single, flush=True)
    command = ["analyze", "--engine", "dask", "--store", store, "--out"]
    parts_flag = ["--part-households", str(args.part_households)]
    dask, peaks = _on_cluster(args, [*command, str(dask_out), "--partitions", str(root), *parts_flag], None)
    print("dask", dask, peaks, flush=True)
    baseline = None
    if args.baseline:
        old_root, old_out = WORK / "dask-city-baseline-parts", WORK / "dask-city-baseline"
        for path in (old_root, old_out):
            shutil.rmtree(path, ignore_errors=True)
        old = [*command, str(old_out), "--partitions", str(old_root)]
        try:
            baseline = _on_cluster(args, old, str(args.baseline))
        except subprocess.CalledProcessError as error:
            baseline = None
            print("baseline failed", error, flush=True)
        print("baseline", baseline, flush=True)
    end_load = os.getloadavg()[0]
    parts = sorted(p.name for p in (root / "parts").glob("*/*") if p.is_dir())
    same = _same_outputs(single_out, dask_out)
    print(same, parts, peaks, flush=True)
    worker_peaks = ", ".join(f"{peak:,.0f}" for peak in sorted(peaks.values()))
    rows = [
        ["`gridmap analyze --out` (single process)", *_figures(single), ""],
        ["`gridmap analyze --engine dask --out` (driver)", *_figures(dask), worker_peaks],
    ]
    if args.baseline:
        if baseline is None:
            rows.append(["before the parts: the same command (one task per county)", "failed", "", "", ""])
        else:
            old_peaks = ", ".join(f"{peak:,.0f}" for peak in sorted(baseline[1].values()))
            rows.append(
                [
                    "before the parts: the same command (one task per county)",
                    *_figures(baseline[0]),
                    old_peaks,
                ]
            )
    body = f"""
Workload: `python -m bench.bench_dask_city --scale {args.scale} --part-households {args.part_households}`
(see the module docstring): the sample at scale {args.scale}, one county ({counts["grids"]:,} grids,
{counts["households"]:,} households, {counts["speakers"]:,} speakers, {counts["service_points"]:,}
service points) in a GeoPackage store; the dask run on `dask scheduler` + 2 × `dask worker`
(1 thread, {args.memory_limit} limit each), separate processes on 127.0.0.1. The county was cut
into {len(parts)} parts ({", ".join(parts)}). Machine shared with other developers' work: 1-minute
load average {load:.1f} at the start, {end_load:.1f} at the end (2 cores).

{table(["command", "wall s", "CPU s (own process)", "peak MiB (own process)", "worker peaks MiB"], rows)}

Outputs equal, file by file: {", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in same.items())}.
"""
    write_section(f"dask-city-{args.scale}", body)


if __name__ == "__main__":
    sys.exit(main())
