"""What a chunked import costs beyond the whole-file import, by the number of chunks, both stores.

    .venv/bin/python -m bench.bench_import_chunks --whole DIR --start DIR [--rows 600000]
        [--chunks 200000,25000]

The source is the first ROWS households of the scale-200 city GeoPackage
(`bench/work/city200.gpkg`), without their derived grid code; each target store
holds the city's streets, communities, grids and buildings and no households.
Each import is `python -m gridmap import households FILE --yes --chunk-rows N`
in a child process (CPU seconds and peak resident memory from `wait4`), run
from three sources one after another: `--whole`, gridmap before chunked imports
(the whole file at once); `--start`, chunked imports as they were before this
change (a window read per chunk, a hash table per earlier chunk for repeats);
and this checkout. Small chunks stand in for a big file's many: 24 chunks of
25,000 rows have a city's count of chunks (25 at 5M) at a tenth of its rows.
Writes bench/RESULTS.md section "import-chunks".
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pyogrio

from bench.bench_import_bounded import ADMIN_URL, _empty_households
from bench.common import WORK, run_cli, table, write_section


def source(city: Path, rows: int) -> Path:
    """The city's first `rows` households, as a file would hold them (no grid code)."""
    path = WORK / f"households_{rows}.gpkg"
    if not path.exists():
        frame = pyogrio.read_dataframe(city, layer="households", max_features=rows, use_arrow=True)
        frame = frame.drop(columns=[c for c in ("revision", "grid_code") if c in frame.columns])
        partial = path.with_suffix(".partial.gpkg")
        pyogrio.write_dataframe(frame, partial, layer="households", driver="GPKG")
        partial.rename(path)
    return path


_PARENTS = """
import sys, pyogrio
from gridmap.frames import conform
from gridmap.stores import open_store
def layer(name):
    frame = pyogrio.read_dataframe(sys.argv[1], layer=name, use_arrow=True)
    return conform(name, frame.drop(columns=[c for c in ("revision",) if c in frame.columns]))
with open_store(sys.argv[2]) as store:
    store.replace_many({n: layer(n) for n in ("streets", "communities", "grids", "buildings")})
"""


def targets(city: Path, root: str | None, label: str, admin_url: str) -> tuple[Path, str, str]:
    """A GeoPackage template and a PostGIS database holding the city's parent layers, each made by the
    code under test (an older checkout does not open a store of newer migrations)."""
    gpkg = WORK / f"import_chunks_{label}.gpkg"
    gpkg.unlink(missing_ok=True)
    name = f"gridmap_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host = admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+psycopg://{host}/{name}"
    for store in (str(gpkg), url):
        subprocess.run([sys.executable, "-c", _PARENTS, str(city.resolve()), store], cwd=root, check=True)
    return gpkg, name, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, default=WORK / "city200.gpkg")
    parser.add_argument("--whole", type=Path, required=True, help="gridmap before chunked imports")
    parser.add_argument("--start", type=Path, required=True, help="chunked imports before this change")
    parser.add_argument("--rows", type=int, default=600_000)
    parser.add_argument("--chunks", default="200000,25000")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    file = source(args.city, args.rows)
    roots = {"whole": str(args.whole), "start": str(args.start), "after": None}
    made = {key: targets(args.city, root, key, args.admin_url) for key, root in roots.items()}
    chunks = [int(c) for c in args.chunks.split(",")]
    runs = [("whole file (before chunked imports)", "whole", 10**9)]
    for size in chunks:
        runs += [(f"chunks of {size:,}: before this change", "start", size)]
        runs += [(f"chunks of {size:,}: after", "after", size)]
    rows: list[list[object]] = []
    loads: list[float] = []
    try:
        for kind in ("postgis", "gpkg"):
            for label, key, size in runs:
                gpkg, name, url = made[key]
                if kind == "gpkg":
                    target = str(WORK / "import_chunks.gpkg")
                    shutil.copyfile(gpkg, target)
                else:
                    _empty_households(args.admin_url, name)
                    target = url
                command = ["import", "households", str(file.resolve()), "--store", target, "--yes"]
                if size < 10**9:
                    command += ["--chunk-rows", str(size)]
                loads.append(os.getloadavg()[0])
                wall, cpu, peak = run_cli(command, source=roots[key])
                loads.append(os.getloadavg()[0])
                store = "GeoPackage" if kind == "gpkg" else "PostGIS"
                print(f"{store} {label}: {wall:.0f} s, {cpu:.1f} s CPU, peak {peak:,.0f} MiB", flush=True)
                rows.append([store, label, f"{cpu:.1f}", f"{peak:,.0f}", f"{wall:.0f}"])
    finally:
        for gpkg, name, _url in made.values():
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            gpkg.unlink(missing_ok=True)
        (WORK / "import_chunks.gpkg").unlink(missing_ok=True)
    body = (
        f"`gridmap import households FILE --yes [--chunk-rows N]` of the scale-200 city's first "
        f"{args.rows:,} households into a store holding its streets, communities, grids and buildings "
        "and no households; each run a child process, one after another (`python -m "
        "bench.bench_import_chunks`).\n\n"
        + table(["store", "import", "CPU s", "peak MiB", "wall s"], rows)
        + f"\n\n1-minute load average over the runs: {min(loads):.1f}–{max(loads):.1f} (2 cores, shared)."
    )
    print(body)
    write_section("import-chunks", body)


if __name__ == "__main__":
    main()
