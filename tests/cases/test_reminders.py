"""催办 and 督办: the day's list of dispatched cases by their deadline, on working days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from gridmap.cases.calendar import WorkingCalendar
from gridmap.cases.desk import CaseDesk
from gridmap.cases.reminders import reminders
from gridmap.cases.vocabulary import Action
from tests.cases.conftest import ADMIN, CITY, EDITOR_C1, EDITOR_C2, Clock, report

BEIJING = ZoneInfo("Asia/Shanghai")


def case(code: str, due: dt.datetime, level: str = "grid") -> dict[str, object]:
    return {"code": code, "status": "dispatched", "due_at": due, "level": level}


def test_the_kinds_of_reminder_on_a_monday() -> None:
    calendar = WorkingCalendar()
    monday = dt.date(2026, 12, 7)
    cases = [
        case("tomorrow", dt.datetime(2026, 12, 8, 10, tzinfo=BEIJING)),
        case("today", dt.datetime(2026, 12, 7, 16, tzinfo=BEIJING)),
        case("friday", dt.datetime(2026, 12, 4, 16, tzinfo=BEIJING)),  # one working day late on Monday
        case("week", dt.datetime(2026, 12, 1, 16, tzinfo=BEIJING), "community"),  # 4 working days late
        case("later", dt.datetime(2026, 12, 9, 10, tzinfo=BEIJING)),
        {**case("handled", dt.datetime(2026, 12, 7, 10, tzinfo=BEIJING)), "status": "handled"},
    ]
    found = reminders(cases, monday, calendar)
    assert [(r.case["code"], r.kind, r.overdue_days, r.escalate_to) for r in found] == [
        ("week", "escalate", 4, "street"),
        ("friday", "notice", 1, None),
        ("today", "due_today", 0, None),
        ("tomorrow", "remind", 0, None),
    ]
    assert [r.kind for r in reminders(cases, monday, calendar, escalate_after=10)][:1] == ["notice"]


def test_each_role_sees_its_own_list(desk: CaseDesk, clock: Clock) -> None:
    codes = [report(desk), report(desk, "武汉市武昌区和平大道12号")]
    for code, editor in zip(codes, (EDITOR_C1, EDITOR_C2), strict=True):
        desk.move(editor, code, Action.ACCEPT)
        desk.move(editor, code, Action.DISPATCH)  # Tuesday 1 Dec, due 13:30 + … the same day
    day = dt.date(2026, 12, 1)
    assert {r.case["code"] for r in desk.due(ADMIN, day)} == set(codes)
    assert [r.case["code"] for r in desk.due(EDITOR_C1, day)] == codes[:1]
    assert {r.kind for r in desk.due(CITY, day)} == {"due_today"}
    assert [r.kind for r in desk.due(ADMIN, dt.date(2026, 12, 7))] == ["escalate", "escalate"]
