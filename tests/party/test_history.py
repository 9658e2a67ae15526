"""The registers' history: who changed a member, unit, link, points or funds entry, when, before and after;
personal fields masked below the right; a revert undoes the newest change by a new version."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from gridmap.errors import NotFoundError, ValidationError
from gridmap.history import acting_as
from gridmap.party.access import PartyAccess
from gridmap.party.funds import FundsEntry, record_funds
from gridmap.party.history import register_history, revert_newest
from gridmap.party.points import DEFAULT_RULES, PointEntry, record_points, set_rules
from gridmap.party.register import close_org, confirm_links, save_member, save_unit
from gridmap.stores import Store, open_store
from tests.party.conftest import MEMBERS, NAMES, PHONES, UNITS, load_chain

ADMIN = PartyAccess(admin=True)
VIEWER = PartyAccess(admin=False)
PG1_EDITOR = PartyAccess(admin=False, own=frozenset({"PG1"}))  # M1 (PB1) is below PG1
NEW_PHONE = "13611112222"


def _steps(store: Store, register: str, key: str, access: PartyAccess = ADMIN) -> list[tuple[str, str]]:
    return [(r.author, r.changes[0].op) for r in register_history(store, register, key, access)]


def test_a_members_changes_read_back_with_who_when_before_and_after(chain: Store) -> None:
    with acting_as("alice", "editor", "test"):
        save_member(chain, replace(MEMBERS[0], phone=NEW_PHONE))
    with acting_as("bob", "admin", "test"):
        assert chain.party_book().delete("party_members", "M1") == 1
    history = register_history(chain, "members", "M1", ADMIN)
    assert [(r.id, r.changes[0].op) for r in history] == [(1, "inserted"), (2, "updated"), (3, "deleted")]
    assert [r.author for r in history[1:]] == ["alice", "bob"]
    assert history[0].at <= history[1].at <= history[2].at
    update = history[1].changes[0]
    assert (update.before["phone"], update.after["phone"]) == (PHONES[0], NEW_PHONE)  # type: ignore[index]
    assert update.before["name"] == update.after["name"] == NAMES[0]  # type: ignore[index]
    assert history[2].changes[0].after is None and history[2].changes[0].before["phone"] == NEW_PHONE  # type: ignore[index]
    assert not len(chain.party_book().members(codes=["M1"]))


def test_personal_fields_are_masked_below_the_right_to_see_them(chain: Store) -> None:
    save_member(chain, replace(MEMBERS[0], phone=NEW_PHONE))
    for access, whole in ((ADMIN, True), (PG1_EDITOR, True), (VIEWER, False)):
        text = str([r.as_dict() for r in register_history(chain, "members", "M1", access)])
        assert all((secret in text) is whole for secret in (NAMES[0], PHONES[0], NEW_PHONE)), access
    # An editor of another branch sees M1 masked too.
    other = PartyAccess(admin=False, own=frozenset({"PG2"}))
    assert NAMES[0] not in str([r.as_dict() for r in register_history(chain, "members", "M1", other)])


def test_a_revert_undoes_the_newest_change_by_a_new_version(chain: Store) -> None:
    save_member(chain, replace(MEMBERS[0], phone=NEW_PHONE))
    with acting_as("carol", "admin", "test"):
        assert revert_newest(chain, "members", "M1") == "updated"
    assert chain.party_book().members(codes=["M1"])["phone"].iloc[0] == PHONES[0]
    last = register_history(chain, "members", "M1", ADMIN)[-1]
    assert last.author == "carol"
    assert (last.changes[0].before["phone"], last.changes[0].after["phone"]) == (NEW_PHONE, PHONES[0])  # type: ignore[index]
    # The revert is history too: reverting it brings the new phone back.
    assert revert_newest(chain, "members", "M1") == "updated"
    assert chain.party_book().members(codes=["M1"])["phone"].iloc[0] == NEW_PHONE
    # A removed member comes back; a member the newest change made goes.
    chain.party_book().delete("party_members", "M2")
    assert revert_newest(chain, "members", "M2") == "deleted"
    assert chain.party_book().members(codes=["M2"])["service_hours"].iloc[0] == 12.5
    save_member(chain, replace(MEMBERS[2], code="M9"))
    assert revert_newest(chain, "members", "M9") == "inserted"
    assert not len(chain.party_book().members(codes=["M9"]))
    assert _steps(chain, "members", "M9")[-1][1] == "deleted"
    with pytest.raises(NotFoundError):
        revert_newest(chain, "members", "M404")


def test_a_revert_meets_the_registers_rules(chain: Store) -> None:
    save_member(chain, replace(MEMBERS[2], org_code="PG2"))  # M3 moves from PB3 to its branch
    close_org(chain, "PB3", dt.date.today())
    with pytest.raises(ValidationError) as error:
        revert_newest(chain, "members", "M3")  # back to PB3, which is no longer in force
    assert {p.field for p in error.value.problems} == {"org_code"}
    assert chain.party_book().members(codes=["M3"])["org_code"].iloc[0] == "PG2"


def test_units_links_points_and_funds_keep_their_history(chain: Store) -> None:
    save_unit(chain, replace(UNITS[1], covered_by="PN1"))
    unit = register_history(chain, "units", "U2", VIEWER)[-1].changes[0]
    assert (unit.before["covered_by"], unit.after["covered_by"]) == (None, "PN1")  # type: ignore[index]
    assert revert_newest(chain, "units", "U2") == "updated"
    assert chain.party_book().units().set_index("code")["covered_by"].isna()["U2"]

    confirm_links(chain, "H1", ["H2", "H3"], by="社区")
    confirm_links(chain, "H1", ["H2", "H4"], by="社区")
    assert _steps(chain, "links", "H2") == [("社区", "inserted")]  # kept as confirmed first
    assert _steps(chain, "links", "H3") == [("社区", "inserted"), ("社区", "deleted")]
    assert revert_newest(chain, "links", "H3") == "deleted"
    assert sorted(chain.party_book().links(centers=["H1"])["household_code"]) == ["H2", "H3", "H4"]

    set_rules(chain, DEFAULT_RULES)
    day = dt.date(2025, 5, 4)
    entry = record_points(chain, PointEntry("M1", "study", day, approver="支部书记", evidence="签到表"))
    assert revert_newest(chain, "points", str(entry)) == "inserted"
    assert not len(chain.party_book().points())
    assert revert_newest(chain, "points", str(entry)) == "deleted"  # the entry, its number kept
    assert chain.party_book().points()["id"].tolist() == [entry]

    funds = record_funds(chain, FundsEntry("PG1", 2025, "receipt", 6_000))
    assert [op for _, op in _steps(chain, "funds", str(funds))] == ["inserted"]
    revert_newest(chain, "funds", str(funds))
    assert not len(chain.party_book().funds())
    with pytest.raises(NotFoundError):
        register_history(chain, "funds", "twelve", ADMIN)
    with pytest.raises(NotFoundError):
        register_history(chain, "budgets", "1", ADMIN)


def test_an_older_geopackage_gains_the_history_when_opened(tmp_path: Path) -> None:
    path = str(tmp_path / "old.gpkg")
    with open_store(path) as store:
        load_chain(store)
    with sqlite3.connect(path) as conn:  # a file from before the registers kept their history
        for table in ("party_units", "party_members", "party_links", "party_points", "party_funds"):
            conn.execute(f'DROP TABLE "{table}_history"')
            conn.execute(f"DELETE FROM gpkg_contents WHERE table_name = '{table}_history'")
            for column in ("changed_by", "changed_at"):
                conn.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    with open_store(path) as store:
        assert store.party_book().members()["code"].tolist() == ["M1", "M2", "M3"]
        with acting_as("alice", "editor", "test"):
            save_member(store, replace(MEMBERS[0], phone=NEW_PHONE))
        history = register_history(store, "members", "M1", ADMIN)
        # The version from before has no time of its own: it is the update's `before`.
        assert [(r.author, r.changes[0].op) for r in history] == [("alice", "updated")]
        assert history[0].changes[0].before["phone"] == PHONES[0]  # type: ignore[index]
    with sqlite3.connect(path) as conn:
        registered = {row[0] for row in conn.execute("SELECT table_name FROM gpkg_contents")}
        assert "party_members_history" in registered
