"""Import memory of a city's households from a CSV: before and after CSV files were read in chunks.

    .venv/bin/python -m bench.bench_import_csv --csv FILE --baseline DIR [--city bench/work/city200.gpkg]
        [--stores gpkg] [--mode replace|append]

FILE is the households layer of the scale-200 city as a CSV with lon/lat columns, e.g.
`ogr2ogr -f CSV FILE city200.gpkg -dialect sqlite -sql "SELECT code, ..., ST_X(geom) AS lon,
ST_Y(geom) AS lat FROM households"`. Each target store holds the city's streets, communities,
grids and buildings and no households (as `bench.bench_import_bounded` makes them). Each import is
`python -m gridmap import households FILE --store URL --yes` in a child process: wall time, CPU
time and peak resident memory (`wait4`). The baseline is the same command run from DIR, a checkout
of gridmap's source from before (`git archive <commit> gridmap | tar -x -C DIR`), side by side with
the after run, each into a store of its own. Writes bench/RESULTS.md section "import-csv-bounded"
(with `--mode append`, "import-csv-bounded-append": the same file appended to the empty layer).
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from bench.bench_import_bounded import ADMIN_URL, TARGET_GIB, _postgis, fresh_target, template
from bench.common import WORK, run_cli, table, write_section
from gridmap.stores import open_store

LABELS = ("before", "after")
HEADERS = [
    "households",
    "store",
    "before MiB",
    "after MiB",
    "after/before",
    "before CPU s",
    "after CPU s",
    "before wall s",
    "after wall s",
    f"≤ {TARGET_GIB:g} GiB",
]


def side_by_side(args: argparse.Namespace, path: Path, name: str) -> tuple[list[list[object]], list[float]]:
    """`gridmap import households PATH --mode MODE` into each of `args.stores` from the baseline and
    from this checkout at once, each into a store of its own (WORK/<name>_<label>.gpkg or a database):
    a row of `HEADERS` per store, and the load averages seen."""
    stores = args.stores.split(",")
    gpkg_template = template(args.city)
    databases = {label: _postgis(args.admin_url, args.city) for label in LABELS if "postgis" in stores}
    roots = {"before": str(args.baseline), "after": None}
    loads = [os.getloadavg()[0]]

    def one(kind: str, label: str) -> tuple[float, float, float, int]:
        url = fresh_target(kind, label, f"{name}_{label}", gpkg_template, databases, args.admin_url)
        command = ["import", "households", str(path.resolve()), "--store", url, "--yes"]
        command += ["--mode", args.mode]
        wall, cpu, peak = run_cli(command, source=roots[label])
        with open_store(url) as store:
            stored = store.counts()["households"]
        if kind == "gpkg":
            Path(url).unlink()
        loads.append(os.getloadavg()[0])
        print(f"{kind} {label}: {wall:.0f} s wall, {cpu:.0f} s CPU, peak {peak:,.0f} MiB, {stored:,} rows")
        return wall, cpu, peak, stored

    try:
        with ThreadPoolExecutor(2 * len(stores)) as pool:
            jobs = {(kind, label): pool.submit(one, kind, label) for kind in stores for label in LABELS}
            results = {key: job.result() for key, job in jobs.items()}
    finally:
        for database, _url in databases.values():
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    rows: list[list[object]] = []
    for kind in stores:
        before, after = results[(kind, "before")], results[(kind, "after")]
        assert before[3] == after[3], (before[3], after[3])
        rows.append(
            [
                f"{after[3]:,}",
                "GeoPackage" if kind == "gpkg" else "PostGIS",
                f"{before[2]:,.0f}",
                f"{after[2]:,.0f}",
                f"{after[2] / before[2]:.2f}×",
                f"{before[1]:.0f}",
                f"{after[1]:.0f}",
                f"{before[0]:.0f}",
                f"{after[0]:.0f}",
                "met" if after[2] / 1024 <= TARGET_GIB else "NOT met",
            ]
        )
    return rows, loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--city", type=Path, default=WORK / "city200.gpkg")
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--stores", default="gpkg")
    parser.add_argument("--mode", default="replace", choices=("replace", "append"))
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    rows, loads = side_by_side(args, args.csv, "import_csv")
    body = (
        f"`gridmap import households {args.csv.name} --mode {args.mode} --yes`: the scale-200 city's "
        "households as a CSV "
        f"({args.csv.stat().st_size / 2**20:,.0f} MiB, lon/lat columns) into a store holding its streets, "
        "communities, grids and buildings and no households; each run a child process (peak = its peak "
        "resident memory, `wait4`). Before: the same command from the source before CSV files were read "
        "in chunks, side by side with the after run (each into a store of its own; the peaks are each "
        "process's own, the times share the machine). After: chunks of 200,000 rows "
        "(`python -m bench.bench_import_csv`).\n\n"
        + table(
            HEADERS,
            rows,
        )
        + f"\n\n1-minute load average over the runs: {min(loads):.1f}–{max(loads):.1f} (2 cores, shared)."
    )
    print(body)
    write_section("import-csv-bounded" + ("" if args.mode == "replace" else "-append"), body)


if __name__ == "__main__":
    main()
