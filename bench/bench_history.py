"""History benchmark: what recording every write as a revision costs at a million households.

    .venv/bin/python -m bench.bench_history [--rows N] [--admin-url URL]

The households CSV of `bench.bench_import`, on PostGIS and GeoPackage, each
step in a forked process, with history on (the stores as they are) and off
(the same store class reading no stored rows before a write, so nothing is
compared and nothing moves to history: what a write cost before revisions):
- the end-to-end import into an empty layer (`gridmap.ingest.import_file`);
- a replace of the million households by a million changed ones (every
  feature's before state moves to history);
- the size the history tables add for those million changed households.
Writes the table to bench/RESULTS.md (section "history").
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing

import geopandas as gpd
import psycopg

from bench.bench_import import ADMIN_URL, _create_database, _drop_database, generate, read_frame
from bench.common import WORK, run_isolated, table, write_section
from gridmap.changes import versioned_spec
from gridmap.frames import empty_frame
from gridmap.ingest import import_file
from gridmap.stores import Store
from gridmap.stores.geopackage import GeoPackageStore
from gridmap.stores.postgis import PostGISStore

LIMIT = 1.20  # history may make the import at most 20 % slower
NOTE = (
    "What history adds to each step: into an empty layer, nothing but the revision row and the "
    "`revision` stamp on each row (there are no stored rows to read before the write); for a replace, "
    "reading the stored layer, comparing it column by column with the new one, and copying every "
    "changed row's before state into `households_history` in the same transaction. A replace that "
    "changes few rows moves only those; one that changes nothing writes nothing. For scale, the same "
    "import took 6.46 s (PostGIS) and 7.66 s (GeoPackage) on a quiet machine before revisions "
    '(section "import"); a load average of 15 to 30, as in this run, slows everything several times over.'
)


class _Unrecorded:
    """Mixin: the store sees no stored rows before a write, so it keeps no before states."""

    def _stored(self, layer: str, codes: Sequence[str] | None) -> gpd.GeoDataFrame:
        return empty_frame(versioned_spec(layer))


class PostGISWithoutHistory(_Unrecorded, PostGISStore):
    """PostGIS as it wrote before revisions: TRUNCATE and COPY, nothing moved to history."""


class GeoPackageWithoutHistory(_Unrecorded, GeoPackageStore):
    """The GeoPackage store writing in place with nothing moved to history."""


def _opener(url: str, history: bool) -> Callable[[], Store]:
    if url.startswith("postgresql"):
        return (lambda: PostGISStore(url)) if history else (lambda: PostGISWithoutHistory(url))
    return (lambda: GeoPackageStore(url)) if history else (lambda: GeoPackageWithoutHistory(url))


def measure(url: str, history: bool, fn: Callable[[Store], object]) -> tuple[float, float]:
    """Seconds of `fn(store)` in a forked process (store opened before the clock starts), and peak MiB."""
    inner = mp.get_context("fork").Value("d", 0.0)

    def child() -> None:
        with _opener(url, history)() as store:
            start = time.perf_counter()
            fn(store)
            inner.value = time.perf_counter() - start

    _, peak = run_isolated(child)
    return inner.value, peak


def history_bytes(url: str) -> int:
    """Bytes the households history table (with its indexes) takes in the store."""
    if url.startswith("postgresql"):
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            row = conn.execute("SELECT pg_total_relation_size('households_history')").fetchone()
        return int(row[0]) if row else 0
    with closing(sqlite3.connect(url)) as conn:
        rows = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'households_history%'").fetchone()
    return int(rows[0] or 0)


def _fresh_store(kind: str, history: bool, admin_url: str, databases: list[str]) -> str:
    """A new empty store of `kind` for one on/off cycle (its URL)."""
    if kind == "PostGIS":
        name, url = _create_database(admin_url)
        databases.append(name)
        return url
    path = WORK / f"bench_history_{'on' if history else 'off'}.gpkg"
    path.unlink(missing_ok=True)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--repeat", type=int, default=2, help="rounds of off/on; the fastest of each is kept")
    args = parser.parse_args()
    rows: int = args.rows
    csv, buildings = generate(rows)
    frame = read_frame(csv)
    changed = frame.assign(address=frame["address"] + "（新）")
    databases: list[str] = []
    results: list[list[object]] = []
    sizes: dict[str, int] = {}
    load = os.getloadavg()[0]
    try:
        for store_name in ("PostGIS", "GeoPackage"):
            timings: dict[tuple[str, bool], list[float]] = {}
            # Off and on alternate, each on a fresh store, so a change in the machine's load hits both.
            for _round in range(args.repeat):
                for history in (False, True):
                    url = _fresh_store(store_name, history, args.admin_url, databases)
                    with _opener(url, history)() as store:
                        store.replace("buildings", buildings)

                    def end_to_end(store: Store) -> None:
                        assert import_file(store, "households", csv).written == rows

                    def replace(store: Store) -> None:
                        store.replace("households", changed)

                    timings.setdefault(("import", history), []).append(measure(url, history, end_to_end)[0])
                    timings.setdefault(("replace", history), []).append(measure(url, history, replace)[0])
                    if history:
                        sizes[store_name] = history_bytes(url)
            for step, label in (
                ("import", "import_file into an empty layer"),
                ("replace", f"replace the {rows:,} households by {rows:,} changed ones"),
            ):
                off, on = min(timings[(step, False)]), min(timings[(step, True)])
                results.append(
                    [
                        store_name,
                        label,
                        f"{off:.2f}",
                        f"{on:.2f}",
                        f"{rows / on:,.0f}",
                        f"{on / off - 1:+.0%}",
                    ]
                )
    finally:
        for name in databases:
            _drop_database(args.admin_url, name)
        for path in WORK.glob("bench_history_*.gpkg"):
            path.unlink()
    report(rows, results, sizes, (load, os.getloadavg()[0]))


def report(rows: int, results: list[list[object]], sizes: dict[str, int], load: tuple[float, float]) -> None:
    imports = {r[0]: float(str(r[3])) / float(str(r[2])) for r in results if "import" in str(r[1])}
    checks = [
        f"- {store}: the import with history takes {ratio:.2f}× its time without "
        f"(limit {LIMIT:.2f}×): " + ("met" if ratio <= LIMIT else "NOT met")
        for store, ratio in imports.items()
    ]
    body = (
        f"{rows:,} households (`python -m bench.bench_history --rows {rows}`), each step run in a forked "
        "process, off and on alternating on fresh stores, the fastest of the rounds kept; "
        '"off" is the same store reading no stored rows before the write (nothing '
        'compared, nothing kept in history), "on" the store as shipped.\n\n'
        + table(["store", "step", "off s", "on s", "on rows/s", "history costs"], results)
        + "\n\n"
        + "\n".join(checks)
        + "\n\nSize history adds per 1,000,000 changed households (before states, indexes included): "
        + ", ".join(f"{store} {size / 2**20 * 1_000_000 / rows:,.0f} MiB" for store, size in sizes.items())
        + ".\n\n"
        + NOTE
        + f"\n\nThe machine was shared with other work: its 1-minute load average was {load[0]:.1f} at the "
        f"start and {load[1]:.1f} at the end of the run (2 cores), so compare the on/off columns with each "
        "other rather than with other sections."
    )
    print(body)
    write_section("history", body)


if __name__ == "__main__":
    main()
