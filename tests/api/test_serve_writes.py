"""A real `gridmap serve --workers 2`, on both stores: concurrent creates give one 201 and one 409;
a worker that dies is replaced and said so, and its builder goes with it."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from api.main import WORKER_NICENESS
from gridmap.stores import open_store
from tests.api.conftest import ADMIN, EDITOR_C1, TOKENS, bearer, district
from tests.api.serving import running_serve
from tests.conftest import fresh_postgis_database

ROUNDS = 12
LOGS: dict[str, Path] = {}


@pytest.fixture(scope="module", params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`gridmap serve --workers 2` over the district, on a free loopback port."""
    directory = tmp_path_factory.mktemp("serve-writes")
    LOGS[request.param] = directory / "serve.log"
    with fresh_postgis_database("gridmap_serve") if request.param == "postgis" else _nothing() as pg:
        url = pg or str(directory / "district.gpkg")
        with open_store(url) as store:
            store.replace_many(district())
        env = {**os.environ, "GRIDMAP_TOKENS": json.dumps(TOKENS)}
        # Two workers starting on a busy 2-core machine may take a while.
        with running_serve(url, env, LOGS[request.param], workers=2, start_seconds=180) as base:
            yield base


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _post(base: str, code: str, barrier: threading.Barrier, statuses: list[int]) -> None:
    body = {
        "type": "Feature",
        "properties": {"code": code, "name": f"{code}号喇叭", "status": "working"},
        "geometry": {"type": "Point", "coordinates": [114.302, 30.502]},
    }
    with httpx.Client(timeout=30) as client:
        barrier.wait()
        statuses.append(
            client.post(
                f"{base}/collections/speakers/items", json=body, headers=bearer(EDITOR_C1)
            ).status_code
        )


def test_two_creates_of_one_code_give_one_201_and_one_409(server: str) -> None:
    for round_ in range(ROUNDS):
        barrier = threading.Barrier(2)
        statuses: list[int] = []
        threads = [
            threading.Thread(target=_post, args=(server, f"KR{round_}", barrier, statuses)) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201, 409], f"round {round_}: {statuses}"
    listed = httpx.get(f"{server}/collections/speakers/items", headers=bearer(ADMIN), timeout=30).json()
    assert sorted(f["id"] for f in listed["features"] if f["id"].startswith("KR")) == sorted(
        f"KR{i}" for i in range(ROUNDS)
    )


def _supervisor(base: str) -> psutil.Process:
    port = base.rsplit(":", 1)[1]
    (serve,) = [
        p
        for p in psutil.process_iter(["cmdline"])
        if "api.workers" in (p.info["cmdline"] or []) and port in (p.info["cmdline"] or [])
    ]
    return serve


def _builders(process: psutil.Process) -> list[psutil.Process]:
    return [p for p in process.children(recursive=True) if "gridmap.serving" in " ".join(p.cmdline())]


def test_workers_yield_the_cpu_to_the_builder(server: str) -> None:
    """Workers run a notch below their builder, so a refresh is not starved by busy workers."""
    builders = _builders(_supervisor(server))
    assert builders, "each worker starts a builder process"
    for builder in builders:
        assert builder.nice() == os.getpriority(os.PRIO_PROCESS, 0)
        assert builder.parent().nice() == max(builder.nice(), WORKER_NICENESS)


def test_a_dead_worker_is_replaced_said_so_and_its_builder_exits(
    server: str, request: pytest.FixtureRequest
) -> None:
    """uvicorn told of a replaced worker only at the info level `gridmap serve` hides, and the dead
    worker's builder kept analysing (one reached 22.9 GB)."""
    supervisor = _supervisor(server)
    workers = [p for p in supervisor.children() if _builders(p)]
    victim = workers[0]
    its_builders = _builders(victim)
    victim.send_signal(signal.SIGKILL)
    _gone, alive = psutil.wait_procs(its_builders, timeout=10)
    assert alive == [], "the builder of a dead worker exits"
    log = LOGS[request.node.callspec.params["server"]]
    deadline = time.monotonic() + 10
    while f"worker {victim.pid} stopped" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert f"worker {victim.pid} stopped" in log.read_text()
    assert httpx.get(f"{server}/health", timeout=30).status_code == 200
