"""What the store's own triggers cost a bulk import, on and off in the same run, on both stores.

    .venv/bin/python -m bench.bench_triggers [--scale 40] [--append 100000] [--external 20000]

Workload: the sample generated at `--scale` (40: about a million households)
written once to a GeoPackage file, then, in a fresh GeoPackage store and a
fresh PostGIS database holding the other layers, with the households layer's
triggers on and set aside in turn (on, off, off, on; the median of each):
- `gridmap import` of every household (`import_file`, mode replace, after an
  untimed first import: each replace also moves the old rows to history);
- `gridmap import --mode append` of `--append` new households (an upsert);
- PostGIS only: an external `INSERT … SELECT` of `--external` rows, as psql
  or QGIS would write them (derivation, history and revision per row).
"Off" is `ALTER TABLE households DISABLE TRIGGER USER` on PostGIS and the
`gridmap_households_*` triggers dropped on a GeoPackage (made again after).
Writes bench/RESULTS.md section "triggers".
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import geopandas as gpd
import psycopg
import pyogrio

from bench.bench_write_path import _postgis
from bench.common import table, write_section
from gridmap.ingest import import_file
from gridmap.sample import generate
from gridmap.stores import Store, gpkg_triggers, open_store
from gridmap.stores.geopackage import _sqlite

ORDER = (True, False, False, True)  # triggers on/off per round: drift in the machine's load cancels out


@contextmanager
def _triggers(store: Store, on: bool) -> Iterator[None]:
    """The households layer's triggers as asked for the duration (made again afterwards)."""
    if on:
        yield
        return
    if store.url.endswith(".gpkg"):
        with _sqlite(Path(store.url), transaction=True) as conn:  # the store's own connection and gate
            for name in gpkg_triggers.trigger_names("households"):
                conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        try:
            yield
        finally:
            with _sqlite(Path(store.url), transaction=True) as conn:
                for statement in gpkg_triggers.triggers("households"):
                    conn.execute(statement)
        return
    with psycopg.connect(_libpq(store.url), autocommit=True) as conn:
        conn.execute("ALTER TABLE households DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with psycopg.connect(_libpq(store.url), autocommit=True) as conn:
            conn.execute("ALTER TABLE households ENABLE TRIGGER USER")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _external_insert(url: str, rows: int, round_: int) -> None:
    """`rows` new households by plain SQL, copied from existing ones under new codes."""
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'households' "
                "AND column_default IS NULL ORDER BY ordinal_position"
            )
        ]
        picked = ", ".join(f"code || '-x{round_}'" if c == "code" else f'"{c}"' for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        conn.execute(
            f"INSERT INTO households ({names}) SELECT {picked} FROM households ORDER BY code LIMIT {rows}"
        )


def _measure(
    url: str, others: dict[str, gpd.GeoDataFrame], files: dict[str, Path], args: argparse.Namespace
) -> dict[str, dict[bool, list[float]]]:
    times: dict[str, dict[bool, list[float]]] = {}

    def timed(write: str, on: bool, fn: Callable[[], object]) -> None:
        started = time.perf_counter()
        fn()
        times.setdefault(write, {}).setdefault(on, []).append(time.perf_counter() - started)

    with open_store(url) as store:
        store.replace_many(others)
        # Untimed: every timed replace then finds a full layer and moves it to history, whatever its turn.
        import_file(store, "households", files["all"], mode="replace")
        for round_, on in enumerate(ORDER):
            appended = files[f"append{round_}"]
            with _triggers(store, on):
                timed(
                    "import, replace",
                    on,
                    partial(import_file, store, "households", files["all"], mode="replace"),
                )
                timed(
                    "import, append", on, partial(import_file, store, "households", appended, mode="append")
                )
                if not url.endswith(".gpkg"):
                    timed(
                        "external INSERT … SELECT", on, partial(_external_insert, url, args.external, round_)
                    )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=40)
    parser.add_argument("--append", type=int, default=100_000)
    parser.add_argument("--external", type=int, default=20_000)
    args = parser.parse_args()
    frames = generate(scale=args.scale)
    households = frames.pop("households")
    work = Path(tempfile.mkdtemp(prefix="bench-triggers-"))
    files = {"all": work / "households.gpkg"}
    pyogrio.write_dataframe(households, files["all"], layer="households")
    for round_ in range(len(ORDER)):
        extra = households.iloc[: args.append].assign(
            code=households["code"].iloc[: args.append] + f"-a{round_}"
        )
        files[f"append{round_}"] = work / f"append{round_}.gpkg"
        pyogrio.write_dataframe(extra, files[f"append{round_}"], layer="households")
    load = os.getloadavg()[0]
    results = {"GeoPackage": _measure(str(work / "store.gpkg"), frames, files, args)}
    with _postgis() as url:
        results["PostGIS"] = _measure(url, frames, files, args)
    rows = []
    for store, writes in results.items():
        for write, by in writes.items():
            on, off = statistics.median(by[True]), statistics.median(by[False])
            rows.append([store, write, f"{on:.2f}", f"{off:.2f}", f"{on / off - 1:+.0%}"])
    body = (
        f"{len(households):,} households (the sample at scale {args.scale}), appends of {args.append:,}, "
        f"external inserts of {args.external:,}; median of two runs each with the triggers on and off, "
        f"taken in the order on, off, off, on. Load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (the 2 cores are shared).\n\n"
        + table(["store", "write", "triggers on (s)", "triggers off (s)", "cost"], rows)
    )
    write_section("triggers", body)
    print(body)


if __name__ == "__main__":
    main()
