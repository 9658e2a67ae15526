"""The case tables in both stores: PostGIS's migration matches the SQL definition, GeoPackage keeps them."""

from __future__ import annotations

import datetime as dt
import sqlite3

import psycopg
import pytest

from gridmap.frames import empty_frame
from gridmap.stores import Store, open_store
from gridmap.stores.cases import CASES_TABLE, EVENTS_TABLE, REQUESTS_TABLE
from tests.cases.conftest import empty_book

NOW = dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC)
CASE = {"code": "C1", "category": "0102", "reported_at": NOW, "status": "reported", "lon": 114.3, "lat": 30.5}
EVENT = {
    "case_code": "C1",
    "action": "report",
    "to_status": "reported",
    "actor": "a",
    "role": "admin",
    "at": NOW,
}


@pytest.mark.postgis
def test_migration_matches_the_table_definition(postgis_url: str) -> None:
    with open_store(postgis_url):
        pass
    with psycopg.connect(postgis_url.replace("+psycopg", "")) as conn:
        for table in (CASES_TABLE, EVENTS_TABLE, REQUESTS_TABLE):
            rows = conn.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s AND column_name <> 'geometry' "
                "ORDER BY ordinal_position",
                (table.name,),
            ).fetchall()
            assert rows == [(c.name, "YES" if c.nullable else "NO") for c in table.columns], table.name
        found = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", ("cases",))
        indexes: dict[str, str] = dict(found.fetchall())
        assert "USING gist (geometry)" in indexes["cases_geometry_gist"]
        assert {f"cases_{i.columns[0].name}" for i in CASES_TABLE.indexes} <= set(indexes)


def test_cases_survive_layer_writes_and_reopening(store: Store, store_url: str) -> None:
    book = store.case_book()
    empty_book(store)
    assert book.insert(CASE, EVENT)
    assert not book.insert(CASE, EVENT)  # the code is taken: nothing written
    store.replace("grids", empty_frame("grids"))  # a layer write (a GeoPackage rewrites the file)
    with open_store(store_url) as again:
        case = again.case_book().get("C1")
    assert case is not None and case["reported_at"] == NOW and case["lon"] == 114.3
    assert [e["action"] for e in store.case_book().events("C1")] == ["report"]


def test_geopackage_registers_its_case_tables(tmp_path: object) -> None:
    path = f"{tmp_path}/store.gpkg"
    with open_store(path) as store:
        store.case_book()
    with sqlite3.connect(path) as conn:
        kinds = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents"))
    assert kinds["cases"] == kinds["case_events"] == kinds["case_requests"] == "attributes"


def test_a_geopackage_from_before_the_case_loop_gets_its_new_columns(tmp_path: object) -> None:
    """A file whose case table predates migration 0008 is upgraded on open and keeps its cases."""
    path = f"{tmp_path}/old.gpkg"
    with open_store(path) as store:
        store.case_book().insert(CASE, EVENT)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE case_requests")
        conn.execute("DROP INDEX cases_ticket_no")
        for name in ("ticket_no", "returns", "reviewed_at"):
            conn.execute(f"ALTER TABLE cases DROP COLUMN {name}")
    with open_store(path) as store:
        case = store.case_book().get("C1")
        assert store.case_book().requests("C1") == []
    assert case is not None and case["returns"] == 0 and case["ticket_no"] is None
