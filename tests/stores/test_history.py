"""History contract on both stores: one revision per write with exact before/after, revert, conflicts,
boundary versions across a split, a merge and a moved boundary."""

from __future__ import annotations

import threading

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gridmap.errors import RevertConflictError, StoreError, ValidationError
from gridmap.history import acting_as, visible
from gridmap.privacy import Role
from gridmap.stores import Store, open_store

from .conftest import sample_layers


def _load(store: Store) -> int:
    store.replace_many(sample_layers())
    return store.history(limit=1)[0].id


def _speaker(code: str, x: float, name: str = "喇叭") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [code], "name": [name]}, geometry=[Point(x, 39.95)], crs=4326)


def test_every_kind_of_write_is_one_revision_with_before_and_after(store: Store) -> None:
    first = _load(store)
    with acting_as("张编辑", "editor", "PUT /collections/speakers/items/K2"):
        store.upsert("speakers", _speaker("K2", 116.31, "改名"))
    store.upsert("speakers", _speaker("K9", 116.32))
    store.delete("speakers", ["K1"])
    store.replace("speakers", _speaker("K9", 116.33))
    revisions = store.history(layer="speakers")
    assert [r.id for r in revisions][:5] == [first + 4, first + 3, first + 2, first + 1, first]
    update, insert, delete, replace = (store.changes(first + i) for i in (1, 2, 3, 4))
    assert (update.author, update.role, update.command) == (
        "张编辑",
        "editor",
        "PUT /collections/speakers/items/K2",
    )
    assert update.counts == {"speakers": {"inserted": 0, "updated": 1, "deleted": 0}}
    (change,) = update.changes
    assert change.op == "updated" and change.before is not None and change.after is not None
    assert (change.before["name"], change.after["name"]) == ("村口大喇叭", "改名")
    assert change.after["geometry"] == "POINT (116.31 39.95)"
    assert [(c.code, c.op) for c in insert.changes] == [("K9", "inserted")]
    assert [(c.code, c.op, c.after) for c in delete.changes] == [("K1", "deleted", None)]
    assert {(c.code, c.op) for c in replace.changes} == {("K2", "deleted"), ("K9", "updated")}


def test_the_log_tells_what_writes_since_a_position_touched(store: Store) -> None:
    """What a server catching up reads: the codes each layer's writes touched, not the layers."""
    _load(store)
    position = store.log_position()
    assert position is not None and store.touched_since(position) == {}
    store.upsert("speakers", _speaker("K2", 116.31, "改名"))
    store.upsert("speakers", _speaker("K9", 116.32))
    assert store.delete("households", ["H1"]) == 1
    assert store.touched_since(position) == {"speakers": ["K2", "K9"], "households": ["H1"]}
    assert store.touched_since(position + 2) == {"households": ["H1"]}
    assert store.touched_since(position, most=2) is None  # three features: reading whole is cheaper
    assert store.log_position() == position + 3


def test_revert_restores_and_is_itself_revertible(store: Store) -> None:
    _load(store)
    before = store.read("households")
    store.delete("households", ["H1", "H7"])
    deleting = store.history(limit=1)[0].id
    undo = store.revert(deleting)
    assert store.read("households").equals(before)
    assert store.changes(undo).reverts == deleting
    store.revert(undo)
    assert sorted(store.read("households")["code"]) == sorted(set(before["code"]) - {"H1", "H7"})


def test_revert_is_refused_when_a_feature_changed_since(store: Store) -> None:
    _load(store)
    store.upsert("speakers", _speaker("K2", 116.31, "第一次"))
    first = store.history(limit=1)[0].id
    store.upsert("speakers", _speaker("K2", 116.31, "第二次"))
    second = store.history(limit=1)[0].id
    with pytest.raises(RevertConflictError, match=f"K2 \\(revision {second}\\)"):
        store.revert(first)
    assert store.read("speakers", codes=["K2"])["name"].tolist() == ["第二次"]
    store.revert(second)
    store.revert(first)
    assert store.read("speakers", codes=["K2"])["name"].tolist() == ["村口大喇叭"]


def test_revert_checks_parents_like_an_import(store: Store) -> None:
    _load(store)
    store.delete("households", ["H1"])
    gone = store.history(limit=1)[0].id
    store.delete("buildings", ["B1"])
    with pytest.raises(ValidationError, match="buildings B1 no longer exists"):
        store.revert(gone)


def test_a_households_history_answers_a_data_subject_request(store: Store) -> None:
    first = _load(store)
    frame = store.read("households", codes=["H1"]).assign(contact_phone="13812345678")
    store.upsert("households", frame)
    found = [r for r in store.history(layer="households", code="H1") if r.id >= first]
    assert len(found) == 2  # loaded, then the phone added
    latest = store.changes(found[0].id, layer="households", code="H1")
    assert latest.changes[0].after is not None
    assert latest.changes[0].after["contact_phone"] == "13812345678"
    shown = visible(latest.changes, Role.VIEWER)[0]
    assert shown.after is not None and shown.after["contact_phone"] == "138****5678"
    assert shown.before is not None and shown.before["contact_phone"] is None
    assert "contact_phone" not in (visible(latest.changes, Role.ANONYMOUS)[0].after or {})


def _grids(codes_boxes: dict[str, tuple[float, float, float, float]], valid_from: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": list(codes_boxes),
            "name": [f"网格{c}" for c in codes_boxes],
            "community_code": ["C1"] * len(codes_boxes),
            "valid_from": [valid_from] * len(codes_boxes),
        },
        geometry=[box(*b) for b in codes_boxes.values()],
        crs=4326,
    )


def test_boundary_versions_across_a_split_a_merge_and_a_moved_boundary(store: Store) -> None:
    _load(store)
    store.replace("grids", _grids({"X1": (0, 0, 2, 1), "X2": (2, 0, 4, 1)}, "2020-01-01"))
    store.replace("grids", _split())
    store.replace("grids", _merged())
    store.replace("grids", _moved())

    def codes(day: str) -> list[str]:
        # (the session's PostGIS store also remembers the sample grids G1, G2 of earlier tests)
        return [c for c in store.read_as_of("grids", day)["code"] if c.startswith("X")]

    assert codes("2019-06-01") == []
    assert {"G1", "G2"} <= set(store.read_as_of("grids", "2019-06-01")["code"])
    assert codes("2021-06-01") == ["X1", "X2"]
    assert codes("2022-06-01") == ["X1A", "X1B", "X2"]
    assert codes("2023-06-01") == ["X1AB", "X2"]
    as_of = store.read_as_of("grids", "2023-06-01").set_index("code")
    assert as_of.loc["X2", "valid_to"] == "2024-01-01" and as_of.loc["X1AB", "valid_from"] == "2023-01-01"
    assert store.read_as_of("grids", "2024-06-01").set_index("code").loc["X2"].geometry.bounds == (
        2.5,
        0.0,
        4.0,
        1.0,
    )
    assert codes("2022-06-01") == ["X1A", "X1B", "X2"]
    assert store.read("grids")["code"].tolist() == ["X1AB", "X2"]


def _split() -> gpd.GeoDataFrame:
    split = _grids({"X1A": (0, 0, 1, 1), "X1B": (1, 0, 2, 1)}, "2022-01-01")
    return gpd.GeoDataFrame(
        pd.concat([split, _grids({"X2": (2, 0, 4, 1)}, "2020-01-01")], ignore_index=True),
        crs=4326,
    )


def _merged() -> gpd.GeoDataFrame:
    merged = _grids({"X1AB": (0, 0, 2, 1)}, "2023-01-01")
    return gpd.GeoDataFrame(
        pd.concat([merged, _grids({"X2": (2, 0, 4, 1)}, "2020-01-01")], ignore_index=True),
        crs=4326,
    )


def _moved() -> gpd.GeoDataFrame:
    grids = _grids({"X1AB": (0, 0, 2.5, 1), "X2": (2.5, 0, 4, 1)}, "2024-01-01")
    grids.loc[0, "valid_from"] = None
    return grids


def test_a_code_is_never_reused_for_a_different_area(store: Store) -> None:
    _load(store)
    store.replace("grids", _grids({"Y1": (0, 0, 1, 1), "Y2": (1, 0, 2, 1)}, "2020-01-01"))
    store.delete("grids", ["Y2"])
    with pytest.raises(ValidationError, match="Y2 would be reused for a different area"):
        store.upsert("grids", _grids({"Y2": (5, 5, 6, 6)}, "2024-01-01"))
    with pytest.raises(ValidationError, match="Y1 would be reused"):
        store.upsert("grids", _grids({"Y1": (3, 3, 4, 4)}, "2024-01-01"))
    store.upsert("grids", _grids({"Y2": (1, 0, 2.2, 1)}, "2024-01-01"))  # the same area, a little moved
    with pytest.raises(StoreError, match="valid_from must be a date"):
        store.upsert("grids", _grids({"G3": (7, 7, 8, 8)}, "2024-13-45"))


def test_an_edit_landing_while_a_revert_decides_makes_it_a_conflict(store: Store, store_url: str) -> None:
    """The edit commits right after the revert has found the feature as revision R left it:
    the revert's commit must see it and refuse, not write the old state over the edit."""
    store.upsert("speakers", _speaker("K1", 116.30, "first"))
    store.upsert("speakers", _speaker("K1", 116.30, "second"))
    edited = store.history(layer="speakers", code="K1")[0].id
    stored = store._stored  # type: ignore[attr-defined]
    landed: list[int] = []

    with open_store(store_url) as other:

        def edit_meanwhile(layer: str, codes: object) -> object:
            found = stored(layer, codes)
            if not landed:
                other.upsert("speakers", _speaker("K1", 116.30, "third"))
                landed.append(other.history(limit=1)[0].id)
            return found

        store._stored = edit_meanwhile  # type: ignore[attr-defined]
        try:
            with pytest.raises(RevertConflictError, match="changed again since"):
                store.revert(edited)
        finally:
            store._stored = stored  # type: ignore[attr-defined]
    assert store.read("speakers", codes=["K1"])["name"].tolist() == ["third"]


def test_a_revert_racing_an_edit_reverts_first_or_answers_409(store: Store, store_url: str) -> None:
    """Thirty rounds of revert and edit started at once: the edit is never undone."""
    outcomes: list[str] = []
    with open_store(store_url) as reverter, open_store(store_url) as editor:
        for round_ in range(30):
            code = f"R{round_}"
            store.upsert("speakers", _speaker(code, 116.30, "first"))
            store.upsert("speakers", _speaker(code, 116.30, "second"))
            edited = store.history(layer="speakers", code=code)[0].id
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def revert(
                revision: int = edited,
                barrier: threading.Barrier = barrier,
                errors: list[BaseException] = errors,
            ) -> None:
                barrier.wait()
                try:
                    reverter.revert(revision)
                    outcomes.append("reverted")
                except RevertConflictError:
                    outcomes.append("conflict")
                except BaseException as exc:  # reported below
                    errors.append(exc)

            def edit(code: str = code, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                editor.upsert("speakers", _speaker(code, 116.31, "third"))

            threads = [threading.Thread(target=revert), threading.Thread(target=edit)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            assert store.read("speakers", codes=[code])["name"].tolist() == ["third"], round_
    assert len(outcomes) == 30
