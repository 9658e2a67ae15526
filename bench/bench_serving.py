"""City-scale serving: pages, lookups and /health at 5M households, and a speaker moved under load.

    .venv/bin/python -m bench.bench_serving [--households 5000000] [--scale 100] [--port 8140]

Workloads, both in PostGIS databases built on first use and reused while
their counts match: the sample district (`gridmap demo`'s 24,451 households)
and the city (`gridmap.sample.generate(scale)` topped up to `--households`,
with 8 speakers and 2 service points per 1,000 households, as bench.workload
does). Each is served by `gridmap serve --workers 2` on 127.0.0.1 with an
empty folder of published analyses, so start-up includes the first build.

Per store, after start-up (timed until /health answers):
- the first point lookup on each of a few new connections (each worker's first);
- 300 sequential requests each of: `items?limit=10`, a bbox page (limit 10,
  random ~200 m boxes), one item by code (random codes), `/health`; p50/p99;
- a speaker moved through the API (PUT) while 4 client threads keep asking for
  pages, lookups, /health and /coverage: the time until /coverage carries the
  revision of the write, the slowest request meanwhile, failed requests, and
  whether every worker process survived.
Today's costs of the same requests (the paths the API took before this
change) are timed in-process in the same run: a whole-layer read and pandas
page, `counts()`, building the lookup indexes, the whole analysis.
Writes bench/RESULTS.md section "serving".

    .venv/bin/python -m bench.bench_serving --compare DIR [--database NAME] [--moves 5]

compares the edit's way to /coverage between the code at DIR (a checkout of
the baseline) and this checkout in one run, on the sample district and the
PostGIS database NAME (loaded beforehand, e.g. with `gridmap sample --scale 40`
and `load_sample`): per code, one server, `--moves` speakers moved one after
the other under the same 4-thread load; for each, the time until /coverage
shows it and the CPU seconds the builder processes spent meanwhile. Writes
section "serving-edits".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

from bench.common import WORK, analysed, table, write_section
from bench.workload import city
from gridmap.analysis import analyze
from gridmap.catalogue import LAYER_NAMES
from gridmap.lookup import Snapshot
from gridmap.sample import load_sample
from gridmap.stores import Store, open_store

ADMIN_TOKEN = secrets.token_urlsafe(24)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REQUESTS = 300
WORKERS = 2


def database(name: str) -> str:
    """The URL of database `name`, created (with PostGIS) if missing."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def sample_store() -> str:
    url = database("gridmap_bench_sample")
    with open_store(url) as store:
        if store.counts()["households"] != 24_451:
            load_sample(store)
    return url


def city_store(name: str, scale: int, households: int) -> str:
    url = database(name)
    with open_store(url) as store:
        if store.counts()["households"] != households:
            store.replace_many(city(scale, households, households * 8 // 1000, households * 2 // 1000))
    return url


@contextmanager
def server(
    url: str, port: int, label: str, code: Path | None = None
) -> Iterator[tuple[str, psutil.Process, float]]:
    """`gridmap serve --workers 2` with a fresh folder of published analyses; (base, process, start-up s).

    With `code`, the server runs the gridmap and api packages of that checkout.
    """
    folder = WORK / f"serving-{label}"
    shutil.rmtree(folder, ignore_errors=True)
    log = WORK / f"bench_serving_{label}.log"
    env = {
        **{k: v for k, v in os.environ.items() if k != "GRIDMAP_TOKENS_FILE"},
        "GRIDMAP_TOKENS": json.dumps({ADMIN_TOKEN: {"role": "admin"}}),
        "GRIDMAP_SERVING_DIR": str(folder),
        # Other work on the machine may knock on the port with tokens of its own: never lock us out.
        "GRIDMAP_TOKEN_FAILURES_PER_MINUTE": "1000000",
        **({"PYTHONPATH": str(code)} if code is not None else {}),
    }
    gridmap = Path(sys.executable).with_name("gridmap")
    command = [str(gridmap), "serve", "--store", url, "--port", str(port), "--workers", str(WORKERS)]
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=out, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            while True:  # serving and the first analysis published (a worker serves before it is)
                if analysed(base, timeout=2):
                    break
                if proc.poll() is not None or time.monotonic() - started > 1800:
                    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
            yield base, psutil.Process(proc.pid), time.monotonic() - started
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def timed(client: httpx.Client, path: str, **kwargs: object) -> float:
    """Milliseconds for one GET that must succeed."""
    start = time.perf_counter()
    reply = client.get(path, **kwargs)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - start) * 1000
    if reply.status_code != 200:
        raise RuntimeError(f"{path}: {reply.status_code} {reply.text[:300]}")
    return elapsed


def p50_p99(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def requests(store: Store, rng: random.Random) -> dict[str, Callable[[], str]]:
    """Request makers of each kind, from the store's own codes and extent."""
    codes = store.query("households", limit=2000, offset=rng.randrange(0, 10_000)).frame["code"].tolist()
    grids = store.read("grids")
    x0, y0, x1, y1 = grids.total_bounds
    spots = grids.geometry.representative_point().tolist()  # inside a grid: every lookup is a 200

    def bbox() -> str:
        x, y = rng.uniform(x0, x1 - 0.002), rng.uniform(y0, y1 - 0.002)
        return f"/collections/households/items?limit=10&bbox={x},{y},{x + 0.002},{y + 0.002}"

    return {
        "items?limit=10": lambda: "/collections/households/items?limit=10",
        "bbox page (limit 10)": bbox,
        "item by code": lambda: f"/collections/households/items/{rng.choice(codes)}",
        "/health": lambda: "/health",
        "point lookup": lambda: (lambda p: f"/lookup?lon={p.x}&lat={p.y}")(rng.choice(spots)),
    }


def first_lookups(base: str, point: str) -> list[float]:
    """The first lookups after start-up, each on a new connection (so both workers answer some)."""
    out = []
    for _ in range(6):
        with httpx.Client(base_url=base, timeout=60) as client:
            start = time.perf_counter()
            status = client.get(point).status_code
            out.append((time.perf_counter() - start) * 1000)
            assert status in (200, 404), status
    return out


def builder_cpu(proc: psutil.Process) -> float:
    """CPU seconds spent so far by the server's builder processes (`python -m gridmap.serving`)."""
    total = 0.0
    for child in proc.children(recursive=True):
        try:
            if "gridmap.serving" in child.cmdline():
                times = child.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def read_load(
    base: str,
    kinds: list[Callable[[], str]],
    seed: int,
    stop: threading.Event,
    latencies: list[float],
    failed: Callable[[str, str], None],
) -> None:
    """Admin GETs of random kinds until `stop`: each one's milliseconds, and a failure for a 5xx, a
    refusal or a dropped connection."""
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=30, headers=ADMIN) as client:
        while not stop.is_set():
            path = rng.choice(kinds)()
            start = time.perf_counter()
            try:
                status = client.get(path).status_code
                if status >= 500 or status in (401, 403, 429):
                    failed(path, str(status))
            except httpx.TransportError as exc:
                failed(path, type(exc).__name__)
            latencies.append((time.perf_counter() - start) * 1000)


def put_until_shown(
    client: httpx.Client, store: Store, path: str, feature: dict[str, Any], limit_s: float
) -> tuple[float, float, float]:
    """PUT `feature` at `path` and poll /coverage until it serves the store's new revision: the
    perf_counter at the start, when the PUT answered and when /coverage showed it."""
    start = time.perf_counter()
    put = client.put(path, json=feature)
    written = time.perf_counter()
    assert put.status_code == 200, put.text[:300]
    revision = store.revision()
    while True:
        reply = client.get("/coverage", params={"level": "streets"})
        if reply.headers.get("X-Gridmap-Revision") == revision:
            return start, written, time.perf_counter()
        if time.perf_counter() - written > limit_s:
            raise RuntimeError(f"the write to {path} never reached /coverage")
        time.sleep(0.05)


def move_speaker(
    base: str, store: Store, proc: psutil.Process, makers: dict[str, Callable[[], str]]
) -> dict[str, object]:
    """PUT a speaker 150 m east under load; how long until /coverage shows the write, and the load's worst."""
    workers = {p.pid for p in proc.children(recursive=True)}
    stop = threading.Event()
    latencies: list[float] = []
    failures: list[str] = []
    kinds = [*makers.values(), lambda: "/coverage?level=streets"]

    def failed(path: str, why: str) -> None:
        failures.append(f"{path}: {why}")

    threads = [
        threading.Thread(target=read_load, args=(base, kinds, i, stop, latencies, failed)) for i in range(4)
    ]
    for t in threads:
        t.start()
    time.sleep(3)
    before_load = len(latencies)
    speaker = store.query("speakers", equals={"status": "working"}, limit=1).frame
    code = str(speaker["code"].iloc[0])
    point = speaker.geometry.iloc[0]
    feature = {
        "type": "Feature",
        "properties": {"code": code, "name": speaker["name"].iloc[0], "status": "working", "radius_m": 300},
        "geometry": {"type": "Point", "coordinates": [point.x + 0.0015, point.y]},
    }
    with httpx.Client(base_url=base, timeout=60, headers=ADMIN) as client:
        cpu = builder_cpu(proc)
        start, written, visible = put_until_shown(
            client, store, f"/collections/speakers/items/{code}", feature, 120
        )
        cpu_visible = builder_cpu(proc) - cpu
    time.sleep(2)
    cpu_after = builder_cpu(proc) - cpu
    stop.set()
    for t in threads:
        t.join()
    during, quiet = latencies[before_load:], latencies[:before_load]
    alive = {p.pid for p in proc.children(recursive=True)}
    return {
        "put_s": written - start,
        "visible_s": visible - written,
        "builder_cpu_visible_s": cpu_visible,
        "builder_cpu_s": cpu_after,
        "max_ms": max(during),
        "p99_ms": p50_p99(during)[1],
        "max_before_ms": max(quiet),
        "p99_before_ms": p50_p99(quiet)[1],
        "requests": len(during),
        "failures": len(failures),
        "workers_lost": len(workers - alive),
    }


def todays_costs(store: Store) -> dict[str, float]:
    """Seconds the pre-change paths take, in-process: what each endpoint used to do per request."""
    out = {}
    start = time.perf_counter()
    frame = store.read("households")
    frame.iloc[0:10]
    out["items?limit=10 (whole-layer read, pandas page)"] = time.perf_counter() - start
    start = time.perf_counter()
    store.counts()
    out["/health (count every layer)"] = time.perf_counter() - start
    start = time.perf_counter()
    Snapshot.load(store, store.revision())
    out["first lookup (build the indexes on the request)"] = time.perf_counter() - start
    frames = {name: store.read(name) for name in LAYER_NAMES if name != "households"}
    frames["households"] = frame
    start = time.perf_counter()
    analyze(frames)
    out["/coverage after an edit (whole analysis, frames in memory)"] = time.perf_counter() - start
    return out


def measure(url: str, port: int, label: str) -> dict[str, object]:
    rng = random.Random(11)
    with open_store(url) as store, server(url, port, label) as (base, proc, startup):
        makers = requests(store, rng)
        first = first_lookups(base, makers["point lookup"]())
        pages: dict[str, tuple[float, float]] = {}
        with httpx.Client(base_url=base, timeout=60, headers=ADMIN) as client:
            for kind, make in makers.items():
                samples = [timed(client, make()) for _ in range(REQUESTS)]
                pages[kind] = p50_p99(samples)
        moved = move_speaker(base, store, proc, makers)
        rss = {p.pid: p.memory_info().rss / 2**20 for p in proc.children(recursive=True)}
        counts = store.counts()
    return {
        "startup_s": startup,
        "first_ms": first,
        "pages": pages,
        "moved": moved,
        "rss": rss,
        "counts": counts,
    }


def watch_edit(
    servers: dict[str, tuple[str, psutil.Process]],
    store: Store,
    makers: dict[str, Callable[[], str]],
    nth: int,
) -> dict[str, dict[str, float]]:
    """One speaker moved 150 m (PUT through the servers in turn) while 2 client threads load each server.

    Per server: how long until its /coverage shows the write, its builder processes' CPU seconds
    until then and 2 s later, the p99 of its reads meanwhile and its failed reads.
    """
    stop = threading.Event()
    latencies: dict[str, list[float]] = {name: [] for name in servers}
    failed = dict.fromkeys(servers, 0)
    kinds = [*makers.values(), lambda: "/coverage?level=streets"]

    def counter(name: str) -> Callable[[str, str], None]:
        def count(_path: str, _why: str) -> None:
            failed[name] += 1

        return count

    threads = [
        threading.Thread(
            target=read_load, args=(base, kinds, nth * 10 + i, stop, latencies[name], counter(name))
        )
        for name, (base, _) in servers.items()
        for i in range(2)
    ]
    for t in threads:
        t.start()
    try:
        return _watched(servers, store, nth, stop, latencies, failed)
    finally:  # the load stops whatever happens, or its threads outlive the benchmark
        stop.set()
        for t in threads:
            t.join()


def _watched(
    servers: dict[str, tuple[str, psutil.Process]],
    store: Store,
    nth: int,
    stop: threading.Event,
    latencies: dict[str, list[float]],
    failed: dict[str, int],
) -> dict[str, dict[str, float]]:
    """`watch_edit` once its load runs: the edit, and each server's figures."""
    time.sleep(3)
    begun = {name: len(v) for name, v in latencies.items()}
    working = store.query("speakers", equals={"status": "working"}, limit=2000).frame
    speaker = working.iloc[[nth * 97 % len(working)]]
    code, point = str(speaker["code"].iloc[0]), speaker.geometry.iloc[0]
    feature = {
        "type": "Feature",
        "properties": {"code": code, "name": speaker["name"].iloc[0], "status": "working", "radius_m": 300},
        "geometry": {"type": "Point", "coordinates": [point.x + 0.0015, point.y]},
    }
    writer = list(servers)[nth % len(servers)]
    clients = {
        name: httpx.Client(base_url=base, timeout=60, headers=ADMIN) for name, (base, _) in servers.items()
    }
    cpu = {name: builder_cpu(proc) for name, (_, proc) in servers.items()}
    out: dict[str, dict[str, float]] = {name: {} for name in servers}
    try:
        start = time.perf_counter()
        put = clients[writer].put(f"/collections/speakers/items/{code}", json=feature)
        written = time.perf_counter()
        assert put.status_code == 200, put.text[:300]
        revision = store.revision()
        while pending := [name for name in servers if "visible_s" not in out[name]]:
            for name in pending:
                reply = clients[name].get("/coverage", params={"level": "streets"})
                if reply.headers.get("X-Gridmap-Revision") == revision:
                    out[name]["visible_s"] = time.perf_counter() - written
                    out[name]["builder_cpu_visible_s"] = builder_cpu(servers[name][1]) - cpu[name]
            if time.perf_counter() - written > 300:
                raise RuntimeError(f"the write never reached /coverage of {pending}")
            time.sleep(0.05)
        time.sleep(2)
    finally:
        stop.set()
        for client in clients.values():
            client.close()
    for name, (_, proc) in servers.items():
        out[name] |= {
            "put_s": written - start,
            "through": float(name == writer),
            "builder_cpu_s": builder_cpu(proc) - cpu[name],
            "p99_ms": p50_p99(latencies[name][begun[name] :])[1],
            "failures": failed[name],
        }
    return out


def compare_edits(stores: dict[str, str], codes: dict[str, Path], port: int, moves: int) -> dict[str, object]:
    """Per store: a server of each code over it at once, then `moves` edits each watched by both."""
    out: dict[str, object] = {}
    for label, url in stores.items():
        with open_store(url) as store, contextlib.ExitStack() as stack:
            counts = store.counts()
            servers, startup = {}, {}
            for i, (name, code) in enumerate(codes.items()):
                base, proc, startup[name] = stack.enter_context(
                    server(url, port + i, f"{label}-{name}", code)
                )
                servers[name] = (base, proc)
            makers = requests(store, random.Random(11))
            runs = [watch_edit(servers, store, makers, nth) for nth in range(moves)]
        for name in codes:
            out[f"{label}/{name}"] = {
                "startup_s": startup[name],
                "moves": [run[name] for run in runs],
                "households": counts["households"],
            }
            print(json.dumps({f"{label}/{name}": out[f"{label}/{name}"]}, default=str), flush=True)
    return out


def edits_report(
    results: dict[str, object], args: argparse.Namespace, load: tuple[float, float, float]
) -> str:
    rows = []
    for key, result in results.items():
        moves = result["moves"]  # type: ignore[index]
        visible = [m["visible_s"] for m in moves]
        cpu = [m["builder_cpu_visible_s"] for m in moves]
        rows.append(
            [
                key,
                f"{result['households']:,}",  # type: ignore[index]
                f"{result['startup_s']:.1f}",  # type: ignore[index]
                " / ".join(f"{m['put_s']:.2f}" for m in moves),
                " / ".join(f"{v:.2f}" for v in visible),
                f"{statistics.median(visible):.2f}",
                " / ".join(f"{c:.2f}" for c in cpu),
                " / ".join(f"{m['builder_cpu_s']:.2f}" for m in moves),
                f"{max(m['p99_ms'] for m in moves):.0f}",
                sum(m["failures"] for m in moves),
            ]
        )
    end = os.getloadavg()
    return "\n".join(
        [
            f"`python -m bench.bench_serving --compare {args.compare} --database {args.database} --moves "
            f"{args.moves}`: PostGIS, `gridmap serve --workers {WORKERS}`; per store a server of each code"
            f" over the same database at once, then {args.moves} speakers moved 150 m one after another"
            " (PUT through the servers in turn), each edit watched by both servers' /coverage while 2 client"
            " threads per server request pages, lookups, /health and /coverage: paired figures under one"
            " load. `base` is the code before documents were kept per street (every edition rendered every"
            " document), `parts` this checkout. Builder CPU: the builder"
            " processes' user + system seconds from the PUT until /coverage showed it, and until 2 s later"
            f" (repair tickets synchronised included). 1-minute load average {load[0]:.1f} / {load[1]:.1f} /"
            f" {load[2]:.1f} at the start, {end[0]:.1f} at the end (2 cores; the client threads and the"
            " server share them).",
            "",
            table(
                [
                    "store / code",
                    "households",
                    "start-up (s)",
                    "PUT (s)",
                    "until /coverage shows it (s)",
                    "median (s)",
                    "builder CPU until shown (s)",
                    "builder CPU incl. 2 s after (s)",
                    "worst p99 of reads meanwhile (ms)",
                    "failed",
                ],
                rows,
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=5_000_000)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--database", default="gridmap_bench_city5m")
    parser.add_argument("--port", type=int, default=8140)
    parser.add_argument("--skip-today", action="store_true", help="do not time the pre-change paths")
    parser.add_argument("--compare", type=Path, help="a checkout of the baseline: time edits with both codes")
    parser.add_argument("--moves", type=int, default=5)
    args = parser.parse_args()
    args.load = os.getloadavg()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.compare is not None:
        stores = {"sample": sample_store(), "city": database(args.database)}
        codes = {"base": args.compare.resolve(), "parts": Path(__file__).resolve().parents[1]}
        results = compare_edits(stores, codes, args.port, args.moves)
        write_section("serving-edits", edits_report(results, args, args.load))
        return
    stores = {"sample": sample_store(), "city": city_store(args.database, args.scale, args.households)}
    results = {label: measure(url, args.port + i, label) for i, (label, url) in enumerate(stores.items())}
    print(json.dumps(results, indent=1, default=str), flush=True)
    write_section("serving", report(results, {}, args))
    if not args.skip_today:
        with open_store(stores["city"]) as store:
            today = todays_costs(store)
        print(json.dumps(today, indent=1), flush=True)
        write_section("serving", report(results, today, args))


def report(results: dict[str, dict[str, object]], today: dict[str, float], args: argparse.Namespace) -> str:
    sample, city_ = results["sample"], results["city"]
    rows = []
    for kind in sample["pages"]:  # type: ignore[attr-defined]
        s50, s99 = sample["pages"][kind]  # type: ignore[index]
        c50, c99 = city_["pages"][kind]  # type: ignore[index]
        rows.append([kind, f"{s50:.1f}", f"{s99:.1f}", f"{c50:.1f}", f"{c99:.1f}", f"{c99 / s99:.2f}"])
    moved = [
        [
            label,
            f"{r['moved']['put_s']:.2f}",  # type: ignore[index]
            f"{r['moved']['visible_s']:.2f}",  # type: ignore[index]
            f"{r['moved']['max_ms']:.0f}",  # type: ignore[index]
            f"{r['moved']['p99_ms']:.0f}",  # type: ignore[index]
            f"{r['moved']['max_before_ms']:.0f} / {r['moved']['p99_before_ms']:.0f}",  # type: ignore[index]
            r["moved"]["requests"],  # type: ignore[index]
            r["moved"]["failures"],  # type: ignore[index]
            r["moved"]["workers_lost"],  # type: ignore[index]
        ]
        for label, r in results.items()
    ]
    counts = city_["counts"]
    lines = [
        f"Workload: `python -m bench.bench_serving --households {args.households} --scale {args.scale}`;"
        f" PostGIS; city {counts['grids']:,} grids, {counts['households']:,} households,"  # type: ignore[index]
        f" {counts['speakers']:,} speakers; sample district 24,451 households."  # type: ignore[index]
        f" `gridmap serve --workers {WORKERS}`; {REQUESTS} sequential requests per kind (ms)."
        f" 1-minute load average {args.load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
        " (2 cores; the client threads run on the same machine).",
        "",
        table(["request", "sample p50", "sample p99", "city p50", "city p99", "city/sample p99"], rows),
        "",
        f"- start-up to the first /health (first analysis included): sample {sample['startup_s']:.1f} s,"
        f" city {city_['startup_s']:.1f} s",
        "- first lookups after start-up, each on a new connection (ms): "
        + "; ".join(
            f"{label} {', '.join(f'{v:.1f}' for v in r['first_ms'])}" for label, r in results.items()
        ),  # type: ignore[attr-defined]
        "- resident memory after the run (MiB), server's processes: "
        + "; ".join(
            f"{label} {', '.join(f'{v:.0f}' for v in r['rss'].values())}" for label, r in results.items()
        ),  # type: ignore[attr-defined]
        "",
        "A speaker moved 150 m through the API (PUT) while 4 client threads kept requesting pages,"
        " lookups, /health and /coverage:",
        "",
        table(
            [
                "store",
                "PUT (s)",
                "until /coverage shows it (s)",
                "slowest request meanwhile (ms)",
                "p99 meanwhile (ms)",
                "slowest / p99 in the 3 s before the PUT (ms)",
                "requests",
                "failed",
                "workers lost",
            ],
            moved,
        ),
    ]
    if today:
        lines += [
            "",
            "Today's paths at the city, timed in-process in the same run (what each request used to cost):",
            "",
            table(["request, as it was served", "seconds"], [[k, f"{v:.2f}"] for k, v in today.items()]),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
