"""A serving worker's lookup refresh after one edit, in CPU seconds, for two codes in the same run.

    .venv/bin/python -m bench.bench_lookup_refresh --baseline DIR [--city PATH] [--rounds 2]

Workloads: the sample district (`gridmap.sample.load_sample`) and, with
`--city`, a city GeoPackage (bench/work/city200.gpkg: 5M households). Per code
(`base`: the checkout at DIR; `after`: this checkout) and workload, a child
process running that code's `gridmap` keeps a `LookupService` over its own copy
of the store; each round writes one edit of every kind below through the store
and times the refresh of the lookup snapshot after it, in CPU seconds of the
child (all its threads; other work on the machine does not count) and wall
seconds. Both codes make the same edits in the same order. The refresh is the
service's own (`_refresh`), called in the foreground so it can be timed.
Writes bench/RESULTS.md section "lookup-refresh".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import table, write_section
from gridmap.sample import load_sample
from gridmap.stores import open_store

EDITS = ("grid attribute", "grid shape", "building move", "building address")
CHILD = """
import json, sys, time
import shapely
from gridmap.lookup import LookupService
from gridmap.stores import open_store

def one(store, layer, k):
    return store.query(layer, limit=1, offset=k).frame

def grid_attribute(store, n):
    row = one(store, "grids", 7 * n + 1)
    row["party_branch"] = f"第{n}党支部(改)"
    store.upsert("grids", row)

def grid_shape(store, n):
    row = one(store, "grids", 7 * n + 3)
    row["geometry"] = row.geometry.scale(1.02, 1.02)
    store.upsert("grids", row)

def building_move(store, n):
    row = one(store, "buildings", 11 * n + 5)
    row["geometry"] = row.geometry.translate(0.00001, 0.0)
    store.upsert("buildings", row)

def building_address(store, n):
    row = one(store, "buildings", 11 * n + 7)
    row["address"] = f"和平路{900 + n}号1栋"
    store.upsert("buildings", row)

EDITS = [grid_attribute, grid_shape, building_move, building_address]
path, rounds = sys.argv[1], int(sys.argv[2])
out = {"edits": [[] for _ in EDITS]}
with open_store(path) as store:
    service = LookupService(store, refresh_seconds=1e9)
    wall, cpu = time.perf_counter(), time.process_time()
    service.snapshot()
    out["first_cpu_s"], out["first_wall_s"] = time.process_time() - cpu, time.perf_counter() - wall
    for n in range(rounds):
        for i, edit in enumerate(EDITS):
            edit(store, n)
            before = service.snapshot()
            wall, cpu = time.perf_counter(), time.process_time()
            service._refresh()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert service.snapshot() is not before, edit.__name__
            out["edits"][i].append({"cpu_s": cpu, "wall_s": wall})
            print(n, edit.__name__, f"{cpu:.3f}", file=sys.stderr, flush=True)
print(json.dumps(out))
"""


def run(source: Path, code: Path, rounds: int) -> dict[str, object]:
    """`CHILD` on a copy of `source` in a process running the `gridmap` of `code`."""
    with tempfile.TemporaryDirectory(dir=source.parent) as scratch:
        copy = Path(scratch) / source.name
        shutil.copyfile(source, copy)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(copy), str(rounds)],
            env={**os.environ, "PYTHONPATH": str(code)},
            cwd=code,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rows(name: str, found: dict[str, dict]) -> list[list[object]]:
    """One table row per edit kind: each code's CPU and wall seconds (median of the rounds)."""

    def median(label: str, i: int, key: str) -> float:
        return statistics.median(e[key] for e in found[label]["edits"][i])

    out: list[list[object]] = [
        [
            name,
            "first load",
            f"{found['base']['first_cpu_s']:.2f}",
            f"{found['after']['first_cpu_s']:.2f}",
            f"{found['base']['first_wall_s']:.2f}",
            f"{found['after']['first_wall_s']:.2f}",
            "",
        ]
    ]
    for i, edit in enumerate(EDITS):
        base, after = median("base", i, "cpu_s"), median("after", i, "cpu_s")
        out.append(
            [
                name,
                edit,
                f"{base:.3f}",
                f"{after:.3f}",
                f"{median('base', i, 'wall_s'):.3f}",
                f"{median('after', i, 'wall_s'):.3f}",
                f"{base / after:.0f}×",
            ]
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the code before")
    parser.add_argument("--city", type=Path, help="a city GeoPackage (copied) besides the sample district")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    load = os.getloadavg()
    codes = {"base": args.baseline.resolve(), "after": Path(__file__).resolve().parents[1]}
    table_rows: list[list[object]] = []
    described = []
    with tempfile.TemporaryDirectory() as scratch:
        sample = Path(scratch) / "sample.gpkg"
        with open_store(str(sample)) as store:
            load_sample(store)
        workloads = {"sample": sample} | ({"city": args.city} if args.city else {})
        for name, source in workloads.items():
            with open_store(str(source)) as store:
                counts = store.counts()
            described.append(
                f"{name}: {counts['households']:,} households, {counts['buildings']:,} buildings,"
                f" {counts['grids']:,} grids"
            )
            found = {label: run(source, code, args.rounds) for label, code in codes.items()}
            print(name, json.dumps(found), flush=True)
            table_rows += rows(name, found)
    body = "\n\n".join(
        [
            f"`python -m bench.bench_lookup_refresh --baseline {args.baseline}"
            f"{' --city ' + str(args.city) if args.city else ''} --rounds {args.rounds}`: per code, a"
            " `LookupService` over its own copy of the store in a child process, one after the other;"
            " each round one edit of every kind written through the store, then the refresh of the"
            f" lookup snapshot timed (median of {args.rounds} rounds). {'; '.join(described)}."
            f" 1-minute load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.",
            table(
                ["workload", "edit", "base CPU s", "after CPU s", "base wall s", "after wall s", "less CPU"],
                table_rows,
            ),
        ]
    )
    write_section("lookup-refresh", body)


if __name__ == "__main__":
    main()
