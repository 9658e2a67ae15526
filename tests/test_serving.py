"""The analysis built once per revision: published to a shelf, refreshed street by street after site edits."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pytest
import shapely

from gridmap import serving
from gridmap.analysis import Analysis, analyze, read_inputs
from gridmap.catalogue import LAYER_NAMES
from gridmap.errors import GridmapError
from gridmap.frames import MOST_CHUNKS
from gridmap.localtime import BEIJING
from gridmap.sample import generate, load_sample
from gridmap.serving import Builder, Documents, Edition, LiveAnalysis, Shelf, part_file, start_builder
from gridmap.stores import Store, open_store
from gridmap.visits.service import Visit, log_visit, set_care
from tests.api.conftest import district


def _render(analysis: Analysis, streets: Collection[str] | None = None) -> Documents:
    return Documents({"totals.json": json.dumps(analysis.totals()).encode()})


def _totals(store: Store) -> dict[str, float]:
    return json.loads(json.dumps(analyze({name: store.read(name) for name in LAYER_NAMES}).totals()))


def test_shelf_serves_the_newest_edition(tmp_path: Path) -> None:
    shelf, reader = Shelf(tmp_path), Shelf(tmp_path)  # the builder's and a worker's view of one folder
    assert reader.newest() is None
    shelf.publish("7", Documents({"a.json": b"[1]"}), {"grids": 3})
    first = reader.newest()
    assert first is not None and (first.revision, first.counts, first.read("a.json")) == (
        "7",
        {"grids": 3},
        b"[1]",
    )
    for revision in ("8", "9", "10", "11"):
        shelf.publish(revision, Documents({"a.json": revision.encode()}), {})
    newest = reader.newest()
    assert newest is not None and (newest.revision, newest.read("a.json")) == ("11", b"11")
    assert len(list(tmp_path.glob("e-*"))) == 3  # older editions pruned


def _street_parts(key_bodies: dict[str, bytes], order: list[str]) -> Documents:
    return Documents({}, order={"rows": order}, parts={"rows": key_bodies})


def _inode(edition: Edition, key: str) -> int:
    return (edition.path / "rows" / part_file(key)).stat().st_ino


def test_parts_not_rendered_are_linked_from_the_previous_edition(tmp_path: Path) -> None:
    """An edition renders a street or two; the others are the previous edition's very files (one inode),
    each edition reads its own parts, and pruning an edition never takes a file a newer one shares."""
    shelf = Shelf(tmp_path)
    first = shelf.publish("1", _street_parts({"A": b"a1", "B": b"b1", "街/3": b""}, ["A", "B", "街/3"]), {})
    second = shelf.publish(
        "2", _street_parts({"B": b"b2", "C": b"c2"}, ["C", "A", "B", "街/3"]), {}, previous=first
    )
    assert second.parts("rows") == [b"c2", b"a1", b"b2", b""]
    assert first.parts("rows") == [b"a1", b"b1", b""]  # a reader holding the first still reads the first
    assert _inode(second, "A") == _inode(first, "A") and _inode(second, "B") != _inode(first, "B")
    newest = second
    for revision in "345":  # nothing rendered: every part linked, the first two editions pruned on the way
        newest = shelf.publish(revision, _street_parts({}, ["C", "A", "B", "街/3"]), {}, previous=newest)
    assert not first.path.exists() and not second.path.exists()
    assert Shelf(tmp_path).newest() == newest and newest.parts("rows") == [b"c2", b"a1", b"b2", b""]
    with pytest.raises(GridmapError, match="'D' of rows"):  # a part neither rendered nor published before
        shelf.publish("6", _street_parts({}, ["A", "D"]), {}, previous=newest)
    assert Shelf(tmp_path).newest() == newest and not list(tmp_path.glob(".e-*"))


def test_a_reader_whose_edition_is_pruned_reads_a_newer_one_whole(tmp_path: Path) -> None:
    """A reply is assembled from one edition: pruned under a slow reader, it is read again from the newest."""
    shelf = Shelf(tmp_path)
    shelf.publish("1", _street_parts({"A": b"a1", "B": b"b1"}, ["A", "B"]), {})
    seen: list[str] = []

    def slow(edition: Edition) -> list[bytes]:
        seen.append(edition.revision)
        if len(seen) == 1:  # while this reader is on its first part, three editions are published
            head = (edition.path / "rows" / part_file("A")).read_bytes()
            newest = edition
            for revision, body in (("2", b"b2"), ("3", b"b3"), ("4", b"b4")):
                newest = shelf.publish(revision, _street_parts({"B": body}, ["A", "B"]), {}, previous=newest)
            return [head, *edition.parts("rows")[1:]]
        return edition.parts("rows")

    edition, parts = Shelf(tmp_path).reading(slow)
    assert seen == ["1", "4"] and (edition.revision, parts) == ("4", [b"a1", b"b4"])


def test_one_builder_holds_the_lock(tmp_path: Path) -> None:
    shelf, stop = Shelf(tmp_path), threading.Event()
    with shelf.builder_lock(threading.Event()) as first:
        stop.set()
        with shelf.builder_lock(stop) as second:
            assert (first, second) == (True, False)
    with shelf.builder_lock(threading.Event()) as again:
        assert again


def test_builder_publishes_each_revision_and_redoes_only_reached_streets(
    store: Store, tmp_path: Path
) -> None:
    load_sample(store)
    builder = Builder(store, Shelf(tmp_path), _render)
    full = builder.step()
    assert full is not None and full.streets is None
    assert full.revision == store.revision()
    assert full.counts == store.counts()
    assert json.loads(full.read("totals.json")) == _totals(store)
    assert builder.step() is None  # nothing changed

    speaker = store.read("speakers").iloc[[0]]
    point = speaker.geometry.iloc[0]
    store.upsert("speakers", speaker.set_geometry([shapely.Point(point.x + 0.002, point.y)], crs=speaker.crs))
    moved = builder.step()
    assert moved is not None and moved.streets == sorted(store.read("streets")["code"])[:1]
    assert moved.revision == store.revision() != full.revision
    assert json.loads(moved.read("totals.json")) == pytest.approx(_totals(store))

    grid = store.read("grids").iloc[[0]].assign(party_branch=None)
    store.upsert("grids", grid)
    redone = builder.step()
    assert redone is not None and redone.streets == sorted(store.read("streets")["code"])[:1]  # its street
    assert json.loads(redone.read("totals.json")) == _totals(store)


def test_a_household_edit_redoes_its_street_from_the_edited_layer(store: Store) -> None:
    """A household moved to another building and a new center household: the builder's frames and
    figures equal an analysis of the store as it now is, and only their street is redone."""
    store.replace_many(generate(scale=2))  # two streets
    live = LiveAnalysis(store)
    live.refresh()
    first = sorted(store.read("streets")["code"])[0]
    households = store.read("households")
    buildings = store.read("buildings")
    moved = households.iloc[[0, 1]].copy()
    assert moved["grid_code"].str.startswith(first).all()
    moved["building_code"] = [buildings["code"][buildings["code"].str.startswith(first)].iloc[-1], None]
    moved["center_household"] = [False, True]
    store.upsert("households", moved)
    done = live.refresh()
    assert done is not None and done.streets == [first]
    _equals_a_fresh_analysis(live, store)

    # One household registered, one removed: the live frames gain and lose a row.
    born = households.iloc[[5]].assign(code="NEW-HOUSEHOLD", center_household=True)
    store.upsert("households", born)
    assert store.delete("households", [households["code"].iloc[6]]) == 1
    done = live.refresh()
    assert done is not None and done.streets == [first]
    assert "NEW-HOUSEHOLD" in set(live.frames["households"]["code"])
    assert len(live.frames["households"]) == len(households)
    _equals_a_fresh_analysis(live, store)


def _equals_a_fresh_analysis(live: LiveAnalysis, store: Store, on: dt.date | None = None) -> None:
    want = analyze(read_inputs(store, on=on))
    assert live.analysis is not None
    for name in ("grids", "communities", "streets"):
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(live.analysis, name)).drop(columns="geometry"),
            pd.DataFrame(getattr(want, name)).drop(columns="geometry"),
        )
    got = live.analysis.households.set_index("code").reindex(want.households["code"])
    for column in ("grid_code", "speaker_covered", "service_covered", "linked_to"):
        assert (
            got[column].astype(object).fillna("-").tolist()
            == want.households[column].astype(object).fillna("-").tolist()
        ), column
    centers = live.analysis.centers.set_index("code").reindex(want.centers["code"]).reset_index()
    pd.testing.assert_frame_equal(centers, want.centers, check_dtype=False)


def _visit(store: Store, key: str, household: str, day: dt.date) -> None:
    when = dt.datetime.combine(day, dt.time(9), BEIJING)
    assert log_visit(store, Visit(key, household, "张三", when))[1]


def _visit_shares(live: LiveAnalysis) -> dict[str, float]:
    assert live.analysis is not None
    grids = live.analysis.grids.set_index("code")["visit_share"]
    return {code: float(share) for code, share in grids.dropna().items()}


def test_the_live_analysis_follows_visits_care_party_registers_and_the_day(store: Store) -> None:
    """The books move no layer revision, yet the analysis reads them: a logged visit, a care change
    and a party register edit each reach the figures, and so does the Beijing day turning (an
    ordinary household visited on 1 June is due by 1 December: overdue on the 2nd)."""
    store.replace_many(district())  # H1 in grid G1 (community C1), H2 in G3 (C2), street S1
    _visit(store, "k1", "H1", dt.date(2026, 6, 1))
    _visit(store, "k2", "H2", dt.date(2026, 11, 1))
    today = [dt.date(2026, 12, 1)]
    live = LiveAnalysis(store, today=lambda: today[0])
    assert live.refresh() is not None and _visit_shares(live) == {"G1": 1.0, "G3": 1.0}
    assert live.refresh() is None  # nothing moved

    today[0] = dt.date(2026, 12, 2)
    done = live.refresh()
    assert done is not None and done.streets == ["S1"]
    assert _visit_shares(live) == {"G1": 0.0, "G3": 1.0}
    _equals_a_fresh_analysis(live, store, today[0])

    _visit(store, "k3", "H1", dt.date(2026, 12, 2))
    done = live.refresh()
    assert done is not None and done.streets == ["S1"] and _visit_shares(live) == {"G1": 1.0, "G3": 1.0}
    set_care(store, "H2", ["elderly_alone"], "admin")  # monthly: H2's 1 November visit is late now
    done = live.refresh()
    assert done is not None and done.streets == ["S1"] and _visit_shares(live) == {"G1": 1.0, "G3": 0.0}
    assert live.refresh() is None
    _equals_a_fresh_analysis(live, store, today[0])

    assert live.analysis is not None and "party_links" not in live.frames
    store.party_book().set_links(["H1"], [{"household_code": "H1", "center_code": "H1"}])
    assert live.refresh() is not None  # a register appeared: read again whole
    assert live.frames["party_links"].values.tolist() == [["H1", "H1"]]
    store.party_book().set_links(["H1"], [])  # the register emptied: the input is gone
    assert live.refresh() is not None and "party_links" not in live.frames
    _equals_a_fresh_analysis(live, store, today[0])


def test_whole_frames_follow_a_site_edit_street_by_street(store: Store) -> None:
    """What maps and action lists read (whole layers) catches up with a moved speaker by its street only,
    and equals an analysis of the store as it now is."""
    load_sample(store)
    live = LiveAnalysis(store, narrow=False)
    first = live.refresh()
    assert first is not None and first.streets is None
    assert "address" in live.frames["households"].columns  # whole layers, not the analysis' fields
    assert live.refresh() is None
    analysed = live.analysis

    speaker = store.read("speakers").iloc[[0]]
    point = speaker.geometry.iloc[0]
    store.upsert("speakers", speaker.set_geometry([shapely.Point(point.x + 0.002, point.y)], crs=speaker.crs))
    moved = live.refresh()
    assert moved is not None and moved.streets == sorted(store.read("streets")["code"])[:1]
    assert live.analysis is not analysed and moved.revision == store.revision()
    assert live.frames["speakers"].geometry.iloc[0].x == pytest.approx(point.x + 0.002)
    assert json.loads(json.dumps(live.analysis.totals())) == pytest.approx(_totals(store))


def test_builder_process_publishes_the_store(tmp_path: Path) -> None:
    """`start_builder` as `gridmap serve --workers N` uses it: a process of its own that builds the shelf."""
    url = str(tmp_path / "district.gpkg")
    with open_store(url) as store:
        load_sample(store)
    shelf = Shelf(tmp_path / "shelf")
    handle = start_builder(url, shelf, "tests.test_serving:_render", in_process=False)
    try:
        assert handle.process is not None
        deadline = time.monotonic() + 120
        while shelf.newest() is None and time.monotonic() < deadline and handle.process.poll() is None:
            time.sleep(0.2)
        edition = shelf.newest()
        assert edition is not None and json.loads(edition.read("totals.json"))["households"] == 24_451
    finally:
        handle.stop()
    assert handle.process.poll() is not None


def test_a_failed_refresh_starts_again_from_the_whole_store(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site refresh failing part way leaves no half-updated frames: the next refresh is whole and right."""
    load_sample(store)
    live = LiveAnalysis(store)
    live.refresh()
    speaker = store.read("speakers").iloc[[0]]
    point = speaker.geometry.iloc[0]
    store.upsert("speakers", speaker.set_geometry([shapely.Point(point.x + 0.002, point.y)], crs=speaker.crs))

    def broken(frames: dict[str, object], *args: object, **kwargs: object) -> None:
        frames["speakers"] = store.read("speakers")  # as update does, before it fails
        raise RuntimeError("refresh interrupted")

    monkeypatch.setattr(serving, "update", broken)
    with pytest.raises(RuntimeError):
        live.refresh()
    monkeypatch.undo()
    again = live.refresh()
    assert again is not None and again.streets is None and again.revision == store.revision()
    assert json.loads(json.dumps(live.analysis.totals())) == _totals(store)


def _chunks(frame: pd.DataFrame) -> int:
    """The most Arrow chunks any column of `frame` is held in (0 when none is Arrow-held)."""
    counts = [getattr(frame[name].array, "_pa_array", None) for name in frame.columns]
    return max((c.num_chunks for c in counts if isinstance(c, pa.ChunkedArray)), default=0)


def _held(live: LiveAnalysis) -> int:
    assert live.analysis is not None
    tables = [getattr(live.analysis, name) for name in _TABLES]
    return max(_chunks(frame) for frame in [*tables, *live.frames.values(), *live.analysis.frames.values()])


def _rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


EDITS = 60
_TABLES = ("households", "grids", "communities", "streets", "uncovered_areas", "findings", "gaps", "centers")
_TABLES += ("unassigned",)


@pytest.mark.timing
def test_sustained_edits_keep_the_live_analysis_bounded(store: Store) -> None:
    """Sixty edits one after the other (households registered, moved, renamed; a few landing
    together before one refresh): the tables stay in a few Arrow chunks, memory and refresh time
    stay flat, and the analysis caught up equals a fresh one."""
    load_sample(store)
    live = LiveAnalysis(store)
    live.refresh()
    households = store.read("households")
    seconds: list[float] = []
    memory: list[float] = []
    for i in range(EDITS):
        row = households.iloc[[i * 37 % len(households)]]
        point = row.geometry.iloc[0]
        moved = row.set_geometry([shapely.Point(point.x + 1e-5 * (i % 5 - 2), point.y)], crs=row.crs)
        store.insert("households", moved.assign(code=f"BOUND{i:04d}"))
        if i % 10 == 9:  # several revisions land while no refresh runs: one refresh takes them all
            store.upsert("households", moved.assign(address=f"改址 {i}"))
            store.upsert("households", row)
        started = time.perf_counter()
        done = live.refresh()
        seconds.append(time.perf_counter() - started)
        memory.append(_rss_mib())
        assert done is not None and done.revision == store.revision(), i
        assert _held(live) <= MOST_CHUNKS, i
    assert len(live.frames["households"]) == len(households) + EDITS
    early, late = sorted(seconds[:10])[5], sorted(seconds[-10:])[5]
    assert late < 3 * early + 1.0, (early, late)
    assert max(memory[10:]) - memory[10] < 150, memory
    _equals_a_fresh_analysis(live, store)


def _slow_render(analysis: Analysis, streets: Collection[str] | None = None) -> Documents:
    """A publish that takes its time: a builder busy with a refresh of a big city."""
    time.sleep(600)
    return _render(analysis, streets)


def test_a_builder_whose_worker_died_exits_even_mid_refresh(tmp_path: Path) -> None:
    """The worker that started a builder is killed while the builder is busy: the builder exits at
    once instead of finishing (and growing) for nobody."""
    url = str(tmp_path / "district.gpkg")
    with open_store(url) as store:
        store.replace_many(generate(scale=1))
    shelf = tmp_path / "shelf"
    script = (
        "import os, subprocess, sys, time;"
        f"p = subprocess.Popen([sys.executable, '-m', 'gridmap.serving', {str(shelf)!r}, "
        "'tests.test_serving:_slow_render', str(os.getpid())]);"
        "print(p.pid, flush=True); time.sleep(600)"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        env={**os.environ, "GRIDMAP_STORE": url},
        text=True,
    )
    assert worker.stdout is not None
    builder = psutil.Process(int(worker.stdout.readline()))
    try:
        deadline = time.monotonic() + 120
        while not (shelf / "builder.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(5)  # analysing, then asleep in the render
        assert builder.is_running()
        worker.kill()
        worker.wait()
        builder.wait(timeout=15)
    finally:
        worker.kill()
        worker.stdout.close()
        if builder.is_running():
            builder.kill()
