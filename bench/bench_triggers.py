"""What the store's own triggers cost a bulk import, on and off in the same run, on both stores.

    .venv/bin/python -m bench.bench_triggers [--scale 40] [--append 100000] [--external 20000]
        [--stores GeoPackage PostGIS] [--writes replace append external]

Workload: the sample generated at `--scale` (40: about a million households)
written once to a GeoPackage file, then, in a fresh GeoPackage store and a
fresh PostGIS database holding the other layers, with the households layer's
triggers in three modes in turn (`ORDERS`, `MODES`; the median of each):
- `gridmap import` of every household (`import_file`, mode replace, after an
  untimed first import: each replace also moves the old rows to history);
- `gridmap import --mode append` of `--append` new households (an upsert);
- PostGIS only: an external `INSERT … SELECT` of `--external` rows, as psql
  or QGIS would write them (derivation, history and revision per row).
"Off" is `Store.triggers_aside("households")` for the whole round: on PostGIS the
`gridmap_external_*` triggers disabled, on a GeoPackage the change-log triggers dropped
(the check triggers stay), made again after. "Shipped" is the store as it is: gridmap's own
writes of 1,000 rows or more set the same triggers aside inside their own transaction;
"through" (PostGIS) sends them through the triggers, as before that.
Writes bench/RESULTS.md section "triggers-aside".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
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
from gridmap.stores import Store, geopackage, open_store, postgis
from gridmap.stores.base import TRIGGERS_ASIDE_FROM_ROWS

ORDERS = {  # per round; each order is its own mirror image, so drift in the machine's load cancels out
    "GeoPackage": ("shipped", "off", "off", "shipped"),
    "PostGIS": ("through", "shipped", "off", "off", "shipped", "through"),
}
WRITES = {"import, replace": "replace", "import, append": "append", "external INSERT … SELECT": "external"}
MODES = {
    "through": "gridmap's writes through the triggers (their WHEN skips each row): before this change",
    "shipped": "gridmap's writes of 1,000 rows or more set the triggers aside in their transaction",
    "off": "triggers set aside for the whole round (Store.triggers_aside)",
}


@contextmanager
def _mode(store: Store, mode: str) -> Iterator[None]:
    """The households layer's change triggers as `mode` asks, for the duration."""
    if mode == "off":
        with store.triggers_aside("households") as aside:
            assert aside
            yield
        return
    threshold = 10**12 if mode == "through" else TRIGGERS_ASIDE_FROM_ROWS
    saved = postgis.TRIGGERS_ASIDE_FROM_ROWS, geopackage.TRIGGERS_ASIDE_FROM_ROWS
    postgis.TRIGGERS_ASIDE_FROM_ROWS = geopackage.TRIGGERS_ASIDE_FROM_ROWS = threshold
    try:
        yield
    finally:
        postgis.TRIGGERS_ASIDE_FROM_ROWS, geopackage.TRIGGERS_ASIDE_FROM_ROWS = saved


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
    url: str,
    order: tuple[str, ...],
    others: dict[str, gpd.GeoDataFrame],
    files: dict[str, Path],
    args: argparse.Namespace,
) -> dict[str, dict[str, list[float]]]:
    times: dict[str, dict[str, list[float]]] = {}

    def timed(write: str, mode: str, fn: Callable[[], object]) -> None:
        if WRITES[write] not in args.writes:
            return
        started = time.perf_counter()
        fn()
        seconds = time.perf_counter() - started
        times.setdefault(write, {}).setdefault(mode, []).append(seconds)
        print(f"{url.rsplit('/', 1)[-1]}: {write}, {mode}: {seconds:.2f} s", file=sys.stderr, flush=True)

    with open_store(url) as store:
        store.replace_many(others)
        # Untimed: every timed replace then finds a full layer and moves it to history, whatever its turn.
        import_file(store, "households", files["all"], mode="replace")
        for round_, mode in enumerate(order):
            appended = files[f"append{round_}"]
            with _mode(store, mode):
                timed(
                    "import, replace",
                    mode,
                    partial(import_file, store, "households", files["all"], mode="replace"),
                )
                timed(
                    "import, append", mode, partial(import_file, store, "households", appended, mode="append")
                )
                if not url.endswith(".gpkg"):
                    timed(
                        "external INSERT … SELECT",
                        mode,
                        partial(_external_insert, url, args.external, round_),
                    )
    return times


def _cell(by: dict[str, list[float]], mode: str, off: float) -> str:
    if mode not in by:
        return "—"
    median = statistics.median(by[mode])
    return f"{median:.2f} ({median / off - 1:+.0%})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=40)
    parser.add_argument("--append", type=int, default=100_000)
    parser.add_argument("--external", type=int, default=20_000)
    parser.add_argument("--stores", nargs="+", choices=list(ORDERS), default=list(ORDERS))
    parser.add_argument("--writes", nargs="+", choices=list(WRITES.values()), default=list(WRITES.values()))
    args = parser.parse_args()
    frames = generate(scale=args.scale)
    households = frames.pop("households")
    work = Path(tempfile.mkdtemp(prefix="bench-triggers-"))
    files = {"all": work / "households.gpkg"}
    pyogrio.write_dataframe(households, files["all"], layer="households")
    for round_ in range(max(len(order) for order in ORDERS.values())):
        extra = households.iloc[: args.append].assign(
            code=households["code"].iloc[: args.append] + f"-a{round_}"
        )
        files[f"append{round_}"] = work / f"append{round_}.gpkg"
        pyogrio.write_dataframe(extra, files[f"append{round_}"], layer="households")
    load = os.getloadavg()[0]
    results = {}
    if "GeoPackage" in args.stores:
        results["GeoPackage"] = _measure(str(work / "store.gpkg"), ORDERS["GeoPackage"], frames, files, args)
    if "PostGIS" in args.stores:
        with _postgis() as url:
            results["PostGIS"] = _measure(url, ORDERS["PostGIS"], frames, files, args)
    rows: list[list[object]] = []
    for store, writes in results.items():
        for write, by in writes.items():
            off = statistics.median(by["off"])
            rows.append([store, write, _cell(by, "through", off), _cell(by, "shipped", off), f"{off:.2f}"])
    orders = "; ".join(f"{store}: {', '.join(ORDERS[store])}" for store in results)
    body = (
        f"{len(households):,} households (the sample at scale {args.scale}), appends of {args.append:,}, "
        f"external inserts of {args.external:,}; the median of each mode's rounds, taken in the order "
        f"{orders}. Modes: "
        + "; ".join(f"{mode}: {what}" for mode, what in MODES.items())
        + f". Load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        '(the 2 cores are shared). In brackets: the cost against "off".\n\n'
        + table(["store", "write", "through (s)", "shipped (s)", "off (s)"], rows)
    )
    write_section("triggers-aside", body)
    print(body)


if __name__ == "__main__":
    main()
