"""gridmap's own big writes set the store's change triggers aside (`Store.triggers_aside`) and do
their work themselves: the result is the same as through the triggers, and a writer that is not
gridmap, arriving meanwhile, waits and still meets the triggers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

import gridmap.stores.geopackage as geopackage
import gridmap.stores.postgis as postgis
from gridmap.ingest import import_file
from gridmap.stores import Store, open_store
from gridmap.stores.base import TRIGGERS_ASIDE_FROM_ROWS
from tests.conftest import emptied
from tests.stores.conftest import sample_layers
from tests.stores.test_external_edits import gdal_writer, sql_writer

ROWS = TRIGGERS_ASIDE_FROM_ROWS + 150


def _appended(path: Path) -> Path:
    """New households without grid codes (some in building B1, the rest placed by their point) and
    the sample's H2 moved into the second grid: an append that inserts, updates and derives."""
    codes = [f"HX{i:05d}" for i in range(ROWS)]
    in_b1 = [i % 3 == 0 for i in range(ROWS)]
    frame = gpd.GeoDataFrame(
        {
            "code": [*codes, "H2"],
            "address": [f"史家胡同{i}号" for i in range(ROWS)] + ["新址"],
            "building_code": ["B1" if b else None for b in in_b1] + [None],
            "size": [i % 5 + 1 for i in range(ROWS)] + [2],
        },
        geometry=[
            Point(116.3205, 39.9205) if b else Point(116.301 + (i % 90) * 0.001, 39.95)
            for i, b in enumerate(in_b1)
        ]
        + [Point(116.38, 39.95)],
        crs="EPSG:4326",
    )
    out = path / "append.gpkg"
    pyogrio.write_dataframe(frame, out, layer="households")
    return out


@contextmanager
def _counting_asides(monkeypatch: pytest.MonkeyPatch, store: Store) -> Iterator[list[bool]]:
    """What each `triggers_aside` of the store yielded while the block ran."""
    seen: list[bool] = []
    original = type(store).triggers_aside

    @contextmanager
    def counted(self: Store, layer: str, within: Any = None) -> Iterator[bool]:
        with original(self, layer, within) as aside:
            seen.append(aside)
            yield aside

    monkeypatch.setattr(type(store), "triggers_aside", counted)
    yield seen


def _append_result(store: Store, path: Path) -> dict[str, Any]:
    """The bulk append's revision step, counts, history rows, stored rows and settled state."""
    store.replace_many(sample_layers())
    before = int(store.log_position() or 0)
    import_file(store, "households", path, mode="append")
    after = int(store.log_position() or 0)
    store.settle()
    revision = store.history(limit=1)[0]
    old, new = store._revision_rows("households", revision.id)  # type: ignore[attr-defined]
    return {
        "revisions": after - before,
        "settled": int(store.log_position() or 0) - after,
        "author": revision.author,
        "counts": revision.counts,
        "old": _plain(old.drop(columns="revision")),
        "new": _plain(new.drop(columns="revision")),
        "rows": _plain(store.read("households")),
    }


def _plain(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Rows in code order with WKT for geometry and None for every missing value: comparable with ==."""
    out = pd.DataFrame(frame.sort_values("code").to_wkt()).reset_index(drop=True)
    return out.astype(object).where(out.notna(), None)


def test_a_bulk_append_is_the_same_with_the_triggers_set_aside(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _appended(tmp_path)
    results = []
    for fast in (False, True):
        url = str(tmp_path / f"{fast}.gpkg") if store_url.endswith(".gpkg") else emptied(store_url)
        with monkeypatch.context() as patch:
            for module in (geopackage, postgis):
                patch.setattr(module, "TRIGGERS_ASIDE_FROM_ROWS", ROWS if fast else 10**9)
            with open_store(url) as store, _counting_asides(patch, store) as asides:
                results.append(_append_result(store, path))
            assert asides == ([True] if fast else [])
    slow, quick = results
    for key in ("old", "new", "rows"):
        pd.testing.assert_frame_equal(quick.pop(key), slow[key])
    assert quick == {key: slow[key] for key in quick}
    assert slow["revisions"] == 1 and slow["settled"] == 0  # nothing left for the triggers to record
    assert slow["counts"] == {"households": {"inserted": ROWS, "updated": 1, "deleted": 0}}
    assert slow["old"]["code"].tolist() == ["H2"]  # the moved household's old values are history
    grids = slow["rows"].set_index("code")["grid_code"]
    assert grids["H2"] == "G2" and grids["HX00000"] == "G1"  # moved; in building B1
    assert grids["HX00001"] == "G1" and grids["HX00089"] == "G2"  # by their points


def _paused_inside(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str
) -> tuple[threading.Event, threading.Event]:
    """Make the store's bulk write stop inside its transaction (triggers aside) until told to go on."""
    inside, go = threading.Event(), threading.Event()
    original: Callable[..., None] = getattr(module, name)

    def paused(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        inside.set()
        assert go.wait(30)

    monkeypatch.setattr(module, name, paused)
    return inside, go


def test_an_external_writer_during_a_bulk_write_meets_the_triggers(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(store_url) as store:
        store.replace_many(sample_layers())
    gpkg = store_url.endswith(".gpkg")
    inside, go = _paused_inside(
        monkeypatch, geopackage if gpkg else postgis, "_upsert_rows" if gpkg else "_apply_rows"
    )
    write = gdal_writer(store_url) if gpkg else sql_writer(store_url)
    path = _appended(tmp_path)
    answers: list[list[str | None]] = []
    with open_store(store_url) as store, _counting_asides(monkeypatch, store) as asides:
        bulk = threading.Thread(
            target=import_file, args=(store, "households", path), kwargs={"mode": "append"}
        )
        bulk.start()
        assert inside.wait(60)
        edit = {"op": "move", "layer": "households", "code": "H2", "wkt": "POINT (116.31 39.97)"}
        external = threading.Thread(target=lambda: answers.append(write([edit])))
        external.start()
        external.join(1.0)
        assert external.is_alive()  # waiting for gridmap's write, not writing beside it
        go.set()
        bulk.join(60)
        external.join(60)
        assert asides == [True]
        assert answers == [[None]]  # the external commit waited and succeeded
        store.settle()
        moved = store.read("households", codes=["H2"]).iloc[0]
        assert moved["grid_code"] == "G1"  # derived for the external move (gridmap's append put it in G2)
        external = [r for r in store.history(layer="households", code="H2") if "external edit" in r.author]
        assert external  # recorded by the triggers, as the external writer's own revision
        change = store.changes(external[0].id, layer="households", code="H2")
        assert [c.op for c in change.changes] == ["updated"]
        assert change.changes[0].before is not None
        assert change.changes[0].before["geometry"] == "POINT (116.38 39.95)"  # gridmap's append, kept
        assert store.read("households", codes=["HX00000"]).iloc[0]["grid_code"] == "G1"


@pytest.mark.postgis
def test_an_external_writer_already_queued_keeps_the_triggers_and_commits(
    postgis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A psql UPDATE queued on the layer behind gridmap's writers' lock holds the layer's lock
    already: gridmap's write does not wait for it (a deadlock PostgreSQL would end by failing
    the external writer) but keeps the triggers, and both commit."""
    url = emptied(postgis_url)
    with open_store(url) as store:
        store.replace_many(sample_layers())
    inside, go = _paused_inside(monkeypatch, postgis, "_supersede")  # writers' lock held, nothing aside
    path = _appended(tmp_path)
    answers: list[list[str | None]] = []
    with open_store(url) as store, _counting_asides(monkeypatch, store) as asides:
        bulk = threading.Thread(
            target=import_file, args=(store, "households", path), kwargs={"mode": "append"}
        )
        bulk.start()
        assert inside.wait(60)
        edit = {"op": "set", "layer": "households", "code": "H3", "fields": {"contact_name": "赵六"}}
        external = threading.Thread(target=lambda: answers.append(sql_writer(url)([edit])))
        external.start()
        external.join(1.0)
        assert external.is_alive()
        go.set()
        bulk.join(60)
        external.join(60)
        assert asides == [False]
        assert answers == [[None]]
        assert store.read("households", codes=["H3"]).iloc[0]["contact_name"] == "赵六"
        assert store.read("households", codes=["HX00000"]).iloc[0]["grid_code"] == "G1"
        authors = [r.author for r in store.history(layer="households", code="H3")]
        assert "external edit" in authors[0]
