"""The builder's repair-ticket sync on a city: every broken speaker's ticket opened, then one edit's.

    .venv/bin/python -m bench.bench_repair_sync --city PATH [--base N]

On a copy of the city GeoPackage at PATH (`bench/work/city200.gpkg`: 5,023,863
households, 954 broken speakers) with an empty case book: the seconds of the
first `sync_repairs` (a ticket for every broken speaker), of a sync with
nothing to do, of one working speaker broken (one ticket) and of it repaired
(one closed), as the builder calls it: placed from the layers it holds
(`placing_s`: that placing made from the grids, communities, streets and
buildings read, with their indexes), where it used to build a lookup snapshot
(`lookup_s`, the cost it no longer pays). With `--base N`, the first N broken
speakers' tickets are opened one at a time as before (a report, an acceptance
and a dispatch per speaker) on an empty book first, for the time per ticket.
Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd

from bench.common import WORK
from gridmap.analysis import read_input
from gridmap.assignment import BuildingLocator, GridLocator
from gridmap.cases.desk import CaseDesk
from gridmap.cases.repairs import sync_repairs
from gridmap.cases.routing import HeldPlaces
from gridmap.coverage import working
from gridmap.lookup import LookupService
from gridmap.sample.repairs import tickets_one_at_a_time
from gridmap.stores import open_store
from gridmap.stores.cases import CASE_COLUMNS, EVENT_COLUMNS


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    found = fn()
    return time.perf_counter() - start, found


def one_at_a_time(desk: CaseDesk, speakers: Any, households: Any, n: int) -> float:
    """Seconds per ticket opened as before: each speaker's report, acceptance and dispatch on their own."""
    start = time.perf_counter()
    opened = tickets_one_at_a_time(desk, speakers, households, limit=n)
    return (time.perf_counter() - start) / max(opened, 1)


def held_places(store: Any) -> HeldPlaces:
    """The builder's placing, from the layers as read (the store derived the buildings' grids)."""
    layers = {name: read_input(store, name) for name in ("grids", "communities", "streets", "buildings")}
    return HeldPlaces.of(layers, GridLocator(layers["grids"]), BuildingLocator(layers["buildings"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True)
    parser.add_argument("--base", type=int, default=0)
    args = parser.parse_args()
    copy = WORK / "repair-sync.gpkg"
    WORK.mkdir(exist_ok=True)
    shutil.copyfile(args.city, copy)
    out: dict[str, Any] = {"load_start": os.getloadavg()}
    try:
        with open_store(str(copy)) as store:
            empty = pd.DataFrame(columns=list(CASE_COLUMNS)), pd.DataFrame(columns=list(EVENT_COLUMNS))
            store.case_book().replace(*empty)
            speakers = read_input(store, "speakers")
            households = read_input(store, "households")
            desk = CaseDesk(store, LookupService(store))
            out["lookup_s"], _ = timed(desk.lookup.snapshot)
            out["placing_s"], placing = timed(lambda: held_places(store))
            out["households"], out["broken"] = len(households), int((~working(speakers)).sum())
            if args.base:
                out["before_s_per_ticket"] = one_at_a_time(desk, speakers, households, args.base)
                store.case_book().replace(*empty)
            out["first_sync_s"], first = timed(lambda: sync_repairs(desk, speakers, households, placing))
            out["opened"] = len(first.opened)
            out["idle_sync_s"], _ = timed(lambda: sync_repairs(desk, speakers, households, placing))
            one = speakers.copy()
            at = int(working(one).nonzero()[0][0])
            one.loc[one.index[at], "status"] = "broken"
            out["one_broken_s"], found = timed(lambda: sync_repairs(desk, one, households, placing))
            out["one_opened"] = len(found.opened)
            out["one_repaired_s"], found = timed(lambda: sync_repairs(desk, speakers, households, placing))
            out["one_closed"] = len(found.closed)
    finally:
        copy.unlink(missing_ok=True)
    out["load_end"] = os.getloadavg()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
