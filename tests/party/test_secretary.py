"""A secretary is a member of the organisation (or of one below it), read from the member record."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from gridmap.errors import ValidationError
from gridmap.party.register import save_member, save_org
from gridmap.stores import Store, open_store
from tests.party.conftest import CHAIN, MEMBERS, NAMES, PHONES, load_chain

PG1 = next(o for o in CHAIN if o.code == "PG1")
PS1 = next(o for o in CHAIN if o.code == "PS1")
LATER = dt.date(2025, 7, 1)


def _current(store: Store, code: str) -> dict[str, object]:
    return dict(store.party_book().orgs(on=LATER, codes=[code]).iloc[0])


def _refused(store: Store, org: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as error:
        save_org(store, org, by="test")  # type: ignore[arg-type]
    return {str(p.field): p.reason for p in error.value.problems}


def test_a_member_below_the_organisation_is_its_secretary_with_their_name_and_phone(store: Store) -> None:
    load_chain(store)
    plain = replace(PG1, secretary=None, secretary_phone=None, secretary_code="M1", valid_from=LATER)
    row = save_org(store, plain, by="test")  # M1 belongs to PB1, a group of PG1
    assert (row["secretary"], row["secretary_phone"]) == (NAMES[0], PHONES[0])
    current = _current(store, "PG1")
    assert (current["secretary_code"], current["secretary"], current["secretary_phone"]) == (
        "M1",
        NAMES[0],
        PHONES[0],
    )
    # The member record is the truth: a new phone reaches the organisation.
    save_member(store, replace(MEMBERS[0], phone="13611112222"), on=LATER)
    assert _current(store, "PG1")["secretary_phone"] == "13611112222"
    # A version from before the link keeps the name and phone it was written with.
    assert (_current(store, "PS1")["secretary"], _current(store, "PS1")["secretary_code"]) == (NAMES[1], None)


def test_a_secretary_from_elsewhere_or_unknown_or_misnamed_is_refused(store: Store) -> None:
    load_chain(store)
    elsewhere = _refused(store, replace(PG1, secretary_code="M3", valid_from=LATER))  # M3: PB3 under PG2
    assert "M3 belongs to PB3, not to PG1" in elsewhere["secretary_code"]
    assert (
        "no member M7"
        in _refused(store, replace(PG1, secretary_code="M7", valid_from=LATER))["secretary_code"]
    )
    misnamed = _refused(store, replace(PG1, secretary="刘洋", secretary_code="M1", valid_from=LATER))
    assert set(misnamed) == {"secretary"}
    # A member of the organisation itself, or anywhere below: M2 (PG1) for the street committee PS1.
    save_org(
        store,
        replace(PS1, secretary=None, secretary_phone=None, secretary_code="M2", valid_from=LATER),
        by="t",
    )
    assert _current(store, "PS1")["secretary"] == NAMES[1]
    assert len(store.party_book().orgs(codes=["PG1"])) == 1  # nothing written for the refusals


def test_an_older_geopackage_gains_the_column_when_opened(tmp_path: Path) -> None:
    path = str(tmp_path / "old.gpkg")
    with open_store(path) as store:
        load_chain(store)
    with sqlite3.connect(path) as conn:  # a file from before the link (and so its check)
        for event in ("insert", "update"):
            conn.execute(f'DROP TRIGGER "party_orgs_secretary_{event}"')
        conn.execute("ALTER TABLE party_orgs DROP COLUMN secretary_code")
    with open_store(path) as store:
        orgs = store.party_book().orgs()
        assert orgs["secretary_code"].isna().all() and NAMES[0] in orgs["secretary"].tolist()
        save_org(store, replace(PG1, secretary_code="M1", valid_from=LATER), by="test")
        assert _current(store, "PG1")["secretary_code"] == "M1"
