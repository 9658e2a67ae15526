"""Units, 一户十联 links, points and funds to and from the files office staff use, and back, field by field;
a bad file names itself, the row and the reason, and changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from gridmap.errors import ValidationError
from gridmap.party.files import import_register, register_frame, write_register
from gridmap.party.funds import FundsEntry, record_funds
from gridmap.party.points import DEFAULT_RULES, PointEntry, record_points, set_rules
from gridmap.party.register import confirm_links
from gridmap.stores import Store

TABLES = {"units": "party_units", "links": "party_links", "points": "party_points", "funds": "party_funds"}
STAMPS = ["changed_by", "changed_at"]


def _filled(store: Store) -> Store:
    confirm_links(store, "H1", ["H2", "H3", "H4"], by="社区", on=dt.date(2025, 3, 1))
    set_rules(store, DEFAULT_RULES)
    record_points(store, PointEntry("M1", "study", dt.date(2025, 5, 4), "支部书记", "签到表", 3))
    record_points(store, PointEntry("M2", "volunteer", dt.date(2025, 6, 1), "支部书记", "照片"))
    record_funds(store, FundsEntry("PG1", 2025, "receipt", 6_000, recorded_on=dt.date(2025, 2, 1)))
    record_funds(store, FundsEntry("PC1", 2025, "receipt", 15_000.5, source="U3"))
    record_funds(store, FundsEntry("PG1", 2025, "spending", 2_500, category="service", evidence="发票 001"))
    return store


def _fields(store: Store, register: str) -> list[dict[str, object]]:
    frame = register_frame(store, register, whole=True).drop(columns=STAMPS)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # type: ignore[return-value]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_each_register_comes_back_field_by_field(chain: Store, tmp_path: Path, suffix: str) -> None:
    _filled(chain)
    for register, table in TABLES.items():
        before = _fields(chain, register)
        assert before, register
        path = write_register(register_frame(chain, register, whole=True), tmp_path / f"{register}{suffix}")
        chain.party_book().replace({table: pd.DataFrame(columns=["code"])})  # the register emptied
        assert not len(register_frame(chain, register, whole=True))
        assert import_register(chain, register, path, by="办公室") == len(before)
        assert _fields(chain, register) == before, register
        assert set(register_frame(chain, register, whole=True)["changed_by"]) == {"办公室"}
    # The ledgers number on after the numbers a file gave.
    later = record_funds(chain, FundsEntry("PG2", 2025, "receipt", 1_000))
    assert later > max(int(r["id"]) for r in _fields(chain, "funds") if r["org_code"] != "PG2")  # type: ignore[call-overload]


def test_a_ledger_file_adds_entries_and_replaces_those_it_numbers(chain: Store, tmp_path: Path) -> None:
    _filled(chain)
    frame = register_frame(chain, "funds", whole=True)
    frame.loc[frame["flow"] == "spending", "amount"] = 3_000.0  # a correction of entry 3
    frame.loc[len(frame)] = {**frame.iloc[0].to_dict(), "id": None, "org_code": "PG2", "amount": 10_000}
    path = write_register(frame, tmp_path / "funds.csv")
    assert import_register(chain, "funds", path, by="办公室") == 4
    ledger = chain.party_book().funds()
    assert len(ledger) == 4 and ledger.loc[ledger["flow"] == "spending", "amount"].tolist() == [3_000.0]
    spent = int(ledger.loc[ledger["flow"] == "spending", "id"].iloc[0])
    assert chain.party_book().versions("party_funds", spent)["amount"].tolist() == [2_500.0, 3_000.0]


BAD = {
    "units": (
        {
            "code": "U9",
            "name": "某银行",
            "kind": "bank",
            "street_code": "S1",
            "tier": "5",
            "member_of": "PC1",
        },
        {"kind", "tier"},
    ),
    "links": ({"household_code": "H7", "center_code": "H1"}, {"households"}),
    "points": ({"member_code": "M9", "rule_code": "karaoke", "occurred_on": "2025-05-04"}, None),
    "funds": ({"org_code": "PG1", "year": "1999", "flow": "receipt", "amount": "六千"}, {"year", "amount"}),
}


@pytest.mark.parametrize("register", list(BAD))
def test_a_bad_row_is_named_with_its_file_and_nothing_changes(
    chain: Store, tmp_path: Path, register: str
) -> None:
    _filled(chain)
    before = _fields(chain, register)
    good = register_frame(chain, register, whole=True).drop(columns=STAMPS)
    row, fields = BAD[register]
    path = tmp_path / f"bad-{register}.xlsx"
    write_register(pd.concat([good, pd.DataFrame([row])], ignore_index=True), path)
    with pytest.raises(ValidationError) as error:
        import_register(chain, register, path, by="办公室")
    text = str(error.value)
    bad_row = len(good) + 2  # the header is row 1
    assert path.name in text and f"row {bad_row}" in text, text
    assert {p.row for p in error.value.problems} == {bad_row}
    found = {p.field for p in error.value.problems}
    assert found == (fields or {"member_code", "rule_code", "approver", "evidence"}), found
    assert _fields(chain, register) == before


def test_a_file_without_a_required_column_is_refused(chain: Store, tmp_path: Path) -> None:
    path = write_register(pd.DataFrame({"household_code": ["H2"]}), tmp_path / "links.csv")
    with pytest.raises(ValidationError) as error:
        import_register(chain, "links", path, by="办公室")
    assert [p.field for p in error.value.problems] == ["center_code"]
