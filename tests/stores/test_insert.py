"""`Store.insert`: create-only writes settled by the store's own key, on both stores."""

from __future__ import annotations

import threading

import geopandas as gpd
import pytest
import shapely

from gridmap.errors import ConflictError
from gridmap.frames import WGS84, conform
from gridmap.stores import Store, open_store


def speakers(*codes: str, name: str = "喇叭") -> gpd.GeoDataFrame:
    rows = {"code": list(codes), "name": [name] * len(codes), "status": ["working"] * len(codes)}
    points = [shapely.Point(114.30 + i / 1000, 30.50) for i in range(len(codes))]
    return conform("speakers", gpd.GeoDataFrame(rows, geometry=points, crs=WGS84))


def test_insert_adds_new_codes(store: Store) -> None:
    assert store.insert("speakers", speakers("K1", "K2")) == 2
    assert store.read("speakers")["code"].tolist() == ["K1", "K2"]


def test_insert_of_an_existing_code_is_a_conflict_and_writes_nothing(store: Store) -> None:
    store.insert("speakers", speakers("K1", name="原来的"))
    revision = store.revision()
    with pytest.raises(ConflictError, match="speakers already has code\\(s\\) K1"):
        store.insert("speakers", speakers("K0", "K1", "K2", name="新的"))
    after = store.read("speakers")
    assert after["code"].tolist() == ["K1"]
    assert after["name"].tolist() == ["原来的"]
    assert store.revision() == revision


def test_concurrent_inserts_of_one_code_give_exactly_one_success(store_url: str) -> None:
    """Each thread opens its own store (as each API worker does); the key decides, every round."""
    rounds, contenders = 8, 2
    for round_ in range(rounds):
        barrier = threading.Barrier(contenders)
        outcomes: list[str] = []
        threads = [
            threading.Thread(target=_create, args=(store_url, f"R{round_}", i, barrier, outcomes))
            for i in range(contenders)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict", "created"], f"round {round_}: {outcomes}"
    with open_store(store_url) as check:
        assert len(check.read("speakers")) == rounds


def _create(url: str, code: str, writer: int, barrier: threading.Barrier, outcomes: list[str]) -> None:
    with open_store(url) as own:
        barrier.wait()
        try:
            own.insert("speakers", speakers(code, name=f"writer {writer}"))
            outcomes.append("created")
        except ConflictError:
            outcomes.append("conflict")
