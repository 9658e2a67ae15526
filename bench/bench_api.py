"""HTTP API benchmark: lookups per second and latency under load, and one 10,000-address batch.

    .venv/bin/python -m bench.bench_api [--scale 20] [--households 1000000] [--duration 30]

Workload: `gridmap.sample.generate(scale)` (1,220 grids at scale 20) with its
households topped up to `--households` as in bench.workload, in a GeoPackage
store under bench/work (built once, reused while its counts match).
`gridmap serve --workers 2` runs on a free 127.0.0.1 port; wrk (Debian's
package, installed here when missing) drives it at `--connections` (32) for
`--duration` seconds per endpoint (in 3 interleaved slices, medians reported),
after a warm-up that builds every worker's indexes. Each run cycles through
5,000 different requests:
- constant: `GET /conformance`, a fixed JSON document (the baseline);
- point: `GET /lookup?lon&lat` at building points and random points of the
  district's extent (some outside every grid: 404), WGS84;
- address: `GET /lookup?address` from the building register: 40 % as
  registered, 50 % rewritten (no city prefix, with unit and room, 幢 for 栋,
  full-width digits), 10 % with one character of a name changed (fuzzy, or
  404 with suggestions when ambiguous); and the same without those 404s.
Then `POST /lookup/batch` with 10,000 such addresses, median of 3.
Writes bench/RESULTS.md section "api".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import numpy as np
import shapely
from shapely.geometry import mapping, shape

from bench.common import WORK, analysed, median_seconds, table, write_section
from bench.workload import densify
from gridmap.sample import generate
from gridmap.stores import open_store

TARGET_P99_MS = 10.0
TARGET_RATIO = 0.5
TARGET_BATCH_S = 2.0
WORKERS = 2
QUERIES = 5_000
ROUNDS = 3
BATCH = 10_000

# Made fresh per run, for the one timed write; the server lives only as long as the benchmark.
ADMIN_TOKEN = secrets.token_urlsafe(24)
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def workload(scale: int, households: int) -> Path:
    """The store holding the workload, built on first use."""
    path = WORK / f"api_scale{scale}_{households}.gpkg"
    if path.exists():
        with open_store(str(path)) as store:
            if store.counts()["households"] == households:
                return path
        path.unlink()
    WORK.mkdir(parents=True, exist_ok=True)
    frames = generate(scale)
    frames["households"] = densify(frames["households"], households)
    with open_store(str(path)) as store:
        store.replace_many(frames)
    return path


def _variant(address: str, rng: random.Random) -> str:
    """The address as a hotline operator might type it."""
    text = re.sub(r"^.*?区", "", address) if rng.random() < 0.5 else address
    roll = rng.random()
    if roll < 0.3:
        text += f"{rng.randint(1, 6)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
    elif roll < 0.6:
        text = text.replace("栋", "幢")
    else:
        text = text.translate(_FULL_WIDTH)
    return text


_STRUCTURAL = set("省市区县镇乡村街道路巷弄号栋幢楼座单元室组")


def _typo(address: str, rng: random.Random) -> str:
    """One character of a name changed, as a mistyped pinyin input gives (幸福路 → 幸服路)."""
    letters = [i for i, c in enumerate(address) if "\u4e00" <= c <= "\u9fff" and c not in _STRUCTURAL]
    if not letters:
        return address
    i = rng.choice(letters)
    return address[:i] + "服" + address[i + 1 :]


def addresses(store_path: Path, n: int, seed: int = 7) -> list[str]:
    """`n` addresses of registered buildings: as registered, rewritten, or with a typo."""
    with open_store(str(store_path)) as store:
        register = store.read("buildings")["address"].dropna().astype(str).tolist()
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        address = rng.choice(register)
        roll = rng.random()
        out.append(address if roll < 0.4 else _variant(address, rng) if roll < 0.9 else _typo(address, rng))
    return out


def points(store_path: Path, n: int, seed: int = 7) -> list[tuple[float, float]]:
    """`n` points: three quarters at buildings, a quarter anywhere in the extent of the grids."""
    with open_store(str(store_path)) as store:
        buildings = store.read("buildings")
        minx, miny, maxx, maxy = store.read("grids").total_bounds
    rng = np.random.default_rng(seed)
    at = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object))
    pick = rng.integers(0, len(at), n * 3 // 4)
    xy = [(float(shapely.get_x(p)), float(shapely.get_y(p))) for p in at[pick]]
    spread = n - len(xy)
    xy += list(
        zip(rng.uniform(minx, maxx, spread).tolist(), rng.uniform(miny, maxy, spread).tolist(), strict=True)
    )
    rng.shuffle(xy)
    return xy


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's package when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(
    store_path: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    start_seconds: float = 120,
    workers: int = WORKERS,
) -> Iterator[str]:
    """`gridmap serve --workers 2` on `port` (a free loopback port by default); stopped on exit.

    `env` adds to the server's environment (PYTHONPATH serves another checkout of the code).
    """
    port = port or _free_port()
    gridmap = Path(sys.executable).with_name("gridmap")
    log = WORK / f"bench_api_server_{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(gridmap),
                "serve",
                "--store",
                str(store_path),
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            stdout=out,
            stderr=out,
            env={
                **{k: v for k, v in os.environ.items() if k != "GRIDMAP_TOKENS_FILE"},
                "GRIDMAP_TOKENS": json.dumps({ADMIN_TOKEN: {"role": "admin"}}),
                **(env or {}),
            },
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_seconds
            while True:
                if analysed(base, timeout=10):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _lua(paths: list[str]) -> Path:
    """A wrk script cycling through `paths` (each wrk thread from its own offset)."""
    script = WORK / "bench_api_paths.lua"
    quoted = ",\n".join(json.dumps(p) for p in paths)
    script.write_text(
        f"local paths = {{\n{quoted}\n}}\n"
        "local i = 0\n"
        "setup = function(thread) thread:set('offset', math.random(#paths)) end\n"
        "init = function() i = tonumber(offset) or 0 end\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
        "done = function(summary, latency, requests)\n"
        "  io.write(string.format('RESULT %d %d %d %.3f %.3f\\n', summary.requests,\n"
        "    summary.errors.status, summary.duration, latency:percentile(50) / 1000,\n"
        "    latency:percentile(99) / 1000))\nend\n",
        encoding="utf-8",
    )
    return script


def load(wrk: str, base: str, paths: list[str], seconds: int, connections: int) -> dict[str, float]:
    """One wrk run: requests per second, p50 and p99 in ms, and the share of non-2xx answers."""
    done = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(_lua(paths)), base],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("RESULT "))
    requests, non_2xx, duration_us, p50, p99 = line.split()[1:]
    total = int(requests)
    return {
        "rps": total / (int(duration_us) / 1e6),
        "p50": float(p50),
        "p99": float(p99),
        "non_2xx": int(non_2xx) / max(total, 1),
    }


def write_visibility(client: httpx.Client) -> tuple[float, float]:
    """Seconds to add one building through the API, and from then until every worker finds its address.

    "Every worker" is taken as 20 lookups in a row answering 200 (requests land on either worker).
    The building is deleted again afterwards.
    """
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    code = f"BENCH-{secrets.token_hex(4)}"
    address = f"武汉市武昌区基准测试路{secrets.randbelow(900) + 100}号1栋"
    grid = client.get("/collections/grids/items", params={"limit": 1}).json()["features"][0]
    x, y = shape(grid["geometry"]).representative_point().coords[0]
    footprint = shapely.box(x - 1e-5, y - 1e-5, x + 1e-5, y + 1e-5)
    feature = {
        "type": "Feature",
        "properties": {"code": code, "address": address, "floors": 3},
        "geometry": mapping(footprint),
    }
    start = time.perf_counter()
    created = client.post("/collections/buildings/items", json=feature, headers=headers)
    created.raise_for_status()
    written = time.perf_counter()
    in_a_row = 0
    while in_a_row < 20 and time.perf_counter() - written < 30:
        found = client.get("/lookup", params={"address": address}).status_code == 200
        in_a_row = in_a_row + 1 if found else 0
        if not found:
            time.sleep(0.01)
    visible = time.perf_counter()
    client.delete(f"/collections/buildings/items/{code}", headers=headers).raise_for_status()
    return written - start, visible - written


def _median_run(parts: list[dict[str, float]]) -> dict[str, float]:
    """Per figure, the median over the slices of one endpoint."""
    return {key: statistics.median(part[key] for part in parts) for key in parts[0]}


def matched_paths(base: str, paths: list[str]) -> list[str]:
    """The address requests that find a building (the integrators' usual case)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        return [path for path in paths if client.get(path).status_code == 200]


def _status_mix(base: str, paths: list[str]) -> str:
    """Share of each status over the first 500 requests (shows what the load consisted of)."""
    counts: dict[int, int] = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in paths[:500]:
            status = client.get(path).status_code
            counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{status}: {n / 5:.0f} %" for status, n in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    wrk = ensure_wrk()
    store_path = workload(args.scale, args.households)
    with open_store(str(store_path)) as store:
        counts = store.counts()
    address_list = addresses(store_path, QUERIES)
    point_paths = [
        f"/lookup?{urlencode({'lon': f'{x:.7f}', 'lat': f'{y:.7f}'})}" for x, y in points(store_path, QUERIES)
    ]
    address_paths = [f"/lookup?address={quote(a)}" for a in address_list]
    constant_paths = ["/conformance"]
    batch = addresses(store_path, BATCH, seed=11)

    with server(store_path) as base:
        # Warm-up: every worker builds its indexes before anything is timed.
        load(wrk, base, point_paths + address_paths, 10, args.connections)
        workloads = {
            "constant": constant_paths,
            "point": point_paths,
            "address": address_paths,
            "address, matched only": matched_paths(base, address_paths),
        }
        # Interleaved slices, so a change in the machine's other load hits every endpoint alike.
        slices: dict[str, list[dict[str, float]]] = {name: [] for name in workloads}
        for _ in range(ROUNDS):
            for name, paths in workloads.items():
                slices[name].append(load(wrk, base, paths, args.duration // ROUNDS, args.connections))
        runs = {name: _median_run(parts) for name, parts in slices.items()}
        mixes = {"point": _status_mix(base, point_paths), "address": _status_mix(base, address_paths)}
        with httpx.Client(base_url=base, timeout=60) as client:
            unknown = iter(f"/lookup?address={quote(f'无此路{i}号{i % 7 + 1}栋')}" for i in range(100))
            not_found_ms = 1000 * median_seconds(lambda: client.get(next(unknown)), repeat=20, warmup=2)
            replies: list[httpx.Response] = []

            def post() -> None:
                replies.append(client.post("/lookup/batch", json={"items": [{"address": a} for a in batch]}))

            batch_s = median_seconds(post, repeat=3, warmup=1)
            write_s, visible_s = write_visibility(client)
        results = replies[-1].json()["results"]
        found = sum(r["status"] == "ok" for r in results) / len(results)

    constant = runs["constant"]["rps"]
    rows = [
        [
            name,
            f"{run['rps']:,.0f}",
            f"{run['rps'] / constant:.0%}",
            f"{run['p50']:.2f}",
            f"{run['p99']:.2f}",
            f"{run['non_2xx']:.0%}",
        ]
        for name, run in runs.items()
    ]
    verdicts = []
    for name in ("point", "address", "address, matched only"):
        run = runs[name]
        p99_ok = run["p99"] <= TARGET_P99_MS
        ratio_ok = run["rps"] / constant >= TARGET_RATIO
        verdicts.append(
            f"- {name} lookup p99 {run['p99']:.2f} ms (target ≤ {TARGET_P99_MS:g} ms): "
            + ("met" if p99_ok else "NOT met")
        )
        verdicts.append(
            f"- {name} lookup throughput {run['rps'] / constant:.0%} of the constant endpoint "
            f"(target ≥ {TARGET_RATIO:.0%}): {'met' if ratio_ok else 'NOT met'}"
        )
    verdicts.append(
        f"- for scale, the constant endpoint's own p99 in the same run: {runs['constant']['p99']:.2f} ms "
        "(wrk and the two workers share 2 cores with whatever else the machine runs)"
    )
    verdicts.append(
        f"- an address matching nothing (404 with up to 5 suggestions from the whole register): "
        f"{not_found_ms:.1f} ms"
    )
    verdicts.append(
        f"- a new building through `POST /collections/buildings/items`: written in {write_s:.2f} s, "
        f"then found by address in every worker after {visible_s:.2f} s (target ≤ 1 s): "
        + ("met" if visible_s <= 1.0 else "NOT met")
    )
    verdicts.append(
        f"- batch of {BATCH:,} addresses: {batch_s:.2f} s, {found:.0%} found "
        f"(target ≤ {TARGET_BATCH_S:g} s): {'met' if batch_s <= TARGET_BATCH_S else 'NOT met'}"
    )
    body = f"""
Workload: `python -m bench.bench_api --scale {args.scale} --households {args.households}`:
{counts["grids"]:,} grids, {counts["buildings"]:,} buildings, {counts["households"]:,} households
in a GeoPackage store. `gridmap serve --workers {WORKERS}` on 127.0.0.1, loaded by wrk
(2 threads, {args.connections} connections, {args.duration} s per endpoint, on the server's 2 cores),
each run cycling through {QUERIES:,} different requests after a 10 s warm-up; the endpoints take turns
in {ROUNDS} rounds of {args.duration // ROUNDS} s and each figure is the median of its {ROUNDS} slices.
"address, matched only" leaves out the addresses that match nothing (404 with suggestions).
Status mix of the first 500 requests: point {mixes["point"]}; address {mixes["address"]}.

{table(["endpoint", "requests/s", "vs constant", "p50 ms", "p99 ms", "non-2xx"], rows)}

{chr(10).join(verdicts)}
"""
    print(body)
    write_section("api", body)


if __name__ == "__main__":
    main()
