"""The analysis built once per revision: published to a shelf, refreshed street by street after site edits."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import shapely

from gridmap import serving
from gridmap.analysis import Analysis, analyze, read_inputs
from gridmap.catalogue import LAYER_NAMES
from gridmap.sample import generate, load_sample
from gridmap.serving import Builder, LiveAnalysis, Shelf, start_builder
from gridmap.stores import Store, open_store


def _render(analysis: Analysis) -> dict[str, bytes]:
    return {"totals.json": json.dumps(analysis.totals()).encode()}


def _totals(store: Store) -> dict[str, float]:
    return json.loads(json.dumps(analyze({name: store.read(name) for name in LAYER_NAMES}).totals()))


def test_shelf_serves_the_newest_edition(tmp_path: Path) -> None:
    shelf, reader = Shelf(tmp_path), Shelf(tmp_path)  # the builder's and a worker's view of one folder
    assert reader.newest() is None
    shelf.publish("7", {"a.json": b"[1]"}, {"grids": 3})
    first = reader.newest()
    assert first is not None and (first.revision, first.counts, first.read("a.json")) == (
        "7",
        {"grids": 3},
        b"[1]",
    )
    for revision in ("8", "9", "10", "11"):
        shelf.publish(revision, {"a.json": revision.encode()}, {})
    newest = reader.newest()
    assert newest is not None and (newest.revision, newest.read("a.json")) == ("11", b"11")
    assert len(list(tmp_path.glob("e-*"))) == 3  # older editions pruned


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


def _equals_a_fresh_analysis(live: LiveAnalysis, store: Store) -> None:
    want = analyze(read_inputs(store))
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
