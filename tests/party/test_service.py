"""The workbook's party sheets from a store: one per registered finding kind, none without a register."""

from __future__ import annotations

import datetime as dt

from gridmap.party.findings import PARTY_FINDINGS
from gridmap.party.service import party_sheets
from gridmap.stores import Store
from tests.party.conftest import district


def test_one_sheet_per_finding(chain: Store) -> None:
    sheets = dict(party_sheets(chain, dt.date(2025, 1, 1)))
    assert list(sheets) == [f"党建-{f.zh}" for f in PARTY_FINDINGS.values()]
    assert sheets["党建-楼栋未建党小组"]["编码"].tolist() == ["B2", "B4"]
    assert sheets["党建-两个覆盖"]["组织覆盖"].tolist() == [1]
    assert party_sheets(chain, dt.date(2023, 1, 1)) == []  # nothing in force before the chain began


def test_a_store_without_a_register_has_no_party_sheets(store: Store) -> None:
    store.replace_many(district())
    assert party_sheets(store) == []
