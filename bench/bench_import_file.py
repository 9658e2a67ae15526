"""Import memory of a city's households from one file, before and after, side by side in the same run.

    .venv/bin/python -m bench.bench_import_file --file FILE --baseline DIR --section NAME
        [--city bench/work/city200.gpkg] [--stores gpkg,postgis] [--mode replace|append]
        [--make-xlsx ROWS]

FILE is any file `gridmap import households` reads (a GeoPackage's households layer, a CSV, a
workbook). With `--make-xlsx ROWS` it is first made, when absent, from the city's first ROWS
households as gridmap's own export writes a workbook (GDAL's XLSX writer: shared strings, lon/lat
columns). Each target store holds the city's streets, communities, grids and buildings and no
households (as `bench.bench_import_bounded` makes them). Each import is
`python -m gridmap import households FILE --store URL --mode MODE --yes` in a child process: wall
time, CPU time and peak resident memory (`wait4`). The baseline is the same command run from DIR, a
checkout of gridmap's source from before (`git archive <commit> gridmap | tar -x -C DIR`), side by
side with the after run, each into a store of its own. Writes bench/RESULTS.md section NAME.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from bench.bench_import_bounded import ADMIN_URL, TARGET_GIB, _empty_households, _postgis, template
from bench.common import WORK, run_cli, table, write_section
from gridmap.stores import open_store

LABELS = ("before", "after")
_COLUMNS = "code, address, building_code, unit, room, size, party_member, center_household, contact_name, "
_COLUMNS += "contact_phone"


def make_xlsx(city: Path, rows: int, out: Path) -> Path:
    """The city's first `rows` households as a workbook with lon/lat columns, written by GDAL."""
    if out.exists():
        return out
    partial = out.with_name(f"partial-{out.name}")
    partial.unlink(missing_ok=True)
    sql = f"SELECT {_COLUMNS}, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households ORDER BY fid LIMIT {rows}"
    command = ["ogr2ogr", "-f", "XLSX", "-nln", "households", str(partial), str(city)]
    subprocess.run([*command, "-dialect", "sqlite", "-sql", sql], check=True)
    partial.rename(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--city", type=Path, default=WORK / "city200.gpkg")
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--baseline-name", default="the source before", help="what the baseline is")
    parser.add_argument("--section", required=True)
    parser.add_argument("--stores", default="gpkg")
    parser.add_argument("--mode", default="replace", choices=("replace", "append"))
    parser.add_argument("--make-xlsx", type=int, default=0, help="make FILE from this many households")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    if args.make_xlsx:
        make_xlsx(args.city, args.make_xlsx, args.file)
    stores = args.stores.split(",")
    gpkg_template = template(args.city)
    databases = {label: _postgis(args.admin_url, args.city) for label in LABELS if "postgis" in stores}
    roots = {"before": str(args.baseline), "after": None}
    loads = [os.getloadavg()[0]]

    def one(kind: str, label: str) -> tuple[float, float, float, int]:
        if kind == "gpkg":
            url = str(WORK / f"import_file_{label}.gpkg")
            shutil.copyfile(gpkg_template, url)
        else:
            name, url = databases[label]
            _empty_households(args.admin_url, name)
        command = ["import", "households", str(args.file.resolve()), "--store", url, "--yes"]
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
        for name, _url in databases.values():
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    rows = []
    for kind in stores:
        before, after = results[(kind, "before")], results[(kind, "after")]
        assert before[3] == after[3], (before[3], after[3])
        rows.append(
            [
                f"{after[3]:,}",
                "GeoPackage" if kind == "gpkg" else "PostGIS",
                args.mode,
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
    body = (
        f"`gridmap import households {args.file.name} --mode {args.mode} --yes` "
        f"({args.file.stat().st_size / 2**20:,.0f} MiB) into a store holding the scale-200 city's streets, "
        "communities, grids and buildings and no households; each run a child process (peak = its peak "
        f"resident memory, `wait4`). Before: the same command from {args.baseline_name}, side by side "
        "with the after run (each into a store of its own; the peaks are each process's own, the times "
        "share the machine). After: chunks of 200,000 rows (`python -m bench.bench_import_file`).\n\n"
        + table(
            [
                "households",
                "store",
                "mode",
                "before MiB",
                "after MiB",
                "after/before",
                "before CPU s",
                "after CPU s",
                "before wall s",
                "after wall s",
                f"≤ {TARGET_GIB:g} GiB",
            ],
            rows,
        )
        + f"\n\n1-minute load average over the runs: {min(loads):.1f}–{max(loads):.1f} (2 cores, shared)."
    )
    print(body)
    write_section(args.section, body)


if __name__ == "__main__":
    main()
