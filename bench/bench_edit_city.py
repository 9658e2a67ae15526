"""Edits shown in /coverage at city scale under four client threads: a speaker, a household, a grid.

    .venv/bin/python -m bench.bench_edit_city --city PATH [--code DIR] [--label NAME] [--rounds 2]

Workload: a copy of the city GeoPackage at PATH (`bench/work/city200.gpkg`:
5,023,863 households), served by `gridmap serve --workers 2` with an empty
folder of published analyses (the code at DIR, default this checkout). Once
the first analysis is published, 4 client threads keep requesting pages,
lookups, /health and /coverage, and each round writes through the API (PUT)
one edit of each kind: a working speaker moved 150 m east, a household made
(or unmade) a center household, a grid's party branch renamed. Per edit: the
PUT's seconds, the seconds from its reply until /coverage carries the
store's revision of the write, the builder's CPU seconds meanwhile, and the
p99 and slowest of the client threads' requests from the PUT until then.
The first edit waits until the builder is idle after its first publish
(`idle_after_s`: its repair-ticket sync of the city's broken speakers), then
`IDLE_S` more with no request, measuring what the idle builder spends watching
the store (`idle_builder_cpu_s_per_s`).
Prints JSON; `--label` names the run in it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.bench_serving import ADMIN, builder_cpu, p50_p99, put_until_shown, read_load, requests, server
from bench.common import WORK
from gridmap.stores import Store, open_store

PORT = 8180
QUIET_S = 3.0
IDLE_SHARE = 0.4
"""A builder polling its store for changes spends about a sixth of a core at 5M; one analysing or
writing tickets, most of one."""
IDLE_S = 10.0
"""How long the idle builder's CPU is measured (no request, no edit) before the first edit."""


def _speaker(client: httpx.Client, store: Store, n: int) -> tuple[str, dict[str, Any]]:
    working = store.query("speakers", equals={"status": "working"}, limit=500).frame
    code = str(working["code"].iloc[(97 * n + 5) % len(working)])
    feature = client.get(f"/collections/speakers/items/{code}").json()
    x, y = feature["geometry"]["coordinates"][:2]
    feature["geometry"] = {"type": "Point", "coordinates": [x + 0.0015, y]}
    return f"/collections/speakers/items/{code}", feature


def _household(client: httpx.Client, store: Store, n: int) -> tuple[str, dict[str, Any]]:
    codes = store.query("households", limit=10, offset=(1_000_003 * n + 7) % 100_000).frame["code"]
    code = str(codes.iloc[0])
    feature = client.get(f"/collections/households/items/{code}").json()
    feature["properties"]["center_household"] = not feature["properties"].get("center_household")
    return f"/collections/households/items/{code}", feature


def _grid(client: httpx.Client, store: Store, n: int) -> tuple[str, dict[str, Any]]:
    codes = store.query("grids", limit=10, offset=(2_003 * n + 5) % 10_000).frame["code"]
    code = str(codes.iloc[0])
    feature = client.get(f"/collections/grids/items/{code}").json()
    feature["properties"]["party_branch"] = f"第{n}网格党支部"
    return f"/collections/grids/items/{code}", feature


EDITS: dict[str, Callable[[httpx.Client, Store, int], tuple[str, dict[str, Any]]]] = {
    "speaker moved 150 m": _speaker,
    "household made a center household": _household,
    "grid's party branch renamed": _grid,
}


def edit_under_load(
    base: str, store: Store, proc: psutil.Process, makers: dict[str, Callable[[], str]], name: str, n: int
) -> dict[str, float]:
    """One edit of kind `name` through the API while 4 client threads load the server."""
    stop = threading.Event()
    latencies: list[float] = []
    failures: list[str] = []
    kinds = [*makers.values(), lambda: "/coverage?level=streets"]
    threads = [
        threading.Thread(
            target=read_load,
            args=(base, kinds, 100 * n + i, stop, latencies, lambda p, w: failures.append(p)),
        )
        for i in range(4)
    ]
    for t in threads:
        t.start()
    try:
        time.sleep(3)
        with httpx.Client(base_url=base, timeout=120, headers=ADMIN) as client:
            path, feature = EDITS[name](client, store, n)
            body = {k: feature[k] for k in ("type", "properties", "geometry")}
            begun, cpu = len(latencies), builder_cpu(proc)
            start, written, shown = put_until_shown(client, store, path, body, 600)
            cpu = builder_cpu(proc) - cpu
            during = latencies[begun:]
    finally:
        stop.set()
        for t in threads:
            t.join()
    return {
        "put_s": written - start,
        "visible_s": shown - written,
        "builder_cpu_s": cpu,
        "p99_ms": p50_p99(during)[1] if during else float("nan"),
        "max_ms": max(during, default=float("nan")),
        "requests": len(during),
        "failures": len(failures),
    }


def wait_idle(base: str, store: Store, proc: psutil.Process, limit_s: float = 1800) -> float:
    """Seconds until the builder is idle after its first publish: /coverage at the store's revision,
    no case written and under `IDLE_SHARE` of a core spent over `QUIET_S` (its repair-ticket sync done:
    a sync writing one ticket at a time waits on the file more than it computes), so that the first
    edit measures an edit, not the work start-up left."""
    start = time.monotonic()
    with httpx.Client(base_url=base, timeout=120, headers=ADMIN) as client:
        while time.monotonic() - start < limit_s:
            spent, cases = builder_cpu(proc), store.case_book().count()
            time.sleep(QUIET_S)
            shown = client.get("/coverage", params={"level": "streets"}).headers.get("X-Gridmap-Revision")
            busy = builder_cpu(proc) - spent >= IDLE_SHARE * QUIET_S or store.case_book().count() != cases
            if not busy and shown == store.revision():
                return time.monotonic() - start - QUIET_S
    raise RuntimeError(f"the builder was still busy {limit_s:.0f} s after its first publish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True)
    parser.add_argument(
        "--code", type=Path, help="a checkout whose gridmap and api serve (default: this one)"
    )
    parser.add_argument("--label", default="after")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    copy = WORK / f"edit-city-{args.label}.gpkg"
    WORK.mkdir(exist_ok=True)
    shutil.copyfile(args.city, copy)
    load = os.getloadavg()
    out: dict[str, Any] = {"label": args.label, "load_start": load, "edits": {name: [] for name in EDITS}}
    try:
        with (
            open_store(str(copy)) as store,
            server(str(copy), PORT, f"edit-city-{args.label}", args.code) as (
                base,
                proc,
                startup,
            ),
        ):
            out["startup_s"], out["households"] = startup, store.counts()["households"]
            out["idle_after_s"] = wait_idle(base, store, proc)
            spent = builder_cpu(proc)
            time.sleep(IDLE_S)
            out["idle_builder_cpu_s_per_s"] = (builder_cpu(proc) - spent) / IDLE_S
            shown = {k: out[k] for k in ("idle_after_s", "idle_builder_cpu_s_per_s")}
            print(json.dumps({"startup_s": startup, **shown}), flush=True)
            makers = requests(store, random.Random(11))
            for n in range(args.rounds):
                for name in EDITS:
                    found = edit_under_load(base, store, proc, makers, name, n)
                    out["edits"][name].append(found)
                    print(json.dumps({name: found}), flush=True)
    finally:
        copy.unlink(missing_ok=True)
        shutil.rmtree(WORK / f"serving-edit-city-{args.label}", ignore_errors=True)
    out["load_end"] = os.getloadavg()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
