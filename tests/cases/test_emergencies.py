"""Emergencies run on calendar hours: a gas-pipe rupture is due an hour after dispatch, day or night."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from gridmap.cases.categories import DEFAULT_CATALOGUE
from gridmap.cases.desk import CaseDesk
from gridmap.cases.vocabulary import Action
from tests.cases.conftest import ADDRESS_G1, ADMIN, Clock, report

BEIJING = ZoneInfo("Asia/Shanghai")
GAS = "0503"  # 燃气管道破裂: 1 hour


@pytest.mark.parametrize(
    ("dispatched", "due"),
    [
        ((2026, 12, 1, 11, 24, 57), (2026, 12, 1, 12, 24, 57)),  # Tuesday before lunch: no lunch skipped
        ((2026, 12, 4, 19, 30, 0), (2026, 12, 4, 20, 30, 0)),  # Friday evening: not Monday
        ((2026, 10, 3, 2, 0, 0), (2026, 10, 3, 3, 0, 0)),  # National Day holiday, at night
    ],
)
def test_an_emergency_is_due_in_calendar_hours(
    desk: CaseDesk, clock: Clock, dispatched: tuple[int, ...], due: tuple[int, ...]
) -> None:
    assert DEFAULT_CATALOGUE.subcategory(GAS).clock == "calendar"
    clock.now = dt.datetime(*dispatched, tzinfo=BEIJING) - dt.timedelta(minutes=10)
    code = report(desk, ADDRESS_G1, GAS)
    clock.advance(minutes=10)
    desk.move(ADMIN, code, Action.ACCEPT)
    case = desk.move(ADMIN, code, Action.DISPATCH)
    assert case["department"] == "rq"
    assert case["due_at"] == dt.datetime(*due, tzinfo=BEIJING)
    assert case["response_on_time"] is True  # accepted within half an hour
    clock.advance(minutes=90)
    handled = desk.move(ADMIN, code, Action.HANDLE)
    assert handled["on_time"] is False and handled["handling_hours"] == pytest.approx(1.5)


def test_an_ordinary_case_still_runs_on_working_hours(desk: CaseDesk, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 12, 4, 16, 30, tzinfo=BEIJING)  # Friday 16:30
    code = report(desk, ADDRESS_G1, "0102")  # 暴露垃圾: 4 working hours
    desk.move(ADMIN, code, Action.ACCEPT)
    case = desk.move(ADMIN, code, Action.DISPATCH)
    assert case["due_at"] == dt.datetime(2026, 12, 7, 12, 0, tzinfo=BEIJING)  # 1 h Friday, 3 h Monday
