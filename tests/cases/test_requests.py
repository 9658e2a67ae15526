"""延期, 缓办, 退回 and 作废 need the approval of the level above, in a ledger; 延期 moves a deadline once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from gridmap.cases.desk import CaseDesk
from gridmap.cases.lifecycle import Actor
from gridmap.cases.vocabulary import Action
from gridmap.errors import PermissionDeniedError, TransitionError, ValidationError
from gridmap.privacy import Role
from tests.cases.conftest import ADMIN, CITY, EDITOR_C1, EDITOR_C2, Clock, report

BEIJING = ZoneInfo("Asia/Shanghai")
OTHER_EDITOR_C1 = Actor(Role.EDITOR, "another-editor", communities=frozenset({"C1"}))


def dispatched(desk: CaseDesk) -> str:
    code = report(desk)
    desk.move(EDITOR_C1, code, Action.ACCEPT)
    desk.move(EDITOR_C1, code, Action.DISPATCH)
    return code


def test_an_extension_is_approved_by_the_level_above_and_moves_the_deadline_once(
    desk: CaseDesk, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 9, 30, 15, 0, tzinfo=BEIJING)  # the day before the National Day holiday
    code = dispatched(desk)
    # 4 working hours: 2.5 on 30 September, then the holiday (1-7 October), 1.5 on Thursday 8 October.
    assert desk.get(ADMIN, code)["due_at"] == dt.datetime(2026, 10, 8, 10, 30, tzinfo=BEIJING)
    with pytest.raises(ValidationError, match="hours"):
        desk.move(CITY, code, Action.EXTEND, note="需协调产权单位")
    asked = desk.move(CITY, code, Action.EXTEND, note="需协调产权单位", hours=16)
    assert asked["pending_request"] == "extend"
    assert asked["due_at"] == dt.datetime(2026, 10, 8, 10, 30, tzinfo=BEIJING)  # not before approval
    with pytest.raises(TransitionError, match="already has a pending request"):
        desk.move(CITY, code, Action.SUSPEND, note="等待")
    with pytest.raises(PermissionDeniedError):
        desk.move(CITY, code, Action.APPROVE)  # not their own
    with pytest.raises(PermissionDeniedError):
        desk.move(EDITOR_C2, code, Action.APPROVE)  # not the case's community
    approved = desk.move(EDITOR_C1, code, Action.APPROVE)
    # 16 more working hours: 5.5 on 8 October, 7 on Friday 9, 3.5 on Saturday 10 (a make-up working day)
    assert approved["due_at"] == dt.datetime(2026, 10, 10, 14, 0, tzinfo=BEIJING)
    assert approved["extensions"] == 1 and approved["pending_request"] is None
    with pytest.raises(TransitionError, match="extended once already"):
        desk.move(CITY, code, Action.EXTEND, note="再延", hours=4)
    ledger = desk.requests(ADMIN, code)
    assert [(r["kind"], r["decision"], r["requested_by"], r["decided_by"]) for r in ledger] == [
        ("extend", "approved", "city", "editor-c1")
    ]


def test_an_editors_request_needs_an_admin_and_a_rejection_a_reason(desk: CaseDesk) -> None:
    code = report(desk)
    desk.move(EDITOR_C1, code, Action.VOID, note="重复上报")
    with pytest.raises(PermissionDeniedError, match="an admin"):
        desk.move(OTHER_EDITOR_C1, code, Action.APPROVE)
    with pytest.raises(ValidationError, match="reason"):
        desk.move(ADMIN, code, Action.REJECT)
    rejected = desk.move(ADMIN, code, Action.REJECT, note="并非重复")
    assert rejected["status"] == "reported" and rejected["pending_request"] is None
    assert desk.requests(ADMIN, code)[0]["decision"] == "rejected"
    with pytest.raises(TransitionError, match="no pending request"):
        desk.move(ADMIN, code, Action.APPROVE)


def test_a_suspended_case_resumes_with_the_time_it_had_left(desk: CaseDesk, clock: Clock) -> None:
    code = dispatched(desk)  # Tuesday 09:00, 4 working hours: due 14:30
    clock.advance(hours=1)  # 10:00: 3 working hours left
    desk.move(CITY, code, Action.SUSPEND, note="等待雨停")
    suspended = desk.move(EDITOR_C1, code, Action.APPROVE)
    assert suspended["status"] == "suspended" and suspended["suspensions"] == 1
    clock.advance(days=1)  # Wednesday 10:00
    resumed = desk.move(CITY, code, Action.RESUME)
    assert resumed["status"] == "dispatched"
    assert resumed["due_at"] == dt.datetime(2026, 12, 2, 14, 30, tzinfo=BEIJING)
