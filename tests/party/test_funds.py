"""The funds ledger with known answers: branch funds and "321" support owed, received, short, overspent."""

from __future__ import annotations

import datetime as dt

import pytest

from gridmap.errors import ValidationError
from gridmap.party.funds import FundsEntry, record_funds, year_funds
from gridmap.party.register import Unit, close_org, save_unit
from gridmap.stores import Store


def test_who_is_short(chain: Store) -> None:
    save_unit(
        chain, Unit("U4", "区人民医院", "institution", "S1", member_of="PC1", tier=2), on=dt.date(2024, 1, 1)
    )
    save_unit(
        chain, Unit("U5", "市第二中学", "institution", "S1", member_of="PC2", tier=1), on=dt.date(2024, 1, 1)
    )
    close_org(chain, "PB3", dt.date(2025, 4, 1))
    close_org(chain, "PG2", dt.date(2025, 4, 1))  # in force for part of 2025: still owed its year
    for entry in (
        FundsEntry("PG1", 2025, "receipt", 6_000),
        FundsEntry("PG2", 2025, "receipt", 10_000),
        FundsEntry("PC1", 2025, "receipt", 20_000, source="U3"),
        FundsEntry("PC1", 2025, "receipt", 20_000, source="U4"),
        FundsEntry("PG1", 2025, "spending", 7_500, category="service", evidence="发票 001"),
        FundsEntry("PG1", 2024, "receipt", 10_000),
    ):
        record_funds(chain, entry)
    short, balance = year_funds(chain, 2025)
    got = short[["org_code", "source", "entitled", "received", "short"]].values.tolist()
    assert got == [
        ["PC1", "U3", 30_000, 20_000, 10_000],
        ["PC1", "U4", 20_000, 20_000, 0],
        ["PC2", "U5", 1_000, 0, 1_000],
        ["PG1", "branch_funds", 10_000, 6_000, 4_000],
        ["PG2", "branch_funds", 10_000, 10_000, 0],
    ]
    rows = balance.set_index("org_code")
    assert rows.loc["PG1", "balance"] == -1_500 and bool(rows.loc["PG1", "overspent"])
    assert not bool(rows.loc["PG2", "overspent"])
    assert year_funds(chain, 2026)[0]["org_code"].tolist() == ["PC1", "PC1", "PC2", "PG1"]  # PG2 closed


def test_bad_entries_change_nothing(chain: Store) -> None:
    with pytest.raises(ValidationError) as error:
        record_funds(chain, FundsEntry("PG9", 2025, "spending", -5, category="party", evidence=""))
    assert {p.field for p in error.value.problems} == {"org_code", "amount", "category", "evidence"}
    with pytest.raises(ValidationError) as error:
        record_funds(chain, FundsEntry("PG1", 2025, "receipt", 100, source="U99"))
    assert {p.field for p in error.value.problems} == {"source"}
    assert not len(chain.party_book().funds())
