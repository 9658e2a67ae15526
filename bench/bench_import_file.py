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
import subprocess
from pathlib import Path

from bench.bench_import_bounded import ADMIN_URL
from bench.bench_import_csv import HEADERS, side_by_side
from bench.common import WORK, table, write_section

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
    rows, loads = side_by_side(args, args.file, "import_file")
    rows = [[*row[:2], args.mode, *row[2:]] for row in rows]
    body = (
        f"`gridmap import households {args.file.name} --mode {args.mode} --yes` "
        f"({args.file.stat().st_size / 2**20:,.0f} MiB) into a store holding the scale-200 city's streets, "
        "communities, grids and buildings and no households; each run a child process (peak = its peak "
        f"resident memory, `wait4`). Before: the same command from {args.baseline_name}, side by side "
        "with the after run (each into a store of its own; the peaks are each process's own, the times "
        "share the machine). After: chunks of 200,000 rows (`python -m bench.bench_import_file`).\n\n"
        + table(
            [*HEADERS[:2], "mode", *HEADERS[2:]],
            rows,
        )
        + f"\n\n1-minute load average over the runs: {min(loads):.1f}–{max(loads):.1f} (2 cores, shared)."
    )
    print(body)
    write_section(args.section, body)


if __name__ == "__main__":
    main()
