"""Writers of one store take turns: a busy store slows a write down but never fails or loses it."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from gridmap.frames import WGS84, conform
from gridmap.stores import Store, open_store
from gridmap.stores._frames import _ATTEMPTS


def _speaker(code: str) -> gpd.GeoDataFrame:
    rows = {"code": [code], "name": [f"喇叭{code}"], "status": ["working"]}
    return conform("speakers", gpd.GeoDataFrame(rows, geometry=[shapely.Point(114.3, 30.5)], crs=WGS84))


def test_many_writers_each_with_its_own_store_all_land(store_url: str) -> None:
    """As API workers and a CLI import do: every acknowledged write is there, one revision each."""
    writers, writes = 4, 6
    with open_store(store_url) as check:
        start = len(check.history())
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            with open_store(store_url) as own:
                barrier.wait()
                for i in range(writes):
                    own.upsert("speakers", _speaker(f"{prefix}{i}"))
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(f"W{w}-",)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with open_store(store_url) as check:
        assert len(check.read("speakers")) == writers * writes
        assert len(check.history()) == start + writers * writes


def test_a_writer_overtaken_every_time_holds_the_turn_and_lands(store: Store, store_url: str) -> None:
    """Another writer commits between this one's read and its commit on every optimistic try;
    on the last try it starts too, and must wait for this writer's commit instead."""
    start = len(store.history())
    change = store._change  # type: ignore[attr-defined]
    calls = 0
    late: list[threading.Thread] = []

    with open_store(store_url) as other:

        def overtake(*args: object, **kwargs: object) -> object:
            nonlocal calls
            result = change(*args, **kwargs)
            calls += 1
            code = _speaker(f"O{calls}")
            if calls < _ATTEMPTS:
                other.upsert("speakers", code)
            else:
                late.append(threading.Thread(target=other.upsert, args=("speakers", code)))
                late[0].start()
                late[0].join(timeout=0.5)  # time enough to commit first, were it not kept waiting
                assert late[0].is_alive()
            return result

        store._change = overtake  # type: ignore[attr-defined]
        try:
            store.upsert("speakers", _speaker("MINE"))
        finally:
            store._change = change  # type: ignore[attr-defined]
            for thread in late:
                thread.join()
    assert calls == _ATTEMPTS
    assert set(store.read("speakers")["code"]) == {"MINE", *(f"O{i}" for i in range(1, _ATTEMPTS + 1))}
    assert len(store.history()) == start + _ATTEMPTS + 1


def _writing_process(url: str, prefix: str, writes: int, out: Any) -> None:
    """Four writer threads and two threads reading whole layers through GDAL, in one process."""
    acked: list[str] = []
    errors: list[str] = []
    stop = threading.Event()
    with open_store(url) as store:

        def read() -> None:
            while not stop.is_set():
                try:
                    store.read("speakers")
                    store.read_columns("speakers", ["code"])
                except Exception as exc:  # reported by the test
                    errors.append(f"read: {exc}")

        def write(writer: int) -> None:
            for i in range(writes):
                code = f"{prefix}{writer}-{i}"
                try:
                    store.upsert("speakers", _speaker(code))
                    acked.append(code)
                except Exception as exc:  # reported by the test
                    errors.append(f"write {code}: {exc}")

        readers = [threading.Thread(target=read) for _ in range(2)]
        writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for thread in readers + writers:
            thread.start()
        for thread in writers:
            thread.join()
        stop.set()
        for thread in readers:
            thread.join()
    out.put((acked, errors))


def _processes_writing_while_gdal_reads(tmp_path: Path, writes: int) -> None:
    url = str(tmp_path / "store.gpkg")
    open_store(url).close()
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    processes = [
        spawn.Process(target=_writing_process, args=(url, f"P{p}-", writes, results)) for p in range(2)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=900) for _ in processes]
    for process in processes:
        process.join()
    acked = [code for codes, _ in outcomes for code in codes]
    assert [error for _, errors in outcomes for error in errors] == []
    assert len(acked) == 2 * 4 * writes
    with open_store(url) as store:
        assert set(acked) <= set(store.read("speakers")["code"])  # no acknowledged write lost
        assert len(store.history(layer="speakers", limit=10_000)) == len(acked)


def test_processes_writing_while_gdal_reads_lose_nothing(tmp_path: Path) -> None:
    """Two processes (as two API workers), each writing through sqlite3 while GDAL reads the same
    file in other threads: GDAL closing the file once dropped the writers' locks, and the other
    process folded the write-ahead log away under them (acknowledged writes lost, 'locking
    protocol', 'database disk image is malformed')."""
    _processes_writing_while_gdal_reads(tmp_path, writes=12)


@pytest.mark.slow
@pytest.mark.load
def test_processes_writing_while_gdal_reads_lose_nothing_at_length(tmp_path: Path) -> None:
    _processes_writing_while_gdal_reads(tmp_path, writes=50)
