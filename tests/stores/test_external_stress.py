"""GDAL commits and gridmap writes interleaved on one GeoPackage: no lost write, no failed commit,
every external edit in the history."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from gridmap.stores import open_store
from tests.stores.conftest import sample_layers
from tests.stores.test_external_edits import gdal_writer

PAUSE_SECONDS = 0.05
"""Between two gridmap writes (an API under load: 20 writes a second). Back to back with no pause,
SQLite's busy handler, polling, can miss every gap for longer than GDAL's 5 s busy timeout."""


def _interleave(path: str, rounds: int) -> None:
    with open_store(path) as store:
        store.replace_many(sample_layers())
    write = gdal_writer(path)  # one long-lived connection, as QGIS keeps one
    edits = []
    for i in range(rounds):
        edits.append(
            {
                "op": "add",
                "layer": "speakers",
                "code": f"X{i:04d}",
                "wkt": f"POINT (116.31 {39.91 + i * 1e-4})",
            }
        )
        edits.append(
            {
                "op": "move",
                "layer": "speakers",
                "code": f"X{i:04d}",
                "wkt": f"POINT (116.38 {39.91 + i * 1e-4})",
            }
        )
    failures: list[BaseException] = []

    def gridmap_writes() -> None:
        try:
            with open_store(path) as store:
                for i in range(rounds):
                    frame = gpd.GeoDataFrame(
                        {"code": [f"Y{i:04d}"], "size": [i + 1]},
                        geometry=[Point(116.32, 39.93)],
                        crs="EPSG:4326",
                    )
                    store.upsert("households", frame)
                    store.settle()
                    time.sleep(PAUSE_SECONDS)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    thread = threading.Thread(target=gridmap_writes)
    thread.start()
    answers = write(edits)
    thread.join()
    assert not failures
    assert answers == [None] * len(edits)  # no GDAL commit failed: each waited for its turn
    with open_store(path) as store:  # opening settles what is left
        speakers = store.read("speakers").set_index("code")
        households = store.read("households").set_index("code")
        codes = [f"X{i:04d}" for i in range(rounds)]
        moved = speakers.reindex(codes)
        wrong = moved[(moved.geometry.x.round(6) != 116.38) | (moved["grid_code"].astype(object) != "G2")]
        assert wrong.empty, wrong[["grid_code", "revision" if "revision" in wrong else "status", "geometry"]]
        sizes = households.reindex([f"Y{i:04d}" for i in range(rounds)])["size"]
        assert sizes.tolist() == list(range(1, rounds + 1))
        external = [r for r in store.history(layer="speakers") if "external edit" in (r.author or "")]
        assert sum(r.counts["speakers"]["inserted"] for r in external) == rounds  # every GDAL insert
        assert sum(r.counts["speakers"]["updated"] for r in external) >= rounds  # and every move
        for i in range(0, rounds, max(1, rounds // 5)):
            kept = [c for r in store.history(layer="speakers", code=f"X{i:04d}") for c in [r.id]]
            assert kept, f"X{i:04d} has no history"


def test_gdal_and_gridmap_writers_interleave(tmp_path: Path) -> None:
    _interleave(str(tmp_path / "stress.gpkg"), rounds=25)


@pytest.mark.slow
def test_gdal_and_gridmap_writers_interleave_long(tmp_path: Path) -> None:
    _interleave(str(tmp_path / "stress.gpkg"), rounds=300)
