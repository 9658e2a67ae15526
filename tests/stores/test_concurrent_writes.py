"""Writers of one store take turns: a busy store slows a write down but never fails or loses it."""

from __future__ import annotations

import threading

import geopandas as gpd
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
