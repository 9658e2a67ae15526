"""Contract: a second writer that is not gridmap (GDAL on a GeoPackage, psycopg SQL on PostGIS) gets
the same derived fields, checks, history and refresh as gridmap's own writes."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
import shapely

from gridmap.assignment import POINT_LAYERS, assign
from gridmap.catalogue import LAYER_NAMES
from gridmap.errors import StoreError
from gridmap.serving import LiveAnalysis
from gridmap.stores import Store, open_store
from gridmap.stores.constraints import all_constraints
from tests.conftest import emptied
from tests.stored import prefilled
from tests.stores.conftest import sample_layers

SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin") or sys.executable
GDAL_WRITER = Path(__file__).with_name("gdal_writer.py")

Edit = dict[str, Any]
Writer = Callable[[list[Edit]], list[str | None]]


def _has_gdal_bindings() -> bool:
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "from osgeo import ogr"], capture_output=True)
    return probe.returncode == 0


def gdal_writer(path: str) -> Writer:
    """Edits applied by GDAL's Python bindings in a process of their own, one transaction each."""
    if not _has_gdal_bindings():
        pytest.fail("GDAL's Python bindings are missing: scripts/system-deps.sh installs python3-gdal")

    def write(edits: list[Edit]) -> list[str | None]:
        done = subprocess.run(
            [SYSTEM_PYTHON, str(GDAL_WRITER), path],
            input="\n".join(json.dumps(e) for e in edits),
            capture_output=True,
            text=True,
            check=True,
        )
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        return [None if a["ok"] else a["error"] for a in answers]

    return write


def sql_writer(url: str) -> Writer:
    """Edits made by psql-like SQL under another application name, one transaction each."""

    def write(edits: list[Edit]) -> list[str | None]:
        out: list[str | None] = []
        with psycopg.connect(url.replace("+psycopg", ""), application_name="QGIS 3.22") as conn:
            for edit in edits:
                try:
                    with conn.transaction():
                        _sql(conn, edit)
                    out.append(None)
                except psycopg.Error as exc:
                    out.append(str(exc))
        return out

    return write


def _sql(conn: psycopg.Connection, edit: Edit) -> None:
    layer, fields = edit["layer"], dict(edit.get("fields", {}))
    assert layer.isidentifier() and all(name.isidentifier() for name in fields)
    if edit["op"] == "delete":
        conn.execute(f"DELETE FROM {layer} WHERE code = %s", (edit["code"],))
        return
    if "wkt" in edit:
        fields["geometry"] = edit["wkt"]
    value = {name: "ST_GeomFromText(%s, 4326)" if name == "geometry" else "%s" for name in fields}
    if edit["op"] == "add":
        names = ["code", *fields]
        conn.execute(
            f"INSERT INTO {layer} ({', '.join(names)}) VALUES (%s, {', '.join(value.values())})",
            (edit["code"], *fields.values()),
        )
    else:
        sets = ", ".join(f"{name} = {value[name]}" for name in fields)
        conn.execute(f"UPDATE {layer} SET {sets} WHERE code = %s", (*fields.values(), edit["code"]))


@pytest.fixture
def edited(store_url: str) -> tuple[Store, Writer]:
    """A store holding the sample layers, and a writer that is not gridmap."""
    prefilled(store_url, "stores_sample", lambda empty: empty.replace_many(sample_layers()))
    writer = gdal_writer(store_url) if store_url.endswith(".gpkg") else sql_writer(store_url)
    return open_store(store_url), writer


def _row(store: Store, layer: str, code: str) -> dict[str, Any]:
    frame = store.read(layer, codes=[code])
    assert len(frame) == 1, (layer, code)
    return frame.iloc[0].to_dict()


def _settled(store: Store) -> Store:
    store.settle()
    return store


def _last_external(store: Store, layer: str, code: str) -> Any:
    external = [r for r in store.history(layer=layer, code=code) if "external edit" in (r.author or "")]
    assert external, f"no external revision of {layer} {code}"
    return store.changes(external[0].id, layer=layer, code=code)


@pytest.mark.parametrize(
    ("layer", "code", "wkt", "grid"),
    [
        ("speakers", "K2", "POINT (116.38 39.95)", "G2"),  # moved from G1 into G2
        ("service_points", "P1", "POINT (116.38 39.95)", "G2"),
        ("households", "H2", "POINT (116.32 39.95)", "G1"),  # no building: by its point
    ],
)
def test_a_moved_point_takes_its_new_grid_and_keeps_its_old_values_in_history(
    edited: tuple[Store, Writer], layer: str, code: str, wkt: str, grid: str
) -> None:
    store, write = edited
    before = _row(store, layer, code)
    position = store.log_position()
    assert position is not None
    assert write([{"op": "move", "layer": layer, "code": code, "wkt": wkt}]) == [None]
    after = _row(_settled(store), layer, code)
    assert after["grid_code"] == grid
    assert after["geometry"].wkt == wkt
    change = _last_external(store, layer, code)
    assert change.changes[0].before["geometry"] == before["geometry"].wkt  # the old place is kept
    assert change.changes[0].after is not None
    touched = store.touched_since(position)
    assert touched is not None and code in touched[layer]
    assert int(store.log_position() or 0) > position
    store.close()


def test_an_added_feature_gets_its_grid_and_defaults(edited: tuple[Store, Writer]) -> None:
    store, write = edited
    assert write([{"op": "add", "layer": "speakers", "code": "K9", "wkt": "POINT (116.31 39.91)"}]) == [None]
    row = _row(_settled(store), "speakers", "K9")
    assert row["grid_code"] == "G1"
    assert row["status"] == "working" and row["radius_m"] == 300.0
    assert _last_external(store, "speakers", "K9").changes[0].op == "inserted"
    store.close()


def test_a_deleted_feature_stays_in_history(edited: tuple[Store, Writer]) -> None:
    store, write = edited
    assert write([{"op": "delete", "layer": "households", "code": "H4"}]) == [None]
    assert store.read("households", codes=["H4"]).empty
    change = _last_external(store, "households", "H4").changes[0]
    assert change.op == "deleted" and change.before is not None and change.before["room"] == "1801"
    store.close()


@pytest.mark.parametrize(
    ("layer", "code", "fields", "constraint"),
    [
        ("speakers", "K1", {"status": "坏了"}, "speakers_status_must_be_working_or_broken"),
        ("speakers", "K1", {"radius_m": -5}, "speakers_radius_m_must_not_be_negative"),
        ("service_points", "P1", {"radius_m": -1}, "service_points_radius_m_must_not_be_negative"),
        ("households", "H1", {"size": -2}, "households_size_must_not_be_negative"),
        ("buildings", "B2", {"floors": -1}, "buildings_floors_must_not_be_negative"),
        ("communities", "C1", {"kind": "town"}, "communities_kind_must_be_community_or_village"),
        ("grids", "G1", {"community_code": "C\x07"}, "grids_community_code_must_have_no_control_characters"),
    ],
)
def test_a_forbidden_value_is_refused_by_the_store_naming_the_rule(
    edited: tuple[Store, Writer], layer: str, code: str, fields: dict[str, Any], constraint: str
) -> None:
    store, write = edited
    revision = store.log_position()
    [error] = write([{"op": "set", "layer": layer, "code": code, "fields": fields}])
    assert error is not None and constraint in error
    assert store.log_position() == revision  # nothing was written, nothing recorded
    store.close()


def test_a_moved_building_takes_its_households_along(edited: tuple[Store, Writer]) -> None:
    store, write = edited
    moved = "POLYGON ((116.38 39.96, 116.381 39.96, 116.381 39.961, 116.38 39.961, 116.38 39.96))"
    assert write([{"op": "move", "layer": "buildings", "code": "B1", "wkt": moved}]) == [None]
    _settled(store)
    assert _row(store, "buildings", "B1")["grid_code"] == "G2"
    for household in ("H1", "H3"):  # their building_code is B1
        assert _row(store, "households", household)["grid_code"] == "G2"
    store.close()


@pytest.mark.parametrize(
    ("wkt", "grid"),
    [
        ("POINT (116.35 39.95)", "G1"),  # on the edge G1 and G2 share: the smaller code
        ("POINT (116.35 39.9)", "G1"),  # on their shared corner
        ("POINT (116.4 40)", "G2"),  # on G2's outer corner
        ("POINT (116.3500001 39.95)", "G2"),  # a hundredth of a metre past the edge
        ("POINT (116.45 39.95)", None),  # in no grid
    ],
)
def test_a_point_on_a_grid_border_or_in_no_grid_gets_the_known_grid(
    edited: tuple[Store, Writer], wkt: str, grid: str | None
) -> None:
    store, write = edited
    edits = [{"op": "move", "layer": layer, "code": code, "wkt": wkt} for layer, code in _POINTS]
    assert write(edits) == [None] * len(edits)
    _settled(store)
    for layer, code in _POINTS:
        found = _row(store, layer, code)["grid_code"]
        assert (None if pd.isna(found) else found) == grid, (layer, code)
    store.close()


_POINTS = (("speakers", "K1"), ("service_points", "P1"), ("households", "H2"))
"""One point of each kind, none registered in a building."""


def test_a_point_in_a_building_across_a_grid_border_takes_the_buildings_grid(
    edited: tuple[Store, Writer],
) -> None:
    """B1 moved across the G1/G2 edge with five sixths of its area in G1: its grid is G1, and so is
    every point inside it (its part in G2 included), and every household registered in it, wherever
    its point lies; the same answer as gridmap's own placement of the whole store."""
    store, write = edited
    across = "POLYGON ((116.345 39.95, 116.351 39.95, 116.351 39.951, 116.345 39.951, 116.345 39.95))"
    assert write([{"op": "move", "layer": "buildings", "code": "B1", "wkt": across}]) == [None]
    _settled(store)
    assert _row(store, "buildings", "B1")["grid_code"] == "G1"
    in_g2_part = "POINT (116.3505 39.9505)"
    edits = [{"op": "move", "layer": layer, "code": code, "wkt": in_g2_part} for layer, code in _POINTS]
    far = {"op": "move", "layer": "households", "code": "H1", "wkt": "POINT (116.39 39.99)"}
    assert write([*edits, far]) == [None] * (len(edits) + 1)
    _settled(store)
    for layer, code in (*_POINTS, ("households", "H1"), ("households", "H3")):
        assert _row(store, layer, code)["grid_code"] == "G1", (layer, code)
    edited_codes = {
        "buildings": ["B1"],
        "households": ["H1", "H2", "H3"],
        "service_points": ["P1"],
        "speakers": ["K1"],
    }
    frames = {layer: store.read(layer) for layer in ("grids", "buildings", *POINT_LAYERS)}
    placed = assign(frames)
    for layer, codes in edited_codes.items():
        assert placed[layer].set_index("code")["grid_code"][codes].tolist() == ["G1"] * len(codes), layer
    store.close()


def test_a_redrawn_grid_reassigns_what_it_now_holds(edited: tuple[Store, Writer]) -> None:
    store, write = edited
    wider = "MULTIPOLYGON (((116.30 39.90, 116.395 39.90, 116.395 40.0, 116.30 40.0, 116.30 39.90)))"
    assert write([{"op": "move", "layer": "grids", "code": "G1", "wkt": wider}]) == [None]
    _settled(store)
    assert _row(store, "buildings", "B3")["grid_code"] == "G1"  # both its parts lie in both grids: G1 wins
    assert _row(store, "households", "H4")["grid_code"] == "G1"  # via building B3
    assert _row(store, "speakers", "K1")["grid_code"] == "G1"  # 116.39: inside the overlap, smallest code
    store.close()


def test_a_boundary_edited_outside_gridmap_gets_its_validity_dates(edited: tuple[Store, Writer]) -> None:
    """Redrawn: a new version from today, the old one closed today; added: in force from today;
    renamed only: its dates kept (as gridmap's own writes do, `gridmap.versions`)."""
    store, write = edited
    today = dt.date.today()
    wider = "MULTIPOLYGON (((116.30 39.90, 116.36 39.90, 116.36 40.0, 116.30 40.0, 116.30 39.90)))"
    before = _row(store, "grids", "G1")
    assert write([{"op": "move", "layer": "grids", "code": "G1", "wkt": wider}]) == [None]
    _settled(store)
    redrawn = _row(store, "grids", "G1")
    assert redrawn["valid_from"] == today.isoformat() and pd.isna(redrawn["valid_to"])
    assert (
        store.read_as_of("grids", (today - dt.timedelta(days=1)).isoformat())
        .set_index("code")
        .loc["G1", "geometry"]
        .equals(before["geometry"])
    )  # the old version, closed today
    now = store.read_as_of("grids", today.isoformat()).set_index("code").loc["G1", "geometry"]
    assert now.equals(shapely.from_wkt(wider))
    added = {"op": "add", "layer": "streets", "code": "S9", "fields": {"name": "新街道"}}
    added["wkt"] = "MULTIPOLYGON (((116.50 39.90, 116.51 39.90, 116.51 39.91, 116.50 39.90)))"
    renamed = {"op": "set", "layer": "grids", "code": "G1", "fields": {"name": "第一网格（新）"}}
    assert write([added, renamed]) == [None, None]
    assert _row(store, "streets", "S9")["valid_from"] == today.isoformat()
    assert _row(store, "grids", "G1")["valid_from"] == today.isoformat()
    assert write([{"op": "delete", "layer": "streets", "code": "S9"}]) == [None]
    assert store.read_as_of("streets", today.isoformat())["code"].tolist().count("S9") == 0
    store.close()


def test_coverage_follows_an_external_edit(edited: tuple[Store, Writer]) -> None:
    store, write = edited
    live = LiveAnalysis(store)
    assert live.refresh() is not None
    near = {"op": "add", "layer": "households", "code": "H9", "wkt": "POINT (116.3905 39.9905)"}
    assert write([near]) == [None]
    store.settle()
    assert live.refresh() is not None
    assert live.analysis is not None
    covered = live.analysis.households.set_index("code")["speaker_covered"]
    assert bool(covered["H9"])  # 70 m from K1, working, 250 m range
    assert write([{"op": "set", "layer": "speakers", "code": "K1", "fields": {"status": "broken"}}]) == [None]
    store.settle()
    assert live.refresh() is not None
    covered = live.analysis.households.set_index("code")["speaker_covered"]
    assert not bool(covered["H9"])
    store.close()


def test_postgis_tells_its_listeners_of_every_commit(edited: tuple[Store, Writer], store_url: str) -> None:
    store, write = edited
    if store_url.endswith(".gpkg"):
        assert store.wait_for_change(0.01) is None  # a GeoPackage cannot tell: its readers poll
        store.close()
        return
    assert store.wait_for_change(0.05) is False  # listening from now on; nothing happened
    assert write([{"op": "set", "layer": "speakers", "code": "K1", "fields": {"name": "改名"}}]) == [None]
    started = time.monotonic()
    assert store.wait_for_change(5.0) is True
    assert time.monotonic() - started < 1.0
    assert store.wait_for_change(0.05) is False  # one commit, one notice
    store.close()


@pytest.mark.postgis
def test_a_case_written_by_sql_is_placed_and_its_version_bumped(postgis_url: str) -> None:
    with open_store(emptied(postgis_url)) as store:
        store.replace_many(sample_layers())
    with psycopg.connect(postgis_url.replace("+psycopg", ""), autocommit=True) as pg:
        pg.execute("DELETE FROM cases")
        pg.execute(
            "INSERT INTO cases (code, category, reported_at, status, lon, lat) "
            "VALUES ('A1', '市容环境', now(), 'reported', 116.38, 39.95)"
        )
        placed = pg.execute("SELECT grid_code, community_code, street_code, version FROM cases").fetchone()
        assert placed == ("G2", "C1", "S1", 0)
        pg.execute("UPDATE cases SET lon = 116.32, lat = 39.95 WHERE code = 'A1'")
        assert pg.execute("SELECT grid_code, version FROM cases").fetchone() == ("G1", 1)
        pg.execute("UPDATE cases SET status = status WHERE code = 'A1'")  # nothing changed: no new version
        assert pg.execute("SELECT version FROM cases").fetchone() == (1,)


@pytest.mark.postgis
def test_the_database_checks_are_the_catalogue_constraints(postgis_url: str) -> None:
    with open_store(postgis_url):  # migrated
        pass
    with psycopg.connect(postgis_url.replace("+psycopg", "")) as pg:
        found = {
            (table, name)
            for table, name in pg.execute(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'c' "
                "AND conname LIKE '%\\_must\\_%'"
            )
        }
    layers = {(table, name) for table, name in found if table in LAYER_NAMES}  # the party book has its own
    assert layers == {(rule.layer, rule.name) for rule in all_constraints()}


def test_gridmap_refuses_what_the_store_would(store: Store) -> None:
    frame = sample_layers()["speakers"].assign(radius_m=[-5.0, 10.0], code=["K\x01", "K2"])
    with pytest.raises(StoreError) as refused:
        store.upsert("speakers", frame)
    assert "radius_m must not be negative (see K?)" in str(refused.value)
    assert "code must not contain control characters (see K?)" in str(refused.value)


def test_an_older_geopackage_is_upgraded_so_gdal_can_insert(tmp_path: Path) -> None:
    path = str(tmp_path / "old.gpkg")
    with open_store(path) as store:
        store.replace_many(sample_layers())
    with sqlite3.connect(path) as conn:  # as the previous version left it: no triggers, revision NOT NULL
        triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'gridmap%'"
        for (name,) in conn.execute(triggers).fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = replace(sql, '\"revision\" INTEGER DEFAULT 0', "
            "'\"revision\" INTEGER NOT NULL DEFAULT 0') WHERE type = 'table'"
        )
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        conn.execute(f"PRAGMA schema_version = {version + 1}")
        conn.execute("PRAGMA writable_schema = OFF")
    # QGIS gives a new feature's empty attributes as NULL, the internal ones included.
    added = {"op": "add", "layer": "speakers", "wkt": "POINT (116.31 39.91)", "fields": {"revision": None}}
    assert "NOT NULL" in str(gdal_writer(path)([{**added, "code": "K8"}])[0])
    with open_store(path) as store:  # upgraded on open
        write = gdal_writer(path)
        assert write([{**added, "code": "K9"}]) == [None]
        assert write([{"op": "set", "layer": "speakers", "code": "K1", "fields": {"status": "lost"}}])[0]
        store.settle()
        assert _row(store, "speakers", "K9")["grid_code"] == "G1"
