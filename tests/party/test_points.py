"""党员积分 with known answers: caps per item, the floor, ties in the ranking; the ledger on both stores."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gridmap.errors import NotFoundError, ValidationError
from gridmap.party.points import (
    DEFAULT_RULES,
    PointEntry,
    Scheme,
    annual_totals,
    check_rules,
    public_list,
    ranking,
    record_points,
    set_rules,
    year_ranking,
)
from gridmap.stores import Store
from tests.party.conftest import NAMES, PHONES

ORGS = pd.DataFrame(
    {
        "code": ["PG1", "PB1", "PG2"],
        "name": ["第1网格党支部", "1栋党小组", "第2网格党支部"],
        "kind": ["grid_branch", "building_group", "grid_branch"],
        "parent_code": ["PC1", "PG1", "PC1"],
    }
)


def _members(orgs: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"code": list(orgs), "org_code": list(orgs.values())})


def _entries(*rows: tuple[str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["member_code", "rule_code", "events"])


def test_fifteen_study_sessions_earn_twelve() -> None:
    entries = _entries(*[("M1", "study", 1)] * 15)
    (row,) = annual_totals(entries, DEFAULT_RULES, _members({"M1": "PG1"}), ORGS, Scheme()).to_dict("records")
    assert (row["earned"], row["capped"], row["deducted"], row["total"]) == (12, 18, 0, 72)


def test_deductions_never_take_a_total_below_the_floor() -> None:
    entries = _entries(
        ("M1", "violation", 7), ("M2", "violation", 2), ("M2", "absent", 6), ("M2", "volunteer", 1)
    )
    totals = annual_totals(
        entries, DEFAULT_RULES, _members({"M1": "PG1", "M2": "PG1"}), ORGS, Scheme(base=60, floor=0)
    )
    m1, m2 = totals.to_dict("records")
    assert (m1["deducted"], m1["total"]) == (70, 0)  # 60 − 70 stops at the floor
    # absent: 6 × −5 = −30, capped at 20; violation −20; volunteer +3.
    assert (m2["earned"], m2["deducted"], m2["capped"], m2["total"]) == (3, 40, 10, 23)
    raised = annual_totals(entries, DEFAULT_RULES, _members({"M1": "PG1", "M2": "PG1"}), ORGS, Scheme(60, 30))
    assert raised["total"].tolist() == [30, 30]


def test_ties_share_a_rank_within_a_branch() -> None:
    members = _members({"M1": "PG1", "M2": "PB1", "M3": "PG1", "M4": "PG2", "M5": "PG1"})
    entries = _entries(("M1", "volunteer", 3), ("M2", "volunteer", 3), ("M3", "study", 2), ("M4", "study", 1))
    ranked = ranking(annual_totals(entries, DEFAULT_RULES, members, ORGS, Scheme()))
    got = ranked[["branch_code", "member_code", "total", "rank"]].values.tolist()
    assert got == [
        ["PG1", "M1", 69, 1],
        ["PG1", "M2", 69, 1],  # a building group's member ranks in its grid branch
        ["PG1", "M3", 64, 3],
        ["PG1", "M5", 60, 4],
        ["PG2", "M4", 62, 1],
    ]
    posted = public_list(ranked, ORGS)
    assert list(posted.columns) == ["branch_code", "branch_name", "rank", "earned", "deducted", "total"]
    assert posted["branch_name"].iloc[0] == "第1网格党支部"


def test_rules_are_checked_whole() -> None:
    bad = pd.DataFrame(
        {
            "code": ["a", "a", ""],
            "name_zh": ["甲"] * 3,
            "name_en": ["a"] * 3,
            "points": [1, 0, 2],
            "annual_cap": [1, -1, None],
        }
    )
    with pytest.raises(ValidationError) as error:
        check_rules(bad)
    assert {(p.row, p.field) for p in error.value.problems} == {
        (2, "points"),
        (2, "annual_cap"),
        (3, "code"),
        (None, "code"),
    }


def test_the_ledger_on_the_store(chain: Store) -> None:
    set_rules(chain, DEFAULT_RULES)
    day = dt.date(2025, 5, 4)
    for _ in range(15):
        record_points(chain, PointEntry("M1", "study", day, approver="支部书记", evidence="签到表"))
    record_points(chain, PointEntry("M2", "volunteer", day, approver="支部书记", evidence="照片", events=4))
    record_points(
        chain, PointEntry("M3", "study", dt.date(2024, 5, 4), approver="支部书记", evidence="签到表")
    )
    with pytest.raises(ValidationError) as error:
        record_points(chain, PointEntry("M1", "karaoke", day, approver=" ", evidence="", events=0))
    assert {p.field for p in error.value.problems} == {"rule_code", "approver", "evidence", "events"}
    with pytest.raises(NotFoundError):
        record_points(chain, PointEntry("M9", "study", day, approver="书记", evidence="签到表"))
    ranked = year_ranking(chain, 2025, Scheme())
    assert ranked[["branch_code", "member_code", "total", "rank"]].values.tolist() == [
        ["PG1", "M1", 72, 1],
        ["PG1", "M2", 72, 1],
        ["PG2", "M3", 60, 1],  # its study was in 2024
    ]
    posted = public_list(ranked, chain.party_book().orgs()).to_csv(index=False)
    assert not any(secret in posted for secret in (*NAMES, *PHONES, "M1", "H1"))
