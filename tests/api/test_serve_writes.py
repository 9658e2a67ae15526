"""A real `gridmap serve --workers 2`, on both stores: concurrent creates give one 201 and one 409;
a worker that dies is replaced and said so, and its builder goes with it; writers at full tilt
(while readers export whole layers) lose nothing and see exactly what they wrote acknowledged; a
revert racing an edit either lands first or answers 409."""

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
STORES: dict[str, str] = {}  # each server's store, by its base URL


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
            STORES[base] = url
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


@pytest.fixture
def served(server: str) -> tuple[str, str]:
    """The server's base URL and its store."""
    return server, STORES[server]


WRITERS = 8


def _speaker_body(code: str, name: str, lon: float = 114.302) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "status": "working"},
        "geometry": {"type": "Point", "coordinates": [lon, 30.502]},
    }


def _hammer(
    base: str, writer: int, operations: int, acked: dict[str, list[str]], problems: list[str]
) -> None:
    """Every other operation creates a speaker, the rest rename the newest; each reply checked."""
    with httpx.Client(timeout=120, headers=bearer(EDITOR_C1)) as client:
        code = ""
        for op in range(operations):
            if op % 2 == 0:
                code, name = f"LW{operations}-{writer}-{op}", f"w{writer} create {op}"
                reply = client.post(f"{base}/collections/speakers/items", json=_speaker_body(code, name))
                expected, shown = 201, reply.json().get("features", []) if reply.status_code == 201 else []
            else:
                name = f"w{writer} rename {op}"
                reply = client.put(
                    f"{base}/collections/speakers/items/{code}", json=_speaker_body(code, name)
                )
                expected, shown = 200, [reply.json()] if reply.status_code == 200 else []
            if reply.status_code != expected:
                problems.append(f"{reply.request.method} {code}: {reply.status_code} {reply.text[:200]}")
                continue
            echoed = [(f["properties"]["code"], f["properties"]["name"]) for f in shown]
            if echoed != [(code, name)]:
                problems.append(f"{reply.request.method} {code} {name!r} acknowledged with {echoed}")
            acked.setdefault(code, []).append(name)


def _readers(base: str, stop: threading.Event) -> None:
    """Whole-layer exports meanwhile: GDAL reads the store in the workers while they write.

    Only the load matters here: how an export itself fares is the export tests' business.
    """
    with httpx.Client(timeout=120, headers=bearer(ADMIN)) as client:
        while not stop.is_set():
            try:
                client.get(f"{base}/export/speakers", params={"format": "geojson"})
            except httpx.TransportError:
                stop.wait(0.5)


def _writers_at_full_tilt(served: tuple[str, str], operations: int) -> None:
    base, url = served
    acked: dict[str, list[str]] = {}
    problems: list[str] = []
    stop = threading.Event()
    reader = threading.Thread(target=_readers, args=(base, stop))
    writers = [
        threading.Thread(target=_hammer, args=(base, w, operations, acked, problems)) for w in range(WRITERS)
    ]
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reader.join()
    assert problems == []
    assert sum(len(names) for names in acked.values()) == WRITERS * operations
    with open_store(url) as store:
        stored = store.read("speakers", codes=sorted(acked)).set_index("code")["name"]
        assert stored.to_dict() == {code: names[-1] for code, names in acked.items()}  # none lost or stale
        for code, names in acked.items():  # each acknowledged write is one revision of its feature
            assert len(store.history(layer="speakers", code=code)) == len(names), code


def test_writers_at_full_tilt_lose_nothing_and_see_what_they_wrote(served: tuple[str, str]) -> None:
    _writers_at_full_tilt(served, operations=8)


@pytest.mark.slow
@pytest.mark.load
def test_eight_writers_of_two_hundred_operations_lose_nothing(served: tuple[str, str]) -> None:
    _writers_at_full_tilt(served, operations=200)


def _race(base: str, revision: int, code: str) -> dict[str, int]:
    """Revert `revision` and edit `code` at the same moment; the status of each."""
    barrier = threading.Barrier(2)
    replies: dict[str, int] = {}

    def revert() -> None:
        with httpx.Client(timeout=120, headers=bearer(ADMIN)) as own:
            barrier.wait()
            replies["revert"] = own.post(f"{base}/history/{revision}/revert").status_code

    def edit() -> None:
        with httpx.Client(timeout=120, headers=bearer(ADMIN)) as own:
            barrier.wait()
            body = _speaker_body(code, "third", lon=114.303)
            replies["edit"] = own.put(f"{base}/collections/speakers/items/{code}", json=body).status_code

    threads = [threading.Thread(target=revert), threading.Thread(target=edit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def test_a_revert_racing_an_edit_never_undoes_it(served: tuple[str, str]) -> None:
    _reverts_racing_edits(served, rounds=10)


@pytest.mark.slow
@pytest.mark.load
def test_thirty_reverts_racing_edits_never_undo_one(served: tuple[str, str]) -> None:
    _reverts_racing_edits(served, rounds=30, first=10)


def _reverts_racing_edits(served: tuple[str, str], rounds: int, first: int = 0) -> None:
    """Create, edit (revision R), then revert R and edit again at once: the second edit always stands.

    Either the revert lands first (201) and the edit then replaces its result, or the
    edit lands first and the revert, finding the feature changed since R, answers 409.
    """
    base, url = served
    items = f"{base}/collections/speakers/items"
    with httpx.Client(timeout=120, headers=bearer(ADMIN)) as client, open_store(url) as store:
        for round_ in range(first, first + rounds):
            code = f"RV{round_}"
            assert client.post(items, json=_speaker_body(code, "first")).status_code == 201
            assert client.put(f"{items}/{code}", json=_speaker_body(code, "second")).status_code == 200
            replies = _race(base, store.history(layer="speakers", code=code)[0].id, code)
            assert replies["edit"] == 200 and replies["revert"] in (201, 409), (round_, replies)
            assert store.read("speakers", codes=[code])["name"].tolist() == ["third"], (round_, replies)
