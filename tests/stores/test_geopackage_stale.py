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

from gridmap.stores.geopackage import GeoPackageStore, _locked

# Edits are made in place; the one write that still builds a copy beside the store is its creation.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from gridmap.stores.geopackage import GeoPackageStore

    directory = Path(sys.argv[1])
    print("ready", flush=True)
    i = 0
    while True:
        GeoPackageStore(directory / f"s{i}.gpkg").close()
        i += 1
    """
)


def _copies(directory: Path) -> list[Path]:
    """Files a writer keeps beside the store: a new file's copy, or the scratch file of a whole-layer load."""
    return [p for p in directory.iterdir() if ".tmp.gpkg" in p.name or ".load.gpkg" in p.name]


def test_copy_left_by_a_killed_writer_is_removed_on_open(tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 120
        while not _copies(tmp_path):
            if time.monotonic() > deadline or writer.poll() is not None:
                pytest.fail("the writer never had a copy beside the store")
            time.sleep(0.002)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait(timeout=10)
        if writer.stdout is not None:
            writer.stdout.close()
    left = [p for p in _copies(tmp_path) if p.name.endswith(".tmp.gpkg")]
    assert len(left) == 1, "the kill came after the copy was renamed: nothing to clean up"
    stem = left[0].name.split(".")[1]  # .<stem>.<random>.tmp.gpkg
    unrelated = tmp_path / ".other.abcdefgh.tmp.gpkg"  # another store's copy in the same directory
    unrelated.write_bytes(b"x")
    with GeoPackageStore(tmp_path / f"{stem}.gpkg") as store:
        assert _copies(tmp_path) == [unrelated]
        assert store.counts() == dict.fromkeys(store.counts(), 0)  # a whole, empty store


def test_a_copy_in_use_by_a_live_writer_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "store.gpkg"
    GeoPackageStore(path).close()
    copy = tmp_path / ".store.a1b2c3d4.tmp.gpkg"  # named as a writer names its private copy
    with _locked(tmp_path):  # a writer at work: it holds the directory lock while its copy exists
        copy.write_bytes(b"being written")
        GeoPackageStore(path).close()
        assert copy.exists()
