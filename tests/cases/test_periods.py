"""Statistics per calendar month in Beijing time: a known answer across a month boundary, on both stores.

Monday 30 November 2026 23:30 Beijing (15:30 UTC) is November on either
clock; Tuesday 1 December 00:30 Beijing is 16:30 UTC on 30 November, so a
month read in UTC would put it in November: it belongs to December.

- A (30 Nov 23:30 Beijing) accepted Tuesday 09:00: no working hour elapsed, in time;
- B (1 Dec 00:30 Beijing) accepted Tuesday 12:00: 3 working hours, late (0102: 2 hours);
- C (1 Dec 09:00 Beijing) accepted at 10:00: in time.

November: 1 received, response rate 1.0; December: 2 received, 0.5 (read in
UTC it would be 2 and 0.5 in November, 1 and 1.0 in December).
"""

from __future__ import annotations

import datetime as dt

import pytest

from gridmap.cases.desk import CaseDesk
from gridmap.cases.vocabulary import Action
from tests.cases.conftest import EDITOR_C1, Clock, report

UTC = dt.UTC


@pytest.fixture
def across(desk: CaseDesk, clock: Clock) -> dict[str, str]:
    clock.now = dt.datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    a = report(desk)
    clock.now = dt.datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    b = report(desk)
    clock.now = dt.datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    c = report(desk)
    desk.move(EDITOR_C1, a, Action.ACCEPT)
    clock.now = dt.datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    desk.move(EDITOR_C1, c, Action.ACCEPT)
    clock.now = dt.datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    desk.move(EDITOR_C1, b, Action.ACCEPT)
    return {"a": a, "b": b, "c": c}


def test_months_are_read_in_beijing_time(desk: CaseDesk, across: dict[str, str]) -> None:
    table = desk.statistics("grid", period="month")
    assert table[["period", "key", "received", "responded_in_time"]].values.tolist() == [
        ["2026-11", "G1", 1, 1],
        ["2026-12", "G1", 2, 1],
    ]
    assert table["response_rate"].tolist() == [1.0, 0.5]
    assert table["category_01"].tolist() == [1, 2]
    street = desk.statistics("street", period="month")
    assert street[["period", "key", "received"]].values.tolist() == [
        ["2026-11", "S1", 1],
        ["2026-12", "S1", 2],
    ]


def test_a_period_within_one_month_gives_one_row_per_group(desk: CaseDesk, across: dict[str, str]) -> None:
    since = dt.datetime(2026, 12, 1, tzinfo=desk.calendar.zone)
    table = desk.statistics("community", since=since, period="month")
    assert table[["period", "key", "received"]].values.tolist() == [["2026-12", "C1", 2]]
    assert desk.statistics("grid", period="month", since=since + dt.timedelta(days=5)).empty
