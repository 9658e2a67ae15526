"""The books' tables in a GeoPackage: keyed by an integer `fid` (GeoPackage requirement 119), their own
key UNIQUE NOT NULL, and files made before (keyed by text) converted on open, nothing lost."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from gridmap.history import Revision
from gridmap.stores import cases, feed, open_store, party, visits
from gridmap.stores.geopackage import BOOK_TABLES
from gridmap.stores.gpkg_attributes import register_attributes
from tests.stores.conftest import sample_layers
from tests.stores.test_cases import CASE, EVENT

NOW = dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC)
SHARED = (cases.metadata, visits.metadata, party.metadata, feed.metadata)
OLD_ORG = {
    "code": "P1",
    "valid_from": dt.date(2024, 1, 1),
    "valid_to": dt.date(2025, 1, 1),
    "name": "幸福街道党工委",
    "kind": "street_committee",  # the top of the chain: no parent to make first
    "area_kind": "street",
    "area_code": "S1",
}
ORG = {**OLD_ORG, "valid_from": dt.date(2025, 1, 1), "valid_to": None, "name": "幸福街道党委"}
UNIT = {"code": "U1", "name": "华中物流", "kind": "non_public", "street_code": "S1"}


def _keys(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(row[1], row[2]) for row in conn.execute(f'PRAGMA table_info("{table}")') if row[5]]


def _unique_sets(conn: sqlite3.Connection, table: str) -> set[tuple[str, ...]]:
    """The column sets of the table's unique indexes without a WHERE (its UNIQUE constraints)."""
    found = set()
    for _, name, unique, origin, partial in conn.execute(f'PRAGMA index_list("{table}")'):
        if unique and origin == "u" and not partial:
            found.add(tuple(row[2] for row in conn.execute(f'PRAGMA index_info("{name}")')))
    return found


def test_the_book_tables_are_the_books_own() -> None:
    assert sorted(BOOK_TABLES) == sorted(name for m in SHARED for name in m.tables)


def test_every_registered_book_table_is_keyed_by_an_integer(tmp_path: Path) -> None:
    path = tmp_path / "store.gpkg"
    with open_store(str(path)) as store:
        store.case_book()
        store.visit_book()
        store.party_book().upsert("party_units", UNIT)
    with sqlite3.connect(path) as conn:
        registered = [
            row[0]
            for row in conn.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'attributes'")
        ]
        assert set(BOOK_TABLES) < set(registered)
        for name in registered:
            assert len(_keys(conn, name)) == 1 and _keys(conn, name)[0][1] == "INTEGER", name
        assert _keys(conn, "cases") == [("fid", "INTEGER")]
        assert ("code",) in _unique_sets(conn, "cases")
        assert ("household_code", "category") in _unique_sets(conn, "household_care")
        assert ("code", "valid_from") in _unique_sets(conn, "party_orgs")
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'party_units'").fetchone()[0]
    assert "fid INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT" in sql


def test_the_code_stays_unique_and_required_whoever_writes(tmp_path: Path) -> None:
    path = tmp_path / "store.gpkg"
    with open_store(str(path)) as store:
        assert store.case_book().insert(CASE, EVENT)
        store.party_book().upsert("party_units", UNIT)
        store.party_book().upsert("party_units", {**UNIT, "name": "华中物流公司"})  # replaced, not doubled
        assert store.party_book().units()["name"].tolist() == ["华中物流公司"]
    with sqlite3.connect(path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(
                "INSERT INTO cases (code, category, reported_at, status) "
                "VALUES ('C1', '0101', '2026-12-01', 'x')"
            )
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            conn.execute("INSERT INTO party_units (name, kind, street_code) VALUES ('n', 'non_public', 'S1')")


def old_book_tables(path: Path) -> None:
    """Make a store's book tables as gridmap made them before: the shared definitions' DDL, keyed by
    text, with a few rows, and an index and a trigger of someone else's."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for metadata in SHARED:
            for name in metadata.tables:
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
            metadata.create_all(conn)
            register_attributes(conn, metadata.tables)
        conn.execute(cases.CASES_TABLE.insert().values(**CASE, version=0))
        conn.execute(cases.CASES_TABLE.insert().values(**{**CASE, "code": "C2", "lon": 114.31}, version=3))
        conn.execute(cases.EVENTS_TABLE.insert().values(**EVENT))
        care = [("H1", "elderly"), ("H1", "disabled"), ("H2", "elderly")]
        for household, category in care:
            conn.execute(
                visits.CARE_TABLE.insert().values(
                    household_code=household, category=category, noted_by="a", noted_at=NOW
                )
            )
        conn.execute(visits.CASE_KEYS_TABLE.insert().values(key="k1", case_code="C1", claimed_at=NOW))
        conn.execute(party.ORGS.insert().values(**OLD_ORG))
        conn.execute(party.ORGS.insert().values(**ORG))
        conn.execute(party.UNITS.insert().values(**UNIT))
        conn.execute(party.LINKS.insert().values(household_code="H2", center_code="H1"))
        conn.execute(sa.text("CREATE INDEX party_units_by_name ON party_units (name)"))
        view = "CREATE VIEW reported_cases AS SELECT code FROM cases WHERE status = 'reported'"
        conn.execute(sa.text(view))
        conn.execute(
            sa.text(
                "CREATE TRIGGER party_units_named BEFORE INSERT ON party_units WHEN NEW.name = '' "
                "BEGIN SELECT RAISE(ABORT, 'a unit needs a name'); END"
            )
        )
    engine.dispose()
    with sqlite3.connect(path) as conn:
        assert _keys(conn, "cases") == [("code", "TEXT")]  # the old form, as the tests mean it


def _old_store(path: Path) -> tuple[str, list[Revision]]:
    """A store with layers, a history and old book tables; returns its revision and history."""
    with open_store(str(path)) as store:
        store.replace_many(sample_layers())
        store.case_book()  # today's form of the case tables: made again the old way below
        revision = store.revision()
        history = store.history()
    assert history
    old_book_tables(path)
    return revision, history


def test_an_older_store_gets_integer_keys_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "store.gpkg"
    revision, history = _old_store(path)
    open_store(str(path)).close()  # converted on open
    with sqlite3.connect(path) as conn:
        for name in BOOK_TABLES:
            assert [kind for _, kind in _keys(conn, name)] == ["INTEGER"], name
        fids = conn.execute("SELECT fid, code FROM cases ORDER BY fid").fetchall()
        objects = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        leftovers = [name for name in objects if "rebuilt" in name]
    assert fids == [(1, "C1"), (2, "C2")]  # each row's rowid became its fid
    assert {"party_units_by_name", "party_units_named", "party_orgs_one_current", "cases_status"} <= objects
    assert not leftovers
    with open_store(str(path)) as store:
        assert store.revision() == revision  # the layers did not change: nothing to refresh
        assert store.history() == history
        book = store.case_book()
        first, second = book.get("C1"), book.get("C2")
        assert first is not None and first["reported_at"] == NOW and first["lon"] == 114.3
        assert second is not None and second["version"] == 3 and second["returns"] == 0
        assert [e["action"] for e in book.events("C1")] == ["report"]
        assert not book.insert(CASE, EVENT)  # the code is still taken
        care = store.visit_book().care()
        assert care[["household_code", "category"]].values.tolist() == [
            ["H1", "disabled"],
            ["H1", "elderly"],
            ["H2", "elderly"],
        ]
        assert store.visit_book().claim_case_key("k1", NOW, dt.timedelta(hours=1)) == (False, "C1")
        orgs = store.party_book().orgs()
        assert orgs["name"].tolist() == ["幸福街道党工委", "幸福街道党委"]  # the organisation's history
        assert orgs["valid_to"].tolist()[0] == dt.date(2025, 1, 1)
        assert store.party_book().links()["center_code"].tolist() == ["H1"]
        store.visit_book().set_care("H2", ["disabled"], "b", NOW)
        assert len(store.visit_book().care(["H2"])) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT code FROM reported_cases ORDER BY code").fetchall() == [("C1",), ("C2",)]
        with pytest.raises(sqlite3.IntegrityError, match="a unit needs a name"):
            conn.execute(
                "INSERT INTO party_units (code, name, kind, street_code) "
                "VALUES ('U2', '', 'non_public', 'S1')"
            )
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):  # one organisation version in force
            conn.execute(
                "INSERT INTO party_orgs (code, valid_from, name, kind, area_kind, area_code) "
                "VALUES ('P1', '2026-01-01', 'n', 'street_committee', 'street', 'S1')"
            )


def test_a_conversion_that_fails_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rebuild runs in the store's upgrade transaction: a failure half-way leaves the old file."""
    import gridmap.stores.gpkg_attributes as attributes
    from gridmap.errors import StoreError

    path = tmp_path / "store.gpkg"
    _old_store(path)
    real = attributes.rebuild
    done: list[str] = []

    def failing(conn: sqlite3.Connection, table: sa.Table) -> None:
        if done:
            raise sqlite3.OperationalError("disk I/O error")
        real(conn, table)
        done.append(table.name)

    monkeypatch.setattr(attributes, "rebuild", failing)
    with pytest.raises(StoreError, match="disk I/O error"):
        open_store(str(path))
    with sqlite3.connect(path) as conn:
        assert _keys(conn, done[0]) != [("fid", "INTEGER")]
        assert conn.execute("SELECT count(*) FROM party_orgs").fetchone()[0] == 2
