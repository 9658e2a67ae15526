"""The three rates (三率) on a hand-worked set of 20 cases, on both stores.

All 20 are reported in G1 on Tuesday 09:00 (category 0102: respond within 2
working hours). Worked by hand:

- cases 1–13 are accepted at 10:00 (in time), 14–16 at 13:00 (3 working
  hours: late), 17–18 are never accepted, 19–20 are voided (作废, approved);
  counted = 20 − 2 void = 18; response rate = 13 / 18 = 0.7222;
- 1–16 are dispatched, 1–14 handled, checked and closed;
- the follow-ups: 1–6 satisfied, 7–8 basically satisfied, 9 dissatisfied
  with the staff's attitude (not substantive: stays closed), 10–11
  dissatisfied because unsolved (reopened), 12–13 not reached, 14 not yet;
  reached = 11, satisfied = 8: satisfaction rate = 8 / 11 = 0.7273;
- case 10 is dispatched and closed again: closed = 13, but resolved (closed,
  never reopened) = 12; resolution rate = 12 / 18 = 0.6667;
- awaiting follow-up: 14 and 10 (closed again since its follow-up) = 2.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gridmap.cases.desk import CaseDesk
from gridmap.cases.lifecycle import Actor
from gridmap.cases.vocabulary import Action
from gridmap.privacy import Role
from gridmap.stores.cases import CaseFilter
from gridmap.vocabulary import GRADE_COLORS, rate_color, rate_grade
from tests.cases.conftest import ADMIN, CITY, EDITOR_C1, Clock, report

REVIEWER = Actor(Role.REVIEWER, "第三方回访中心")
FOLLOW_UPS: dict[int, dict[str, object]] = {
    **{n: {"reached": True, "satisfaction": "satisfied"} for n in range(1, 7)},
    7: {"reached": True, "satisfaction": "basic"},
    8: {"reached": True, "satisfaction": "basic"},
    9: {"reached": True, "satisfaction": "dissatisfied", "reason": "attitude"},
    10: {"reached": True, "satisfaction": "dissatisfied", "reason": "unsolved"},
    11: {"reached": True, "satisfaction": "dissatisfied", "reason": "unsolved"},
    12: {"reached": False},
    13: {"reached": False},
}


def close(desk: CaseDesk, code: str) -> None:
    desk.move(EDITOR_C1, code, Action.DISPATCH)
    desk.move(CITY, code, Action.HANDLE)
    desk.move(EDITOR_C1, code, Action.CHECK)
    desk.move(EDITOR_C1, code, Action.CLOSE)


@pytest.fixture
def twenty(desk: CaseDesk, clock: Clock) -> dict[int, str]:
    codes = {n: report(desk, reporter_phone="13812341234") for n in range(1, 21)}
    clock.advance(hours=1)
    for n in range(1, 14):
        desk.move(EDITOR_C1, codes[n], Action.ACCEPT)
    clock.advance(hours=3)
    for n in range(14, 17):
        desk.move(EDITOR_C1, codes[n], Action.ACCEPT)
    for n in (19, 20):
        desk.move(EDITOR_C1, codes[n], Action.VOID, note="重复上报")
        desk.move(ADMIN, codes[n], Action.APPROVE)
    for n in range(1, 15):
        close(desk, codes[n])
    for n in (15, 16):
        desk.move(EDITOR_C1, codes[n], Action.DISPATCH)
    clock.advance(days=1)
    for n, said in FOLLOW_UPS.items():
        desk.move(REVIEWER, codes[n], Action.REVIEW, **said)  # type: ignore[arg-type]
    clock.advance(hours=2)
    close(desk, codes[10])
    return codes


def test_the_three_rates_of_twenty_cases(desk: CaseDesk, twenty: dict[int, str]) -> None:
    for by, key in (("grid", "G1"), ("community", "C1"), ("street", "S1")):
        row = desk.statistics(by).set_index("key").loc[key]
        assert row["received"] == 20 and row["void"] == 2
        assert row["responded_in_time"] == 13 and row["response_rate"] == pytest.approx(0.7222)
        assert row["closed"] == 13 and row["resolved"] == 12
        assert row["resolution_rate"] == pytest.approx(0.6667)
        assert row["followed_up"] == 13 and row["reached"] == 11 and row["satisfied"] == 8
        assert row["satisfaction_rate"] == pytest.approx(0.7273)
        assert row["reopened"] == 2 and row["awaiting_review"] == 2
        assert row["solved_grid"] == 13 and row["solved_grid_share"] == 1.0
    department = desk.statistics("department").set_index("key").loc["cgj"]
    assert department["received"] == 16  # the dispatched ones
    assert department["resolution_rate"] == pytest.approx(12 / 16, abs=1e-4)
    waiting, total = desk.search(REVIEWER, CaseFilter(awaiting_review=True))
    assert total == 2 and {c["code"] for c in waiting} == {twenty[10], twenty[14]}
    statuses = pd.Series([desk.get(ADMIN, twenty[n])["status"] for n in (9, 10, 11)])
    assert statuses.tolist() == ["closed", "closed", "accepted"]


def test_rates_are_graded_with_the_vocabulary_colours() -> None:
    assert rate_grade("response_rate", 0.96) == "A" and rate_grade("response_rate", 0.7222) == "D"
    assert rate_grade("satisfaction_rate", 0.92) == "B" and rate_grade("resolution_rate", 0.75) == "C"
    assert rate_grade("resolution_rate", float("nan")) is None
    assert rate_color("response_rate", 0.95) == GRADE_COLORS["A"]
