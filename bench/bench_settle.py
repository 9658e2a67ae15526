"""What deriving `grid_code` after an external edit costs on a city GeoPackage, before and after.

    .venv/bin/python -m bench.bench_settle --store CITY.gpkg --baseline DIR [--rounds 5]

Workload: `settled_grids`, the derivation `GeoPackageStore.settle` runs inside
its write transaction (holding the file), for one external edit of each kind:
a speaker, a household, a building and a grid, named as the changes log
would name them (the store is opened read-only and immutable: nothing is
written, so the stored rows are re-derived as they are). "before" is the same
call from DIR (a checkout of gridmap's source before the R-tree derivation,
`git archive <commit> | tar -x -C DIR`), run in a child process; "after" this
checkout. Prints the median and slowest milliseconds of each, one JSON line
per code.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

EDITS = ("speakers", "households", "buildings", "grids")


def _first_codes(conn: sqlite3.Connection) -> dict[str, str]:
    """A feature of each layer, from the middle of its table (not the city's edge)."""
    out = {}
    for layer in EDITS:
        (count,) = conn.execute(f'SELECT max(fid) FROM "{layer}"').fetchone()
        (code,) = conn.execute(f'SELECT code FROM "{layer}" WHERE fid >= ? LIMIT 1', (count // 2,)).fetchone()
        out[layer] = str(code)
    return out


def _worker(store: Path, rounds: int) -> dict[str, list[float]]:
    """Seconds of each edit's derivation by the `gridmap` on the path (either API)."""
    from gridmap.stores import geopackage, settling

    conn = sqlite3.connect(f"file:{store}?mode=ro&immutable=1", uri=True)
    codes = _first_codes(conn)
    old = hasattr(geopackage, "_TransactionRows")
    times: dict[str, list[float]] = {}
    for _ in range(rounds + 1):  # the first round warms caches (pyproj, imports)
        for layer in EDITS:
            touched = {layer: [codes[layer]]}
            started = time.perf_counter()
            if old:
                settling.settled_grids(geopackage._TransactionRows(conn), touched)  # type: ignore[attr-defined]
            else:
                settling.settled_grids(conn, touched)
            times.setdefault(layer, []).append(time.perf_counter() - started)
    return {layer: spent[1:] for layer, spent in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.store.resolve(), args.rounds)))
        return
    runs = [("before", args.baseline), ("after", Path.cwd())] if args.baseline else [("after", Path.cwd())]
    for label, root in runs:
        load = os.getloadavg()[0]
        script = str(Path(__file__).resolve())
        done = subprocess.run(
            [
                sys.executable,
                script,
                "--worker",
                "--store",
                str(args.store.resolve()),
                "--rounds",
                str(args.rounds),
            ],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            check=True,
        )
        times = json.loads(done.stdout.splitlines()[-1])
        summary = {
            layer: [round(statistics.median(t) * 1000, 1), round(max(t) * 1000, 1)]
            for layer, t in times.items()
        }
        print(json.dumps({"label": label, "load": round(load, 1), **summary}), flush=True)


if __name__ == "__main__":
    main()
