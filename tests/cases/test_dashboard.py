"""The 街道网格化综合管理中心 dashboard: known counts and rates for an editor and an admin, on both stores.

On Tuesday 1 December 2026 (09:00 Beijing):
- N, reported and dispatched ten days before (November), is overdue;
- a (G1), c (G3) of 0102 are dispatched at 09:00: due 14:30 today;
- b (G1) of 0601 (16 working hours) is due on Thursday 3 December;
- d (G1) is closed at once and waits for its follow-up; e (G1) is never accepted.
The editor of C1 sees a, b, d, e and N: due today 1, overdue 1, awaiting 1, no broken speaker (K2 is in
C2); December's response rate 3 / 4 (D), resolution 1 / 4 (D), no follow-up yet. The admin also sees c
and K2: due today 2, response 4 / 5 = 0.8 (C), resolution 1 / 5.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gridmap.cases.dashboard import dashboard
from gridmap.cases.desk import CaseDesk
from gridmap.cases.vocabulary import Action
from gridmap.errors import ValidationError
from gridmap.vocabulary import GRADE_COLORS, NO_DATA_COLOR
from tests.cases.conftest import (
    ADDRESS_G1,
    ADDRESS_G3,
    ADMIN,
    CITY,
    EDITOR_C1,
    EDITOR_C2,
    START,
    Clock,
    report,
)

DAY = dt.date(2026, 12, 1)


def dispatched(desk: CaseDesk, address: str, category: str) -> str:
    code = report(desk, address, category)
    editor = EDITOR_C1 if address == ADDRESS_G1 else EDITOR_C2
    desk.move(editor, code, Action.ACCEPT)
    desk.move(editor, code, Action.DISPATCH)
    return code


def test_the_dashboard_of_an_editor_and_of_the_admin(desk: CaseDesk, clock: Clock) -> None:
    clock.now = START - dt.timedelta(days=10)
    dispatched(desk, ADDRESS_G1, "0102")
    clock.now = START
    dispatched(desk, ADDRESS_G1, "0102")
    dispatched(desk, ADDRESS_G3, "0102")
    dispatched(desk, ADDRESS_G1, "0601")
    d = dispatched(desk, ADDRESS_G1, "0102")
    desk.move(CITY, d, Action.HANDLE)
    desk.move(EDITOR_C1, d, Action.CHECK)
    desk.move(EDITOR_C1, d, Action.CLOSE)
    report(desk, ADDRESS_G1, "0102")

    mine = dashboard(desk, EDITOR_C1, DAY)
    assert mine.month == "2026-12"
    assert mine.counts == {"due_today": 1, "overdue": 1, "awaiting_review": 1, "broken_speakers": 0}
    assert mine.rates == {"response_rate": 0.75, "resolution_rate": 0.25, "satisfaction_rate": None}
    shown = mine.as_dict()
    assert [c["label_zh"] for c in shown["counts"]] == ["今日到期", "超期", "待回访", "故障广播"]
    assert [(r["label_zh"], r["grade"], r["color"]) for r in shown["rates"]] == [
        ("响应率", "D", GRADE_COLORS["D"]),
        ("解决率", "D", GRADE_COLORS["D"]),
        ("满意率", None, NO_DATA_COLOR),
    ]

    everything = dashboard(desk, ADMIN, DAY)
    assert everything.counts == {"due_today": 2, "overdue": 1, "awaiting_review": 1, "broken_speakers": 1}
    assert everything.rates["response_rate"] == 0.8 and everything.rates["resolution_rate"] == 0.2
    assert everything.as_dict()["rates"][0]["grade"] == "C"
    assert [(s["code"], s["grid_code"], s["grid_name"]) for s in everything.broken] == [
        ("K2", "G3", "和平网格")
    ]
    assert dashboard(desk, ADMIN, dt.date(2026, 12, 3)).counts["due_today"] == 1  # b
    assert dashboard(desk, ADMIN, dt.date(2026, 11, 30)).rates["response_rate"] == 1.0  # N, in November


def test_a_day_out_of_range_is_refused(desk: CaseDesk) -> None:
    with pytest.raises(ValidationError, match="outside"):
        dashboard(desk, ADMIN, dt.date(1, 1, 1))
