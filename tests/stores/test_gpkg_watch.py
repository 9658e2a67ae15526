"""A GeoPackage watched by `stat`: answers kept while the file stays as it was, never past a write,
whoever writes (GDAL in another process, the sqlite3 library, gridmap), however soon after a look."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridmap.serving import LiveAnalysis
from gridmap.stores import Store, gpkg_watch, open_store
from gridmap.stores.gpkg_watch import Watch
from tests.stored import prefilled
from tests.stores.conftest import sample_layers
from tests.stores.test_external_edits import GDAL_WRITER, SYSTEM_PYTHON, _has_gdal_bindings, sql_writer

AGED = gpkg_watch.MARGIN_SECONDS + 0.2  # how long a file is left alone for its times to count as old


class Counted:
    """A question whose every asking is counted; answers `value`."""

    def __init__(self, value: object = "r1") -> None:
        self.value, self.asked = value, 0

    def __call__(self) -> object:
        self.asked += 1
        return self.value


@pytest.fixture
def watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Watch]:
    """A file and its watch; times count as old after 50 ms, so the tests need not wait a second."""
    monkeypatch.setattr(gpkg_watch, "MARGIN_SECONDS", 0.05)
    path = tmp_path / "store.gpkg"
    path.write_bytes(b"x" * 4096)
    time.sleep(0.1)
    return path, Watch(path)


def test_an_answer_is_kept_while_the_file_stays_as_it_was(watched: tuple[Path, Watch]) -> None:
    _path, watch = watched
    ask = Counted()
    assert [watch.answer("revision", ask) for _ in range(5)] == ["r1"] * 5
    assert ask.asked == 1


def test_a_write_is_seen_by_the_next_look(watched: tuple[Path, Watch]) -> None:
    path, watch = watched
    ask = Counted()
    watch.answer("revision", ask)
    with path.open("r+b") as f:  # same size
        f.write(b"y")
    ask.value = "r2"
    assert watch.answer("revision", ask) == "r2"


def test_a_rewrite_of_the_same_size_with_its_old_time_put_back_is_seen(watched: tuple[Path, Watch]) -> None:
    path, watch = watched
    ask = Counted()
    before = path.stat()
    watch.answer("revision", ask)
    time.sleep(0.02)
    with path.open("r+b") as f:
        f.write(b"y")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `touch -r` or `cp -p` leave it
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert path.stat().st_size == before.st_size
    watch.answer("revision", ask)
    assert ask.asked == 2  # the change time moved


def test_nothing_is_kept_while_the_files_times_are_recent(watched: tuple[Path, Watch]) -> None:
    path, watch = watched
    ask = Counted()
    path.write_bytes(b"z" * 4096)  # its times now: a write a tick later could keep them
    watch.answer("revision", ask)
    watch.answer("revision", ask)
    assert ask.asked == 2
    time.sleep(0.1)
    watch.answer("revision", ask)
    watch.answer("revision", ask)
    assert ask.asked == 3


def test_an_empty_write_ahead_log_is_no_change_and_a_filled_one_is(watched: tuple[Path, Watch]) -> None:
    path, watch = watched
    wal = Path(f"{path}-wal")
    ask = Counted()
    watch.answer("revision", ask)
    wal.touch()  # a reader opening the file alone makes one; the last to close removes it
    watch.answer("revision", ask)
    wal.unlink()
    watch.answer("revision", ask)
    assert ask.asked == 1
    wal.write_bytes(b"frame" * 100)  # a commit
    watch.answer("revision", ask)
    assert ask.asked == 2


def test_every_answer_is_asked_again_after_full_seconds(
    watched: tuple[Path, Watch], monkeypatch: pytest.MonkeyPatch
) -> None:
    _path, watch = watched
    ask = Counted()
    monkeypatch.setattr(gpkg_watch, "FULL_SECONDS", 0.05)
    watch.answer("revision", ask)
    watch.answer("revision", ask)
    time.sleep(0.06)
    watch.answer("revision", ask)
    assert ask.asked == 2


# -- the store, watched as the builder watches it ---------------------------------------------


class GdalEditor:
    """GDAL in a process of its own, the file kept open as QGIS keeps it; one transaction per edit."""

    def __init__(self, path: str) -> None:
        if not _has_gdal_bindings():
            pytest.fail("GDAL's Python bindings are missing: scripts/system-deps.sh installs python3-gdal")
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(GDAL_WRITER), path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def __call__(self, edit: dict[str, object]) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(edit) + "\n")
        self.process.stdin.flush()
        assert json.loads(self.process.stdout.readline()) == {"ok": True}

    def close(self) -> None:
        self.process.communicate(timeout=30)


@pytest.fixture
def sample(store_url: str) -> Iterator[Store]:
    prefilled(store_url, "stores_sample", lambda empty: empty.replace_many(sample_layers()))
    with open_store(store_url) as store:
        yield store


def counted_revisions(store: Store, monkeypatch: pytest.MonkeyPatch) -> Counted:
    """Counts the queries of a GeoPackage's revision from now on."""
    asked = Counted()
    monkeypatch.setattr(store, "_revision", lambda: (asked(), type(store)._revision(store))[1])
    return asked


def test_an_edit_by_another_process_just_after_an_idle_look_is_in_the_next_refresh(
    sample: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the builder does between polls: `refresh` finds nothing, another process writes at once, and
    the next `refresh` (one poll later) has the edit and its derived grid."""
    live = LiveAnalysis(sample)
    assert live.refresh() is not None
    gpkg = store_url.endswith(".gpkg")
    editor = GdalEditor(store_url) if gpkg else None
    sql = None if gpkg else sql_writer(store_url)
    try:
        time.sleep(AGED)  # the file's times are old: the looks below are answered by `stat`
        assert live.refresh() is None
        if gpkg:
            asked = counted_revisions(sample, monkeypatch)
            assert live.refresh() is None
            assert asked.asked == 0
        edit = {"op": "move", "layer": "speakers", "code": "K2", "wkt": "POINT (116.38 39.95)"}  # G1 to G2
        if editor is not None:
            editor(edit)
        else:
            assert sql is not None and sql([edit]) == [None]
        assert live.refresh() is not None
        assert live.frames["speakers"].set_index("code").loc["K2", "grid_code"] == "G2"
    finally:
        if editor is not None:
            editor.close()


SQLITE_EDITOR = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
    conn.create_function(name, 1, lambda _: 0)  # compiles the R-tree triggers; a name alone never calls them
for line in sys.stdin:
    for statement in line.split(";"):
        if statement.strip():
            conn.execute(statement).fetchall()
    print("done", flush=True)
conn.close()  # the last connection to close folds the log into the file
"""


class SqliteEditor:
    """Python's sqlite3 in a process of its own (as the sqlite3 shell writes): one line of SQL per call."""

    def __init__(self, path: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SQLITE_EDITOR, path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __call__(self, sql: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(sql + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "done"

    def close(self) -> None:
        self.process.communicate(timeout=30)


@pytest.fixture
def gpkg_sample(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    url = prefilled(
        str(tmp_path / "store.gpkg"), "stores_sample", lambda empty: empty.replace_many(sample_layers())
    )
    with open_store(url) as store:
        yield store, url


def test_a_commit_folded_into_the_file_at_once_keeping_its_size_is_seen(
    gpkg_sample: tuple[Store, str],
) -> None:
    store, url = gpkg_sample
    editor = SqliteEditor(url)
    wal, size = Path(f"{url}-wal"), Path(url).stat().st_size
    try:
        time.sleep(AGED)
        before = store.revision()
        editor("UPDATE speakers SET name = 'K1b' WHERE code = 'K1'; PRAGMA wal_checkpoint(TRUNCATE)")
        assert Path(url).stat().st_size == size
        assert not wal.exists() or wal.stat().st_size == 0  # the log holds nothing: only the file moved
        assert store.revision() != before
    finally:
        editor.close()
    assert store.read("speakers", codes=["K1"]).loc[0, "name"] == "K1b"


def test_a_reader_folding_the_log_on_close_brings_no_new_revision(
    gpkg_sample: tuple[Store, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that closes last checkpoints the log into the file: the files move, the content does not;
    the watch asks the store once, and the analysis is not redone."""
    store, url = gpkg_sample
    live = LiveAnalysis(store)
    assert live.refresh() is not None
    reader = SqliteEditor(url)
    reader(
        "BEGIN; SELECT count(*) FROM speakers"
    )  # a read snapshot held open: gridmap's commit stays in the log
    frame = store.read("speakers", codes=["K1"])
    frame.loc[0, "name"] = "K1 renamed"
    store.upsert("speakers", frame)
    wal = Path(f"{url}-wal")
    assert wal.stat().st_size > 0
    assert live.refresh() is not None  # the edit
    time.sleep(AGED)
    assert live.refresh() is None  # asks, and keeps the answer: the files' times are old now
    asked = counted_revisions(store, monkeypatch)
    assert live.refresh() is None
    assert asked.asked == 0
    reader("COMMIT")
    reader.close()  # the last connection: folds the log into the file
    assert not wal.exists() or wal.stat().st_size == 0
    assert live.refresh() is None  # no new revision
    assert asked.asked == 1  # asked once, since the files moved
