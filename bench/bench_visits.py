"""Visits at city scale: a grid's due list and the visit coverage measure over a year of visits.

    .venv/bin/python -m bench.bench_visits [--scale 200] [--store PATH]

Workload: the sample city of `bench.workload.city_store` (`gridmap.sample.plan(scale)`; scale 200:
12,200 grids, 5,023,863 households) in a GeoPackage store, and a year of visits seeded over it by
`gridmap.visits.sample.sample_visits` (care categories for about one household in twelve, the
workers of one grid in five behind), generated and inserted in parts of about 500,000 households
(whole grids; `VisitBook.extend`: one executemany per part). Both are made once and reused.

Measured, each in its own process (time; peak resident memory of that process):
- `due`: `gridmap.visits.service.due` for one grid (among the largest, the one whose worker is furthest
  behind: the longest list), as the API calls it;
- `gridmap visits due --grid CODE --on DAY`: the CLI end to end (interpreter start, the table printed);
- the full analysis: `gridmap.analysis.read_inputs` (every layer, and the coverage input: every
  household's last visit by GROUP BY over the year, the care register) and `analyze`;
- in the same process, the incremental refresh after one visit is logged: `log_visit`, the visited
  household's status read again (`refreshed_status`) and `gridmap.incremental.update`, which
  redoes the household's community; the grid counts one more household visited in time, the city
  one fewer overdue (checked), as the tests hold `update` equal to a full analysis.
Writes bench/RESULTS.md (section "visits").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import WORK, run_cli, run_isolated, table, write_section
from bench.workload import city_store
from gridmap.analysis import analyze, read_inputs
from gridmap.incremental import update
from gridmap.localtime import BEIJING
from gridmap.privacy import Role
from gridmap.stores import open_store
from gridmap.visits.sample import sample_visits
from gridmap.visits.service import Visit, due, log_visit, refreshed_status

PART = 500_000


def _seed(store: str, now: dt.datetime) -> dict[str, Any]:
    """A year of visits over the store's households, made once (a note beside the store says so):
    counts and seconds. Run in a child process, so the parent stays small for the measured children."""
    note = Path(f"{store}.visits.json")
    if note.exists():
        return dict(json.loads(note.read_text()))

    def seed() -> None:
        with open_store(store) as opened:
            book = opened.visit_book()
            book.replace(pd.DataFrame(), pd.DataFrame())  # what an interrupted run left
            start = time.perf_counter()
            households = opened.read_columns("households", ["code", "grid_code"])
            grids = opened.read_columns("grids", ["code", "worker_name"])
            grid = households["grid_code"].astype("string").fillna("").to_numpy(dtype=object)
            turns = np.flatnonzero(grid[1:] != grid[:-1]) + 1  # ordered by code: grid by grid
            cuts = [0, *sorted({int(turns[np.searchsorted(turns, k)]) for k in range(PART, len(grid), PART)})]
            visits = care = 0
            for part, (a, b) in enumerate(zip(cuts, [*cuts[1:], len(grid)], strict=True)):
                chunk = households.iloc[a:b][["code", "grid_code"]]
                v, c = sample_visits(chunk, grids, now, seed=25 + part)
                v["key"] = f"b{part}-" + pd.Series(np.arange(len(v)), index=v.index).astype(str)
                visits += book.extend(v, c)
                care += len(c)
            made = {"visits": visits, "care": care, "seconds": time.perf_counter() - start}
            note.write_text(json.dumps({**made, "now": now.isoformat()}))

    seconds, peak = run_isolated(seed)
    return {**json.loads(note.read_text()), "process": seconds, "peak": peak}


def _count(store: str, table_name: str) -> int:
    with sqlite3.connect(store) as conn:
        found = conn.execute("SELECT name FROM sqlite_master WHERE name = ?", (table_name,)).fetchone()
        return int(conn.execute(f"SELECT count(*) FROM {table_name}").fetchone()[0]) if found else 0


def _grid_behind(store: str, now: dt.datetime) -> tuple[str, int]:
    """The grid whose worker is furthest behind among the largest grids (the longest due list):
    the fewest visits in the last 30 days per household."""
    since = (now - dt.timedelta(days=30)).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(store) as conn:
        sizes = dict(conn.execute("SELECT grid_code, count(*) FROM households GROUP BY grid_code").fetchall())
        recent = dict(
            conn.execute(
                "SELECT grid_code, count(*) FROM visits WHERE visited_at >= ? GROUP BY grid_code", (since,)
            ).fetchall()
        )
    largest = max(n for g, n in sizes.items() if g is not None)
    big = [g for g, n in sizes.items() if g is not None and n >= 0.9 * largest]
    code = min(big, key=lambda g: (recent.get(g, 0) / sizes[g], g))
    return str(code), int(sizes[code])


def _due(store: str, grid: str, day: dt.date, out: Path) -> None:
    start = time.perf_counter()
    with open_store(store) as opened:
        listed = due(opened, grid, day, Role.ADMIN)
    seconds = time.perf_counter() - start
    counts = listed["status"].value_counts().to_dict()
    out.write_text(json.dumps({"seconds": seconds, "rows": len(listed), **counts}))


def _analysis(store: str, day: dt.date, now: dt.datetime, out: Path) -> None:
    """The full analysis, then one visit logged and the incremental refresh (figures handed back)."""
    figures: dict[str, Any] = {}
    with open_store(store) as opened:
        start = time.perf_counter()
        frames = read_inputs(opened)
        figures["read"] = time.perf_counter() - start
        start = time.perf_counter()
        before = analyze(frames)
        figures["analyze"] = time.perf_counter() - start
        grids = before.grids.set_index("code")
        late = grids.index[grids["visits_overdue"].to_numpy() > 0][0]
        status = frames["visit_status"]
        households = before.households
        mine = households[(households["grid_code"] == late).to_numpy(dtype=bool)]["code"].astype(str)
        overdue = set(status["code"][status["overdue"].to_numpy(dtype=bool)].astype(str))
        household = next(c for c in mine if c in overdue)
        start = time.perf_counter()
        log_visit(opened, Visit(f"bench-{household}-{time.time_ns()}", household, "网格员", now))
        figures["log"] = time.perf_counter() - start
        start = time.perf_counter()
        fresh = refreshed_status(opened, status, [household], day)
        figures["status"] = time.perf_counter() - start
        start = time.perf_counter()
        after, streets = update(frames, before, {"visit_status": fresh}, codes={"visit_status": [household]})
        figures["update"] = time.perf_counter() - start
    was = int(grids.loc[late, "visited_in_time"])
    now_in = int(after.grids.set_index("code").loc[late, "visited_in_time"])
    if (
        now_in != was + 1
        or int(after.grids["visits_overdue"].sum()) != int(grids["visits_overdue"].sum()) - 1
    ):
        raise AssertionError(f"the refresh after one visit to {household} in {late} counts wrong")
    figures.update(
        households=len(households),
        in_time=float(before.households["visited_in_time"].mean()),
        overdue=int(grids["visits_overdue"].sum()),
        grid=str(late),
        grid_before=was,
        grid_after=now_in,
        streets=None if streets is None else len(streets),
        street_total=len(before.streets),
        overdue_after=int(after.grids["visits_overdue"].sum()),
    )
    out.write_text(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=200)
    parser.add_argument("--store", type=Path, default=None, help="default: bench/work/city<scale>.gpkg")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    store = str(city_store(args.scale, args.store or WORK / f"city{args.scale}.gpkg"))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    seeded = _seed(store, now)
    now = dt.datetime.fromisoformat(str(seeded["now"]))  # the year the visits were seeded for
    day = now.astimezone(BEIJING).date()
    grid, size = _grid_behind(store, now)
    load = os.getloadavg()
    due_json, analysis_json = WORK / "visits_due.json", WORK / "visits_analysis.json"
    due_s, due_peak = run_isolated(lambda: _due(store, grid, day, due_json))
    listed = json.loads(due_json.read_text())
    cli_wall, cli_cpu, cli_peak = run_cli(
        ["visits", "due", "--grid", grid, "--on", day.isoformat(), "--store", store]
    )
    full_s, full_peak = run_isolated(lambda: _analysis(store, day, now, analysis_json))
    a = json.loads(analysis_json.read_text())
    after = os.getloadavg()
    peak = f", peak {seeded['peak']:,.0f} MiB" if "peak" in seeded else ""
    body = (
        f"""Workload: `python -m bench.bench_visits --scale {args.scale}`: the sample city at scale
{args.scale}
({a["households"]:,} households) in a GeoPackage store ({Path(store).stat().st_size / 2**30:.2f} GiB with its
visits), and a year of visits up to {now:%Y-%m-%d}: {seeded["visits"]:,} visits and {seeded["care"]:,}
care-register rows, generated and inserted in parts of about {PART:,} households
(in {seeded["seconds"]:.0f} s{peak}). The due list is that of a grid
whose worker is behind, among the largest ({grid}, {size:,} households); on {day}:
{listed["rows"]:,} households listed
({listed.get("overdue", 0):,} overdue, {listed.get("due_soon", 0):,} due this week). Each row in its own
process (time; peak resident memory of that process, the interpreter and imports included). Load
average (1/5/15 min) {load[0]:.1f} /
{load[1]:.1f} / {load[2]:.1f} before, {after[0]:.1f} / {after[1]:.1f} / {after[2]:.1f} after: the
machine's 2 cores are shared, so times are upper bounds.

"""
        + table(
            ["step", "time (s)", "peak memory (MiB)"],
            [
                [
                    "`due` for one grid (`gridmap.visits.service.due`, as the API calls it)",
                    f"{listed['seconds']:.2f} (process {due_s:.1f})",
                    f"{due_peak:,.0f}",
                ],
                [
                    f"`gridmap visits due --grid {grid}` end to end (CPU {cli_cpu:.1f} s)",
                    f"{cli_wall:.1f}",
                    f"{cli_peak:,.0f}",
                ],
                ["full analysis: read every layer and the visit coverage input", f"{a['read']:.1f}", ""],
                ["full analysis: `analyze`", f"{a['analyze']:.1f}", ""],
                ["one visit logged (`log_visit`)", f"{a['log']:.2f}", ""],
                ["its household's status read again (`refreshed_status`)", f"{a['status']:.2f}", ""],
                [
                    f"incremental `update` ({a['streets']} of {a['street_total']} streets redone)",
                    f"{a['update']:.1f}",
                    "",
                ],
                ["the analysis process in all", f"{full_s:.1f}", f"{full_peak:,.0f}"],
            ],
        )
        + f"""

Visit coverage over the city: {a["in_time"]:.1%} of households visited within their frequency,
{a["overdue"]:,} overdue. After the logged visit, grid {a["grid"]} counts {a["grid_after"]:,} households
visited in time (was {a["grid_before"]:,}) and the city {a["overdue_after"]:,} overdue."""
    )
    print(body)
    write_section("visits", body)


if __name__ == "__main__":
    main()
