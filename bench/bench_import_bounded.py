"""Import memory at a city's scale: `gridmap import households` of 5M and 10M households, both stores.

    .venv/bin/python -m bench.bench_import_bounded --city bench/work/city200.gpkg --baseline DIR
        [--sizes 5m,10m] [--stores gpkg,postgis]

The 5M source is the households layer of the scale-200 city GeoPackage
(`bench.workload.city_store`); the 10M source is made from it in bounded
memory: every household twice, the second copy's codes suffixed `-2` (same
buildings, same points). Each target store holds the city's streets,
communities, grids and buildings and no households (a fresh GeoPackage copied
from a template, or the PostGIS database with its households emptied).

Each import is `python -m gridmap import households FILE --store URL --yes` in
a child process, as a user runs it: wall time and peak resident memory
(`wait4`). The baseline is the same command run from DIR, a checkout of
gridmap's source from before chunked imports (`git archive <commit> gridmap |
tar -x -C DIR`), in the same session, the two run side by side (each into a
store of its own: the peaks are each process's own, the times share the
machine). Writes
bench/RESULTS.md section "import-bounded".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
from pyogrio.raw import open_arrow

from bench.common import WORK, run_cli, table, write_section
from gridmap.frames import conform
from gridmap.stores import open_store

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PARENTS = ("streets", "communities", "grids", "buildings")
TARGET_GIB = 2.0
BATCH = 200_000
LABELS = ("before", "after")
RUNS = WORK / "import_bounded.json"  # figures of earlier sessions (one size and store at a time fits a turn)


def ten_million(city: Path, out: Path) -> Path:
    """The city's households twice (the copy's codes suffixed `-2`), streamed into `out`."""
    if out.exists():
        return out
    partial = out.with_suffix(".partial.gpkg")
    partial.unlink(missing_ok=True)

    def batches(schema_out: list[pa.Schema]) -> Iterator[pa.RecordBatch]:
        for suffix in ("", "-2"):
            with open_arrow(city, layer="households", batch_size=BATCH, use_pyarrow=True) as (_meta, reader):
                for batch in reader:
                    if suffix:
                        at = batch.schema.get_field_index("code")
                        batch = batch.set_column(
                            at, "code", pc.binary_join_element_wise(batch["code"], suffix, "")
                        )
                    yield batch.cast(schema_out[0])

    with open_arrow(city, layer="households", batch_size=BATCH, use_pyarrow=True) as (meta, reader):
        schema = reader.schema
        geometry = meta["geometry_name"] or "wkb_geometry"
    reader = pa.RecordBatchReader.from_batches(schema, batches([schema]))
    pyogrio.write_arrow(
        reader,
        partial,
        layer="households",
        driver="GPKG",
        geometry_name=geometry,
        geometry_type="Point",
        crs="EPSG:4326",
    )
    partial.rename(out)
    return out


def template(city: Path) -> Path:
    """A GeoPackage store holding the city's parent layers and no households."""
    path = WORK / "import_bounded_template.gpkg"
    if path.exists():
        return path
    building = path.with_suffix(".partial.gpkg")
    building.unlink(missing_ok=True)
    with open_store(str(building)) as store:
        store.replace_many({layer: _layer(city, layer) for layer in PARENTS})
    building.rename(path)
    return path


def _layer(city: Path, layer: str):
    frame = pyogrio.read_dataframe(city, layer=layer, use_arrow=True)
    return conform(layer, frame.drop(columns=[c for c in ("revision",) if c in frame.columns]))


def _postgis(admin_url: str, city: Path) -> tuple[str, str]:
    name = f"gridmap_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host = admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+psycopg://{host}/{name}"
    with open_store(url) as store:
        store.replace_many({layer: _layer(city, layer) for layer in PARENTS})
    return name, url


def _empty_households(admin_url: str, name: str) -> None:
    """The households and their history emptied between runs (every run starts alike)."""
    host = admin_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{host}/{name}", autocommit=True) as conn:
        conn.execute("TRUNCATE households, households_history")
        conn.execute("VACUUM ANALYZE households")


def fresh_target(
    kind: str,
    label: str,
    name: str,
    gpkg_template: Path,
    databases: dict[str, tuple[str, str]],
    admin_url: str,
) -> str:
    """The URL of the store one run imports into, its households empty: WORK/<name>.gpkg copied from
    the template, or the PostGIS database of `label` emptied (every run starts alike)."""
    if kind == "gpkg":
        url = str(WORK / f"{name}.gpkg")
        shutil.copyfile(gpkg_template, url)
    else:
        database, url = databases[label]
        _empty_households(admin_url, database)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, default=WORK / "city200.gpkg")
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--sizes", default="5m,10m")
    parser.add_argument("--stores", default="gpkg,postgis")
    parser.add_argument(
        "--before-10m", default="gpkg", help="stores measured before at 10M (about 11 GiB each; '' for none)"
    )
    parser.add_argument("--section", default="import-bounded", help="the RESULTS.md section written")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    city: Path = args.city
    stores = args.stores.split(",")
    gpkg_template = template(city)
    sizes = args.sizes.split(",")
    before_10m = [kind for kind in args.before_10m.split(",") if kind in stores]
    wanted = set(LABELS) if "5m" in sizes or "postgis" in before_10m else {"after"}
    databases = {label: _postgis(args.admin_url, city) for label in wanted if "postgis" in stores}
    runs: dict[str, dict[str, Any]] = json.loads(RUNS.read_text()) if RUNS.exists() else {}
    roots = {"before": str(args.baseline), "after": None}
    sources = {"5m": city, "10m": WORK / "households_10m.gpkg"}

    def one(size: str, kind: str, label: str) -> object:
        """One import into a store of its own, as a user runs it; recorded as soon as it ends."""
        source = sources[size]
        url = fresh_target(
            kind, label, f"import_bounded_{size}_{label}", gpkg_template, databases, args.admin_url
        )
        command = ["import", "households", str(source.resolve()), "--store", url, "--yes"]
        load = os.getloadavg()[0]
        figures = run_cli(command, source=roots[label])
        with open_store(url) as store:
            stored = store.counts()["households"]
        count = pyogrio.read_info(source, layer="households")["features"]
        assert stored == count, (stored, count)
        if kind == "gpkg":
            Path(url).unlink()
        print(
            f"{size} {kind} {label}: {figures[0]:.0f} s wall, {figures[1]:.0f} s CPU, "
            f"peak {figures[2]:,.0f} MiB"
        )
        with lock:
            run = runs.setdefault(f"{size} {kind}", {"rows": count, "store": kind, "load": []})
            run[label] = figures
            run["load"] += [load, os.getloadavg()[0]]
            RUNS.write_text(json.dumps(runs, indent=1))
        return figures

    lock = threading.Lock()
    try:
        with ThreadPoolExecutor(6) as pool:
            # 5M: every store before and after at once (the peaks are each process's own), while
            # the 10M source is made; then 10M after (and before where asked) at once.
            jobs: list[Future[object]] = [
                pool.submit(one, "5m", kind, label) for kind in stores for label in LABELS if "5m" in sizes
            ]
            if "10m" in sizes:
                jobs.append(pool.submit(ten_million, city, sources["10m"]))
            for job in jobs:
                job.result()
            if "10m" in sizes:
                later = [("after", kind) for kind in stores]
                later += [("before", kind) for kind in before_10m]
                for job in [pool.submit(one, "10m", kind, label) for label, kind in later]:
                    job.result()
    finally:
        for name, _url in databases.values():
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        report(runs, args.section)


def report(runs: dict[str, dict[str, Any]], section: str) -> None:
    """The section of every size and store measured so far (sessions may measure them apart)."""
    rows: list[list[object]] = []
    loads: list[float] = []
    for run in sorted(runs.values(), key=lambda r: (r["rows"], r["store"])):
        before, after = run.get("before"), run.get("after")
        loads += run["load"]
        rows.append(
            [
                f"{run['rows']:,}",
                "GeoPackage" if run["store"] == "gpkg" else "PostGIS",
                f"{before[2] / 1024:.2f}" if before else "not measured",
                f"{after[2] / 1024:.2f}" if after else "not measured",
                f"{after[2] / before[2]:.2f}×" if before and after else "",
                f"{before[0]:.0f}" if before else "",
                f"{after[0]:.0f}" if after else "",
                ("met" if after[2] / 1024 <= TARGET_GIB else "NOT met") if after else "",
            ]
        )
    body = (
        "`gridmap import households FILE --yes` into a store holding the scale-200 city's streets, "
        "communities, grids and 208,449 buildings and no households; each run a child process "
        "(peak = its peak resident memory). Before: the same command from the source before chunked "
        "imports, run side by side with the after run (each into a store of its own), so the peaks "
        "are each process's own while the wall times share the machine; after: chunks of 200,000 "
        "features (the default). "
        "5M: the city GeoPackage's households layer; 10M: every household twice "
        "(`python -m bench.bench_import_bounded`).\n\n"
        + table(
            [
                "households",
                "store",
                "before GiB",
                "after GiB",
                "after/before",
                "before s",
                "after s",
                f"≤ {TARGET_GIB:g} GiB",
            ],
            rows,
        )
        + f"\n\n1-minute load average over the runs: {min(loads, default=0):.1f}–"
        f"{max(loads, default=0):.1f} (2 cores, shared)."
    )
    print(body)
    if rows:
        write_section(section, body)


if __name__ == "__main__":
    main()
