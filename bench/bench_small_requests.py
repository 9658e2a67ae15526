"""Small OGC API requests side by side with tipg on the same PostGIS table (issue 27).

    .venv/bin/python -m bench.bench_small_requests [--scale 1] [--requests 200] \
        [--tipg-python /tmp/tipgvenv/bin/python] [--before DIR]

tipg is not a dependency of gridmap: install it into a virtual environment of
its own and name that environment's python with `--tipg-python` (or
`GRIDMAP_TIPG_PYTHON`):

    python3 -m venv /tmp/tipgvenv && /tmp/tipgvenv/bin/pip install tipg uvicorn

Workload: the committed sample district (`--scale 1`, `load_sample`) or
`gridmap.sample.generate(scale)`, loaded into a PostGIS database of its own
(`gridmap_bench_small_<scale>`, kept and reused while its household count
matches). `gridmap serve --workers 1` (its builder process beside it) and
tipg (`uvicorn tipg.main:app`, its default settings, over the same
database) run on loopback ports; tipg runs at the niceness gridmap's worker
gives itself (`api.main.WORKER_NICENESS`), so both get the same share of a
busy machine. Then, request by request and alternating which server goes
first, `--requests` of each kind, each kind the same requests for both:
- bbox page: `limit=10` and a 400 m box around a random household;
- item by id: a random household's code;
- first page: `limit=10`;
- deep page: `limit=10` at 80 % of the layer (400,000 at 500,000 households);
  gridmap follows a next link (`after=<code>`), tipg takes `offset`; gridmap's
  own `offset` is timed too (the old next links).
With `--before DIR` (a checkout of gridmap before this work, e.g. `git
archive <commit> | tar -x -C DIR`) that version is served too, on the same
table, as the baseline of the same run; its next links carried `offset`.
gridmap reads as an admin (every field, as tipg serves them) and, for the bbox
page and the item, as a viewer (personal fields masked). Medians and 90th
percentiles of the whole request (client side, keep-alive connections);
ratio = gridmap / tipg. The machine's load average is noted before and after.
Writes bench/RESULTS.md section "small-requests".
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg

from api.main import WORKER_NICENESS
from bench.bench_api import _free_port, server
from bench.common import WORK, table, write_section
from gridmap.sample import generate, load_sample
from gridmap.stores import open_store

ADMIN = secrets.token_urlsafe(24)
VIEWER = secrets.token_urlsafe(24)
PG_ADMIN = os.environ.get("GRIDMAP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
BOX_DEGREES = 0.002  # half a side: about 200 m either way
DEEP_SHARE = 0.8


def database(scale: int) -> str:
    """The URL of a PostGIS database holding the workload (made on first use)."""
    name = f"gridmap_bench_small_{scale}"
    with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{PG_ADMIN}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    url = f"{PG_ADMIN.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    with open_store(url) as store:
        if store.counts()["households"] == 0:
            if scale == 1:
                load_sample(store)
            else:
                store.replace_many(generate(scale))
    return url


@contextmanager
def tipg(url: str, python: str, nice: int) -> Iterator[str]:
    """tipg over the database at `url` on a free loopback port; stopped on exit."""
    port = _free_port()
    log = WORK / f"bench_small_tipg_{port}.log"
    env = {**os.environ, "DATABASE_URL": url.replace("+psycopg", ""), "TIPG_NAME": "tipg"}
    env.pop("PYTHONPATH", None)
    command = ["nice", "-n", str(nice), python, "-m", "uvicorn", "tipg.main:app", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=out, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/collections/public.households", timeout=10).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"tipg did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _timed(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    reply = client.get(path, headers=headers)
    elapsed = time.perf_counter() - start
    if reply.status_code != 200:
        raise RuntimeError(f"{path}: {reply.status_code} {reply.text[:300]}")
    return elapsed


def _code_at(url: str, position: int) -> str:
    """The household code at `position` in code order (the store's own order)."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT code FROM households ORDER BY code OFFSET %s LIMIT 1", (position,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def run(scale: int, requests: int, tipg_python: str, before: Path | None) -> str:
    url = database(scale)
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        n = int(conn.execute("SELECT count(*) FROM households").fetchone()[0])  # type: ignore[index]
        rows = conn.execute(
            "SELECT code, ST_X(geometry), ST_Y(geometry) FROM households ORDER BY random() LIMIT %s",
            (requests,),
        ).fetchall()
    deep = int(n * DEEP_SHARE)
    cursor = _code_at(url, deep - 1)  # the last code of the page before: the next link's `after`
    boxes = [
        ",".join(f"{v:.6f}" for v in (x - BOX_DEGREES, y - BOX_DEGREES, x + BOX_DEGREES, y + BOX_DEGREES))
        for _, x, y in rows
    ]
    mine = "/collections/households/items"
    theirs = "/collections/public.households/items"
    # Each kind: this branch's paths, the baseline checkout's (its next links carried offset), tipg's.
    kinds: dict[str, tuple[list[str], list[str], list[str]]] = {
        "bbox page (limit 10)": (
            [f"{mine}?limit=10&bbox={b}" for b in boxes],
            [f"{mine}?limit=10&bbox={b}" for b in boxes],
            [f"{theirs}?limit=10&bbox={b}" for b in boxes],
        ),
        "item by id": (
            [f"{mine}/{c}" for c, _, _ in rows],
            [f"{mine}/{c}" for c, _, _ in rows],
            [f"{theirs}/{c}" for c, _, _ in rows],
        ),
        "first page (limit 10)": (
            [f"{mine}?limit=10"] * requests,
            [f"{mine}?limit=10"] * requests,
            [f"{theirs}?limit=10"] * requests,
        ),
        f"deep page at {deep:,} by its next link (gridmap after=; before and tipg offset)": (
            [f"{mine}?limit=10&after={cursor}"] * requests,
            [f"{mine}?limit=10&offset={deep}"] * requests,
            [f"{theirs}?limit=10&offset={deep}"] * requests,
        ),
        f"deep page at {deep:,} by offset (a link kept from before)": (
            [f"{mine}?limit=10&offset={deep}"] * requests,
            [f"{mine}?limit=10&offset={deep}"] * requests,
            [f"{theirs}?limit=10&offset={deep}"] * requests,
        ),
    }
    viewer_kinds = {"bbox page (limit 10)", "item by id"}
    tokens = {ADMIN: {"role": "admin", "name": "bench"}, VIEWER: {"role": "viewer", "name": "bench-viewer"}}
    env = {"GRIDMAP_TOKENS": json.dumps(tokens)}
    load_before = os.getloadavg()
    results: list[list[object]] = []
    with ExitStack() as stack:
        bases = [stack.enter_context(server(url, env=env, workers=1, start_seconds=900))]  # type: ignore[arg-type]
        if before is not None:
            old = {**env, "PYTHONPATH": str(before)}
            bases.append(stack.enter_context(server(url, env=old, workers=1, start_seconds=900)))  # type: ignore[arg-type]
        bases.append(stack.enter_context(tipg(url, tipg_python, WORKER_NICENESS)))
        clients = [stack.enter_context(httpx.Client(base_url=b, timeout=120)) for b in bases]
        for kind, paths in kinds.items():
            chosen = list(paths) if before is not None else [paths[0], paths[2]]
            roles = [("admin", ADMIN)] + ([("viewer", VIEWER)] if kind in viewer_kinds else [])
            for role, token in roles:
                headers = [{"Authorization": f"Bearer {token}"}] * (len(clients) - 1) + [{}]
                times: list[list[float]] = [[] for _ in clients]
                for i in range(-5, requests):  # five to warm up, then the timed ones
                    for k in _rotated(len(clients), i):  # who goes first changes request by request
                        took = _timed(clients[k], chosen[k][max(i, 0)], headers[k])
                        if i >= 0:
                            times[k].append(took)
                results.append([f"{kind}, gridmap as {role}", *_figures(times)])
                print(results[-1], flush=True)
    load_after = os.getloadavg()
    baseline = f"gridmap before this work (`{before}`), " if before is not None else ""
    header = (
        f"`python -m bench.bench_small_requests --scale {scale} --requests {requests}`: {n:,} households "
        f"in PostGIS; gridmap (`gridmap serve --workers 1`), {baseline}and tipg "
        f"({_tipg_version(tipg_python)}, niceness {WORKER_NICENESS} like gridmap's worker) on the same "
        f"table, {requests} requests of each kind, taking turns request by request. Milliseconds per "
        f"whole request (median / p90). Load average (1/5/15 min) before: {_load(load_before)}, after: "
        f"{_load(load_after)} (2 shared cores)."
    )
    names = ["gridmap", "before", "tipg"] if before is not None else ["gridmap", "tipg"]
    columns = ["request", *(f"{name} median / p90" for name in names), "gridmap / tipg"]
    if before is not None:
        columns.append("before / tipg")
    return f"{header}\n\n{table(columns, results)}"


def _rotated(n: int, i: int) -> list[int]:
    return [(i + k) % n for k in range(n)]


def _figures(times: list[list[float]]) -> list[object]:
    """Median / 90th percentile of each server in ms, then each gridmap's median over tipg's."""
    medians = [statistics.median(t) for t in times]
    spreads = [
        f"{m * 1000:.1f} / {statistics.quantiles(t, n=10)[8] * 1000:.1f}"
        for m, t in zip(medians, times, strict=True)
    ]
    return [*spreads, *(f"{m / medians[-1]:.2f}" for m in medians[:-1])]


def _load(avg: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.1f}" for v in avg)


def _tipg_version(python: str) -> str:
    command = [python, "-c", "import tipg; print(tipg.__version__)"]
    found = subprocess.run(command, capture_output=True, text=True, check=False)
    return f"tipg {found.stdout.strip()}" if found.returncode == 0 else "tipg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="1: the sample district; N: generate(N)")
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind to each server")
    parser.add_argument(
        "--tipg-python",
        default=os.environ.get("GRIDMAP_TIPG_PYTHON", "/tmp/tipgvenv/bin/python"),
        help="python of a virtual environment holding tipg and uvicorn (see above)",
    )
    parser.add_argument(
        "--before", type=Path, help="a checkout of gridmap before this work, served beside it as a baseline"
    )
    parser.add_argument("--section", default="small-requests", help="the RESULTS.md section to write")
    args = parser.parse_args()
    if not Path(args.tipg_python).exists():
        make = "python3 -m venv /tmp/tipgvenv && /tmp/tipgvenv/bin/pip install tipg uvicorn"
        sys.exit(f"no python at {args.tipg_python}; make one: {make}")
    WORK.mkdir(parents=True, exist_ok=True)
    body = run(args.scale, args.requests, args.tipg_python, args.before)
    write_section(args.section, f"### Issue 27: small requests and keyset pages, gridmap vs tipg\n\n{body}")
    print(body)


if __name__ == "__main__":
    main()
