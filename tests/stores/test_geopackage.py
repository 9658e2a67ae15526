"""GeoPackage specifics: a file GDAL and QGIS read as they expect, edited in place without GDAL."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

import gridmap.stores.geopackage as module
from gridmap.catalogue import LAYER_NAMES
from gridmap.errors import ConflictError, StoreError
from gridmap.stores.base import TRIGGERS_ASIDE_FROM_ROWS
from gridmap.stores.geopackage import GeoPackageStore

from .conftest import sample_layers


@pytest.fixture
def gpkg(tmp_path: Path) -> GeoPackageStore:
    store = GeoPackageStore(tmp_path / "store.gpkg")
    store.replace_many(sample_layers())
    return store


def _households(codes: list[str], x: float = 116.3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": codes}, geometry=[Point(x, 39.9)] * len(codes), crs=4326)


def test_new_file_is_a_geopackage_with_every_layer(tmp_path: Path) -> None:
    path = tmp_path / "new.gpkg"
    GeoPackageStore(path)
    layers = dict(pyogrio.list_layers(path))
    assert {name: layers[name] for name in LAYER_NAMES} == {
        "streets": "MultiPolygon",
        "communities": "MultiPolygon",
        "grids": "MultiPolygon",
        "buildings": "Unknown",  # generic GEOMETRY: Polygon and MultiPolygon as given
        "households": "Point",
        "service_points": "Point",
        "speakers": "Point",
        "roads": "Unknown",  # generic GEOMETRY: LineString and MultiLineString as given
    }
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA application_id").fetchone() == (0x47504B47,)  # 'GPKG'
        assert conn.execute("PRAGMA user_version").fetchone() == (10300,)  # GeoPackage 1.3
        kind = conn.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = ?", ("gridmap_meta",)
        ).fetchone()
        assert kind is None  # bookkeeping, keyed by name: not a GeoPackage attributes table
    assert sorted(os.listdir(tmp_path)) == ["new.gpkg"]


def test_gdal_sees_edits_made_with_sqlite(gpkg: GeoPackageStore) -> None:
    gpkg.upsert("households", _households(["H1", "H7"], x=116.5))
    gpkg.delete("households", ["H4"])
    info = pyogrio.read_info(gpkg.path, layer="households")
    assert info["features"] == gpkg.counts()["households"] == 4  # GDAL's cached count was kept
    near = pyogrio.read_dataframe(gpkg.path, layer="households", bbox=(116.49, 39.89, 116.51, 39.91))
    assert sorted(near["code"]) == ["H1", "H7"]
    with sqlite3.connect(gpkg.path) as conn:
        box = conn.execute(
            "SELECT r.minx, r.maxx, r.miny, r.maxy FROM rtree_households_geom r "
            "JOIN households h ON h.fid = r.id WHERE h.code = 'H7'"
        ).fetchone()
    assert box == pytest.approx((116.5, 116.5, 39.9, 39.9))


def test_a_large_upsert_keeps_the_change_log_for_other_writers(gpkg: GeoPackageStore) -> None:
    """gridmap's own write of many rows sets the change-log triggers aside for its statements only."""
    with sqlite3.connect(gpkg.path) as conn:
        before = sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    codes = [f"HB{i:04d}" for i in range(TRIGGERS_ASIDE_FROM_ROWS + 200)]
    gpkg.upsert("households", _households(codes))
    gpkg.upsert("households", _households(codes, x=116.31))  # the same codes again: an update
    near = pyogrio.read_dataframe(gpkg.path, layer="households", bbox=(116.309, 39.89, 116.311, 39.91))
    assert sorted(near["code"]) == codes  # the R-tree followed both statements
    with sqlite3.connect(gpkg.path) as conn:
        assert sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")) == before
        assert conn.execute("SELECT count(*) FROM gridmap_changes").fetchone()[0] == 0  # gridmap's own
        conn.create_function("ST_IsEmpty", 1, module._is_empty)  # what GDAL gives the R-tree triggers
        for name, position in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
            conn.create_function(name, 1, module._envelope_part(position))
        conn.execute("UPDATE households SET contact_name = '王五' WHERE code = 'HB0001'")  # someone else
        logged = conn.execute("SELECT layer, code, op FROM gridmap_changes").fetchall()
    assert logged == [("households", "HB0001", "updated")]


def test_edits_do_not_rewrite_layers(gpkg: GeoPackageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_gdal_writes(*args: object, **kwargs: object) -> None:
        raise AssertionError("an upsert or delete rewrote a whole layer")

    monkeypatch.setattr(module, "_write_layer", no_gdal_writes)
    assert gpkg.upsert("households", _households(["H1", "H8"])) == 2
    assert gpkg.delete("households", ["H8"]) == 1
    assert gpkg.read("households", codes=["H1"]).geometry.iloc[0].equals(Point(116.3, 39.9))


@pytest.mark.parametrize("step", ["_touch", "_record"])
def test_failed_edit_leaves_store_and_directory_unchanged(
    gpkg: GeoPackageStore, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    before, revision = gpkg.path.read_bytes(), gpkg.revision()

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(module, step, crash)
    with pytest.raises(OSError, match="simulated crash"):
        gpkg.upsert("households", _households(["H1"]))
    assert gpkg.path.read_bytes() == before
    assert gpkg.revision() == revision
    assert sorted(os.listdir(gpkg.path.parent)) == ["store.gpkg"]


def test_writes_keep_the_file_mode(gpkg: GeoPackageStore) -> None:
    gpkg.path.chmod(0o640)
    gpkg.upsert("households", _households(["H1"]))
    gpkg.replace("speakers", sample_layers()["speakers"])
    assert stat.S_IMODE(gpkg.path.stat().st_mode) == 0o640


def test_concurrent_writers_do_not_lose_changes(gpkg: GeoPackageStore) -> None:
    other = GeoPackageStore(gpkg.path)

    def write(store: GeoPackageStore, prefix: str) -> None:
        for i in range(5):
            store.upsert("households", _households([f"{prefix}{i}"]))

    threads = [threading.Thread(target=write, args=(s, p)) for s, p in ((gpkg, "A"), (other, "B"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gpkg.counts()["households"] == 4 + 10


def test_missing_layers_are_added_on_open(tmp_path: Path) -> None:
    path = tmp_path / "partial.gpkg"
    pyogrio.write_dataframe(sample_layers()["streets"], path, layer="streets", promote_to_multi=True)
    store = GeoPackageStore(path)
    assert store.counts() == {name: 2 if name == "streets" else 0 for name in LAYER_NAMES}
    assert store.read("streets")["name"].tolist() == ["建国门街道", "朝阳门街道"]


def test_files_that_are_not_geopackages_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.gpkg"
    path.write_text("not a database, just text " * 100)
    with pytest.raises(StoreError, match="not a GeoPackage"):
        GeoPackageStore(path)
    with pytest.raises(StoreError, match="does not exist"):
        GeoPackageStore(tmp_path / "missing" / "store.gpkg")


def test_edits_are_made_in_place_without_copying_the_file(
    gpkg: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_copies(*args: object, **kwargs: object) -> None:
        raise AssertionError("a write copied the whole file")

    monkeypatch.setattr(module.shutil, "copyfile", no_copies)
    inode = gpkg.path.stat().st_ino
    gpkg.upsert("households", _households(["H1", "H8"], x=116.31))
    gpkg.replace("speakers", sample_layers()["speakers"].iloc[:1])
    gpkg.delete("households", ["H8"])
    assert gpkg.path.stat().st_ino == inode
    assert gpkg.counts()["speakers"] == 1


_KILLED_WRITER = """
import sys, pathlib
import geopandas as gpd, numpy as np, shapely
import gridmap.stores.geopackage as module
from gridmap.stores.geopackage import GeoPackageStore

path, marker, rows = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3])
store = GeoPackageStore(path)
real = module._load_layer

def announced(*args, **kwargs):
    marker.write_text("writing")
    return real(*args, **kwargs)

module._load_layer = announced
x = 116.3 + np.arange(rows) * 1e-6
frame = gpd.GeoDataFrame(
    {"code": [f"N{i:07d}" for i in range(rows)], "address": ["新"] * rows},
    geometry=shapely.points(x, np.full(rows, 39.9)), crs=4326,
)
store.replace("households", frame)
marker.write_text("committed")
"""


@pytest.mark.parametrize("delay", [0.0, 0.3, 0.8])
def test_kill_9_mid_write_leaves_the_old_or_the_new_state(tmp_path: Path, delay: float) -> None:
    path = tmp_path / "store.gpkg"
    store = GeoPackageStore(path)
    store.replace_many(sample_layers())
    old = store.read("households")
    revisions = len(store.history())
    marker = tmp_path / "marker"
    rows = 150_000
    child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path), str(marker), str(rows)])
    deadline = time.monotonic() + 60
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.exists(), "the writer never started writing"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    after = GeoPackageStore(path)
    households = after.read("households")
    if marker.read_text() == "committed":
        assert len(households) == rows and len(after.history()) == revisions + 1
    else:
        assert len(households) in (len(old), rows)
        if len(households) == len(old):
            assert households.equals(old) and len(after.history()) == revisions
    assert after.counts()["households"] == len(households)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    after.upsert("households", _households(["H9"]))  # and it still takes writes
    assert "H9" in set(after.read("households", codes=["H9"])["code"])


def test_revision_holds_while_gdal_reads_and_moves_on_a_write(gpkg: GeoPackageStore) -> None:
    """GDAL opens read-only and leaves an empty write-ahead log behind: no change, so no new revision."""
    gpkg.upsert("households", _households(["H1"]))
    before = gpkg.revision()
    pyogrio.read_arrow(gpkg.path, layer="households", columns=["code"])
    gpkg.read_columns("households", ["code"])
    # A reader still open (as the builder's is while a worker asks) keeps the empty log in place.
    with closing(sqlite3.connect(f"{gpkg.path.as_uri()}?mode=ro", uri=True)) as reader:
        reader.execute("SELECT count(*) FROM households").fetchone()
        assert gpkg.revision() == before
        assert Path(f"{gpkg.path}-wal").exists()
    gpkg.upsert("households", _households(["H9"]))
    assert gpkg.revision() != before


def test_revision_ignores_the_log_folding_back_and_sees_a_gdal_edit(gpkg: GeoPackageStore) -> None:
    """A checkpoint moves the file's mtime and size but not its content; an edit made through GDAL counts."""
    gpkg.upsert("households", _households(["H1", "H2"]))
    written = gpkg.revision()
    with closing(sqlite3.connect(gpkg.path)) as reader:  # the last reader to close folds the log back
        reader.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.utime(gpkg.path, ns=(0, 10**18))
    assert gpkg.revision() == written
    time.sleep(0.01)  # GDAL stamps the change to the millisecond
    extra = gpd.GeoDataFrame({"code": ["Q1"]}, geometry=[Point(114.3, 30.5)], crs=4326)
    pyogrio.write_dataframe(extra, gpkg.path, layer="speakers", append=True)
    assert gpkg.revision() != written


def test_point_reads_pages_and_what_a_write_decides_on_never_go_through_gdal(
    gpkg: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only GDAL open that finds no write-ahead log (a writer just folded it back) retries as an
    immutable open, which can read a stale file: a create deciding on it let two creates of one code
    both answer 201 (seen in CI). Rows by code, pages and a write's before-state are read by SQLite."""
    gpkg.upsert("households", _households(["H1", "H2", "H3"]))

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("read through GDAL")

    monkeypatch.setattr(module.pyogrio, "read_dataframe", refused)
    assert gpkg.read("households", codes=["H2", "H1"])["code"].tolist() == ["H1", "H2"]
    assert gpkg.query("households", limit=2, offset=1).frame["code"].tolist() == ["H2", "H3"]
    with pytest.raises(ConflictError):
        gpkg.insert("households", _households(["H3"]))
    gpkg.upsert("households", _households(["H4"]))
    assert gpkg.read("households", codes=["H4"])["code"].tolist() == ["H4"]
    # SQLite compares text up to a NUL; a code with one is another code.
    assert gpkg.read("households", codes=["H1\x00"]).empty
    assert gpkg.query("households", codes=["H1\x00"]).frame.empty


def test_openers_racing_for_a_new_file_make_it_once(tmp_path: Path) -> None:
    """Four threads open one new GeoPackage at once (as API workers starting together): one makes
    it, the others find it made; none renames a copy over a file whose connections are live (the
    write-ahead log of one file paired with another reads as a malformed database)."""
    path = tmp_path / "new.gpkg"
    barrier = threading.Barrier(4)
    seen: list[int] = []
    errors: list[BaseException] = []

    def open_and_write(writer: int) -> None:
        try:
            barrier.wait()
            store = GeoPackageStore(path)
            seen.append(os.stat(path).st_ino)
            store.upsert("speakers", sample_layers()["speakers"].iloc[[0]].assign(code=f"K{writer}"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(seen)) == 1 and os.stat(path).st_ino == seen[0]
    assert sorted(GeoPackageStore(path).read("speakers")["code"]) == ["K0", "K1", "K2", "K3"]
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
