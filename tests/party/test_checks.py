"""The database keeps the chain's kinds and parents whoever writes: raw SQL, as QGIS or psql sends it."""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from itertools import count
from pathlib import Path
from types import ModuleType

import pandas as pd
import psycopg
import pytest

from gridmap.party.vocabulary import ORG_KINDS
from gridmap.stores import Store, migrations, open_store
from gridmap.stores.party_checks import (
    PARENT_IN_FORCE,
    PARENT_KIND,
    SECRETARY,
    postgres_drop,
    postgres_statements,
    sqlite_triggers,
)
from tests.party.conftest import CHAIN, load_chain

Execute = Callable[[str, tuple[object, ...]], None]
INSERT = (
    "INSERT INTO party_orgs (code, valid_from, name, kind, parent_code, area_kind, area_code) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
PARENTS = {o.code: o.kind for o in CHAIN if o.code in ("PS1", "PC1", "PG1", "PB1", "PN1")}
"""One organisation of each kind the test chain holds, all in force from 2024-01-01."""


@pytest.fixture
def execute(store_url: str) -> Iterator[Execute]:
    """One statement in a transaction of its own, on a connection that is not gridmap's."""
    with open_store(store_url) as store:
        load_chain(store)
    if store_url.endswith(".gpkg"):
        lite = sqlite3.connect(store_url, isolation_level=None)

        def run_lite(sql: str, params: tuple[object, ...]) -> None:
            lite.execute(sql, params)

        yield run_lite
        lite.close()
        return
    with psycopg.connect(store_url.replace("+psycopg", ""), autocommit=True) as conn:

        def run_pg(sql: str, params: tuple[object, ...]) -> None:
            conn.execute(sql.replace("?", "%s"), params)

        yield run_pg


def _refused(execute: Execute, sql: str, params: tuple[object, ...]) -> str:
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error)) as error:
        execute(sql, params)
    return str(error.value)


def test_a_raw_insert_of_an_unknown_kind_is_refused(execute: Execute) -> None:
    reason = _refused(execute, INSERT, ("X1", "2024-02-01", "x", "party_cell", "PC1", "grid", "G1"))
    assert "party_orgs_kind_must_be_known" in reason
    unit = "INSERT INTO party_units (code, name, kind, street_code) VALUES (?, ?, ?, ?)"
    assert "party_units_kind_must_be_known" in _refused(execute, unit, ("U9", "u", "bank", "S1"))
    execute(unit, ("U9", "u", "social_org", "S1"))


def test_every_kind_takes_exactly_the_parents_its_kind_allows(execute: Execute) -> None:
    """Each kind under each kind of parent: what the database accepts is the vocabulary's table."""
    codes = count(1)
    accepted: dict[str, set[str]] = {}
    for kind, spec in ORG_KINDS.items():
        if not spec.parents:
            continue
        accepted[kind] = set()
        for parent, parent_kind in PARENTS.items():
            row = (f"K{next(codes)}", "2024-02-01", "x", kind, parent, spec.areas[0], "A1")
            try:
                execute(INSERT, row)
            except (sqlite3.DatabaseError, psycopg.Error) as error:
                assert PARENT_KIND in str(error)
            else:
                accepted[kind].add(parent_kind)
    assert accepted == {
        kind: set(s.parents) & set(PARENTS.values()) for kind, s in ORG_KINDS.items() if s.parents
    }
    assert accepted["grid_branch"] == {"community_committee"}
    assert accepted["non_public"] == {"street_committee", "community_committee"}


def test_a_parent_not_in_force_on_the_first_day_is_refused(execute: Execute) -> None:
    before = _refused(execute, INSERT, ("X1", "2023-12-31", "x", "grid_branch", "PC1", "grid", "G1"))
    assert PARENT_IN_FORCE in before
    assert PARENT_IN_FORCE in _refused(
        execute, INSERT, ("X1", "2024-02-01", "x", "grid_branch", "PC9", "grid", "G1")
    )
    execute(
        "UPDATE party_orgs SET valid_to = ? WHERE code = ?", ("2024-06-01", "PC2")
    )  # closing: no parent check
    closed = _refused(execute, INSERT, ("X1", "2024-06-01", "x", "grid_branch", "PC2", "grid", "G3"))
    assert PARENT_IN_FORCE in closed
    execute(INSERT, ("X1", "2024-05-31", "x", "grid_branch", "PC2", "grid", "G3"))


def test_row_rules_areas_and_the_top_of_the_chain(execute: Execute) -> None:
    area = _refused(execute, INSERT, ("X1", "2024-02-01", "x", "grid_branch", "PC1", "building", "B1"))
    assert "party_orgs_area_kind_must_fit_kind" in area
    top = _refused(execute, INSERT, ("X2", "2024-02-01", "x", "street_committee", "PS1", "street", "S1"))
    assert "party_orgs_parent_code_must_fit_kind" in top
    orphan = _refused(execute, INSERT, ("X3", "2024-02-01", "x", "building_group", None, "building", "B2"))
    assert "party_orgs_parent_code_must_fit_kind" in orphan
    execute(INSERT, ("X4", "2024-02-01", "x", "street_committee", None, "street", "S1"))
    execute(INSERT, ("X5", "2024-02-01", "x", "building_group", "PG1", "building", "B2"))


def test_an_update_moving_an_organisation_under_the_wrong_kind_is_refused(execute: Execute) -> None:
    moved = _refused(execute, "UPDATE party_orgs SET parent_code = ? WHERE code = ?", ("PS1", "PG1"))
    assert PARENT_KIND in moved
    execute("UPDATE party_orgs SET parent_code = ? WHERE code = ?", ("PC1", "PG2"))
    execute("UPDATE party_orgs SET name = ? WHERE code = ?", ("第2网格党支部", "PG2"))


def test_a_bulk_write_puts_parents_first_whatever_the_order_given(store: Store) -> None:
    load_chain(store)
    backwards = pd.DataFrame([{**asdict(o), "changed_by": "test"} for o in reversed(CHAIN)])
    assert store.party_book().replace({"party_orgs": backwards}) == {"party_orgs": len(CHAIN)}
    assert sorted(store.party_book().orgs()["code"]) == sorted(o.code for o in CHAIN)


def test_an_older_geopackage_gets_the_checks_when_opened(tmp_path: Path) -> None:
    path = str(tmp_path / "old.gpkg")
    with open_store(path) as store:
        load_chain(store)
    with sqlite3.connect(path) as conn:  # as a file from before the checks
        for name in sqlite_triggers():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute(INSERT, ("X0", "2024-02-01", "x", "grid_branch", "PS1", "grid", "G1"))
    with open_store(path):
        pass
    with sqlite3.connect(path) as conn:
        made = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert set(sqlite_triggers()) <= made
        with pytest.raises(sqlite3.DatabaseError, match=PARENT_KIND):
            conn.execute(INSERT, ("X1", "2024-02-01", "x", "grid_branch", "PS1", "grid", "G1"))


SECRETARY_UPDATE = "UPDATE party_orgs SET secretary_code = ? WHERE code = ? AND valid_to IS NULL"


def test_a_secretary_from_elsewhere_is_refused_by_the_database(execute: Execute) -> None:
    # M3 belongs to PB3, under PG2: not PG1's; M9 is no member at all.
    for member in ("M3", "M9"):
        reason = _refused(execute, SECRETARY_UPDATE, (member, "PG1"))
        assert SECRETARY in reason, reason
    insert = INSERT.replace("area_code)", "area_code, secretary_code)").replace("?)", "?, ?)")
    assert SECRETARY in _refused(
        execute, insert, ("X2", "2024-02-01", "x", "grid_branch", "PC1", "grid", "G1", "M1")
    )
    # M1 (PB1, under PG1) may be PG1's secretary, and M2 (PG1) the street committee's.
    execute(SECRETARY_UPDATE, ("M1", "PG1"))
    execute(SECRETARY_UPDATE, ("M2", "PS1"))
    # Closing a version does not judge its secretary again.
    execute("UPDATE party_orgs SET valid_to = ? WHERE code = ?", ("2026-01-01", "PB3"))


def _migration(name: str) -> ModuleType:
    path = Path(migrations.__file__).parent / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0014_is_fixed_text_equal_to_what_the_kinds_imply_today() -> None:
    """The migration never changes with the code; when the kinds change this fails: write a new
    migration carrying `postgres_statements()` (and keep this test on the newest one)."""
    migration = _migration("v0014_party_checks")
    source = Path(migration.__file__ or "").read_text(encoding="utf-8")
    assert "party_checks" not in source.split('"""', 2)[2]  # nothing imported from the code

    def words(statements: Iterable[str]) -> list[str]:
        return [" ".join(s.split()) for s in statements]

    assert words(migration.UPGRADE) == words(postgres_statements())
    assert words(migration.DOWNGRADE) == words(postgres_drop())


def test_a_bulk_write_names_secretaries_from_below_once_every_organisation_is_in(store: Store) -> None:
    load_chain(store)
    named = {"PS1": "M1", "PG1": "M1", "PG2": "M3"}  # M1 is PB1's, M3 PB3's: both written after
    backwards = pd.DataFrame(
        [{**asdict(o), "secretary_code": named.get(o.code), "changed_by": "test"} for o in reversed(CHAIN)]
    )
    store.party_book().replace({"party_orgs": backwards})
    orgs = store.party_book().orgs().set_index("code")
    assert orgs["secretary_code"].dropna().to_dict() == named
