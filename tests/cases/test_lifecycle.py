"""Every transition, legal and illegal, on both stores; deadlines from dispatch; the checker rule."""

from __future__ import annotations

import datetime as dt

import pytest

from gridmap.cases.desk import CaseDesk
from gridmap.cases.lifecycle import TRANSITIONS
from gridmap.cases.vocabulary import Action, Status
from gridmap.errors import PermissionDeniedError, TransitionError, ValidationError
from tests.cases.conftest import ADMIN, CITY, EDITOR_C1, START, Clock, report

# How to bring a new case (in G1, category 0102 → department cgj) to each status.
PATHS: dict[Status, list[tuple[Action, object]]] = {
    Status.REPORTED: [],
    Status.ACCEPTED: [(Action.ACCEPT, EDITOR_C1)],
    Status.DISPATCHED: [(Action.ACCEPT, EDITOR_C1), (Action.DISPATCH, EDITOR_C1)],
    Status.HANDLED: [(Action.ACCEPT, EDITOR_C1), (Action.DISPATCH, EDITOR_C1), (Action.HANDLE, CITY)],
    Status.CHECKED: [
        (Action.ACCEPT, EDITOR_C1),
        (Action.DISPATCH, EDITOR_C1),
        (Action.HANDLE, CITY),
        (Action.CHECK, EDITOR_C1),
    ],
    Status.CLOSED: [
        (Action.ACCEPT, EDITOR_C1),
        (Action.DISPATCH, EDITOR_C1),
        (Action.HANDLE, CITY),
        (Action.CHECK, EDITOR_C1),
        (Action.CLOSE, EDITOR_C1),
    ],
    Status.VOID: [(Action.VOID, EDITOR_C1), (Action.APPROVE, ADMIN)],
    Status.SUSPENDED: [
        (Action.ACCEPT, EDITOR_C1),
        (Action.DISPATCH, EDITOR_C1),
        (Action.SUSPEND, CITY),
        (Action.APPROVE, EDITOR_C1),
    ],
}
# What some steps need besides a note.
EXTRA: dict[Action, dict[str, object]] = {
    Action.EXTEND: {"hours": 4},
    Action.REVIEW: {"reached": True, "satisfaction": "satisfied"},
}


def bring(desk: CaseDesk, status: Status, category: str = "0102") -> str:
    code = report(desk, category=category)
    for action, actor in PATHS[status]:
        desk.move(actor, code, action, note="理由")  # type: ignore[arg-type]
    assert desk.get(ADMIN, code)["status"] == status.value
    return code


def test_the_whole_loop_records_who_when_and_why(desk: CaseDesk, clock: Clock) -> None:
    code = report(desk, reporter_name="张三丰", reporter_phone="13812341234")
    steps = [
        (Action.ACCEPT, EDITOR_C1, "立案"),
        (Action.DISPATCH, EDITOR_C1, None),
        (Action.HANDLE, CITY, "已清运"),
        (Action.CHECK, EDITOR_C1, "现场核实"),
        (Action.CLOSE, EDITOR_C1, None),
    ]
    for action, actor, note in steps:
        clock.advance(hours=1)
        case = desk.move(actor, code, action, note=note)
    assert case["status"] == "closed"
    assert case["department"] == "cgj"  # the category's department
    # Dispatched Tuesday 11:00 Beijing; 0102 (暴露垃圾) has 4 working hours: 1 before lunch, 3 after 13:30.
    assert case["due_at"] == dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)
    assert case["handler"] == "city" and case["checker"] == "editor-c1"
    assert case["on_time"] is True
    assert case["handling_hours"] == pytest.approx(1.0)  # 11:00 → 12:00 Beijing
    events = desk.history(ADMIN, code)
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("report", None, "reported", "anonymous"),
        ("accept", "reported", "accepted", "editor-c1"),
        ("dispatch", "accepted", "dispatched", "editor-c1"),
        ("handle", "dispatched", "handled", "city"),
        ("check", "handled", "checked", "editor-c1"),
        ("close", "checked", "closed", "editor-c1"),
    ]
    assert [e["at"] for e in events] == [START + dt.timedelta(hours=h) for h in range(6)]
    assert events[3]["note"] == "已清运"


ILLEGAL = [
    (status, action) for status in Status for action in TRANSITIONS if status not in TRANSITIONS[action]
]


def test_every_illegal_transition_is_refused_naming_the_status(desk: CaseDesk) -> None:
    for status in PATHS:  # merged cases: tests/cases/test_duplicates.py
        code = bring(desk, status)
        for action in (a for s, a in ILLEGAL if s is status):
            with pytest.raises(TransitionError, match=f"is {status.label_zh} \\({status.value}\\)") as caught:
                desk.move(ADMIN, code, action, note="理由")
            assert caught.value.status == status.value
        assert desk.get(ADMIN, code)["status"] == status.value
        assert len(desk.history(ADMIN, code)) == 1 + len(PATHS[status])


LEGAL = [
    (source, action, target)
    for action, moves in TRANSITIONS.items()
    for source, target in moves.items()
    if source is not Status.MERGED  # a merged reporter's follow-up needs its case closed: test_followup.py
]


def test_every_legal_transition(desk: CaseDesk) -> None:
    """Each by an admin, whose own requests (退回, 作废, 延期, 缓办) are approved as they are made."""
    assert len(LEGAL) == 20
    for source, action, target in LEGAL:
        code = bring(desk, source, "0101" if action is Action.SEND_DOWN else "0102")  # 0101: a community case
        case = desk.move(ADMIN, code, action, note="理由", **EXTRA.get(action, {}))  # type: ignore[arg-type]
        assert case["status"] == target.value, (source, action)
        assert desk.history(ADMIN, code)[-1]["action"] == action.value


def test_return_sends_the_case_back_to_dispatch_with_a_new_deadline(desk: CaseDesk, clock: Clock) -> None:
    code = bring(desk, Status.HANDLED)
    with pytest.raises(ValidationError, match="note"):
        desk.move(EDITOR_C1, code, Action.RETURN)
    case = desk.move(EDITOR_C1, code, Action.RETURN, note="未清理干净")
    assert case["status"] == "handled" and case["pending_request"] == "return"  # waits for the admin
    case = desk.move(ADMIN, code, Action.APPROVE)
    assert case["status"] == "accepted" and case["handler"] is None and case["due_at"] is None
    assert case["returns"] == 1 and case["pending_request"] is None
    clock.advance(days=1)
    case = desk.move(EDITOR_C1, code, Action.DISPATCH, department="jdb")
    assert case["department"] == "jdb"
    assert case["due_at"] == dt.datetime(2026, 12, 2, 6, 30, tzinfo=dt.UTC)  # Wed 09:00 + 4 h → 14:30


def test_a_department_may_hand_back_a_case_it_does_not_handle(desk: CaseDesk) -> None:
    code = bring(desk, Status.DISPATCHED)
    case = desk.move(CITY, code, Action.RETURN, note="非我部门职责")
    assert case["status"] == "dispatched"
    case = desk.move(EDITOR_C1, code, Action.APPROVE)  # the level above a department: the community
    assert case["status"] == "accepted"


def test_void_needs_a_reason(desk: CaseDesk) -> None:
    code = report(desk)
    with pytest.raises(ValidationError, match="作废 \\(void\\) must give a reason"):
        desk.move(EDITOR_C1, code, Action.VOID, note="  ")
    assert desk.move(EDITOR_C1, code, Action.VOID, note="重复上报")["status"] == "reported"
    assert desk.move(ADMIN, code, Action.APPROVE)["status"] == "void"
    assert desk.history(ADMIN, code)[-2]["note"] == "重复上报"
    assert desk.history(ADMIN, code)[-1]["note"] == "作废: 重复上报"


def test_the_checker_must_not_be_the_handler(desk: CaseDesk) -> None:
    code = bring(desk, Status.DISPATCHED)
    desk.move(ADMIN, code, Action.HANDLE)
    with pytest.raises(PermissionDeniedError, match="must not be its handler \\(admin\\)"):
        desk.move(ADMIN, code, Action.CHECK)
    assert desk.move(EDITOR_C1, code, Action.CHECK)["checker"] == "editor-c1"


def test_unknown_department_and_action(desk: CaseDesk) -> None:
    code = bring(desk, Status.ACCEPTED)
    with pytest.raises(ValidationError, match="unknown department 'nasa'"):
        desk.move(EDITOR_C1, code, Action.DISPATCH, department="nasa")
    with pytest.raises(ValidationError, match="unknown action 'teleport'"):
        desk.move(EDITOR_C1, code, "teleport")
    assert desk.get(ADMIN, code)["status"] == "accepted"


def test_late_handling_is_not_on_time_and_overdue_meanwhile(desk: CaseDesk, clock: Clock) -> None:
    code = bring(desk, Status.DISPATCHED)
    clock.advance(days=2)
    from gridmap.stores.cases import CaseFilter

    overdue, total = desk.search(ADMIN, CaseFilter(overdue=True))
    assert total == 1 and overdue[0]["code"] == code
    case = desk.move(CITY, code, Action.HANDLE)
    assert case["on_time"] is False
    assert desk.search(ADMIN, CaseFilter(overdue=True))[1] == 0


def test_a_stale_transition_loses_the_race(desk: CaseDesk) -> None:
    code = bring(desk, Status.REPORTED)
    case = desk.book.get(code)
    assert case is not None
    desk.move(EDITOR_C1, code, Action.ACCEPT)
    assert not desk.book.update(code, int(case["version"]), {"status": "void"}, {})
    assert desk.get(ADMIN, code)["status"] == "accepted"
