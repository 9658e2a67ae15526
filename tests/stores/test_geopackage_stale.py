"""A GeoPackage writer killed (SIGKILL) mid-write leaves a copy beside the store; the next open removes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gridmap.stores import open_store
from gridmap.stores.geopackage import GeoPackageStore

WRITER = textwrap.dedent(
    """
    import sys
    import geopandas as gpd
    import numpy as np
    import shapely
    from gridmap.frames import conform
    from gridmap.stores import open_store

    n = 100_000
    frame = conform("speakers", gpd.GeoDataFrame(
        {"code": [f"K{i:06d}" for i in range(n)], "name": ["喇叭"] * n, "status": ["working"] * n},
        geometry=shapely.points(114.3 + np.arange(n) / 1e6, np.full(n, 30.5)), crs="EPSG:4326"))
    store = open_store(sys.argv[1])
    print("ready", flush=True)
    while True:
        store.replace("speakers", frame)
    """
)


def _copies(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if ".tmp.gpkg" in p.name]


def test_copy_left_by_a_killed_writer_is_removed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "store.gpkg"
    open_store(str(path)).close()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while not _copies(tmp_path):
            if time.monotonic() > deadline or writer.poll() is not None:
                pytest.fail("the writer never had a copy beside the store")
            time.sleep(0.005)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait(timeout=10)
        if writer.stdout is not None:
            writer.stdout.close()
    left = _copies(tmp_path)
    assert left, "the kill came after the copy was renamed: nothing to clean up"
    unrelated = tmp_path / ".other.abcdefgh.tmp.gpkg"  # another store's copy in the same directory
    unrelated.write_bytes(b"x")
    with GeoPackageStore(path) as store:
        assert _copies(tmp_path) == [unrelated]
        # The store is whole: the old (empty) layer or a complete new one, never part of one.
        assert len(store.read("speakers")) in (0, 100_000)


def test_a_copy_in_use_by_a_live_writer_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "store.gpkg"
    store = GeoPackageStore(path)
    with store._aside() as copy:  # a writer at work: it holds the directory lock
        assert copy.exists()
        GeoPackageStore(path).close()
        assert copy.exists()
