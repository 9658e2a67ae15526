"""The whole case lifecycle as a hypothesis state machine, on both stores.

A model of every case (status, pending request, department, handler,
checker, level, extension, follow-up) predicts, for any step by any actor,
whether the desk must refuse it and how (409 transition, 403 permission,
422 validation) or where it leads; deadlines are checked independently of
the lifecycle code across nights, weekends, the National Day holiday and
its make-up working day, with extensions and suspensions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.cases.lifecycle import Actor
from gridmap.cases.vocabulary import Action, Status
from gridmap.errors import PermissionDeniedError, TransitionError, ValidationError
from gridmap.privacy import Role
from tests.cases.conftest import ADDRESS_G1, ADMIN, CITY, EDITOR_C1, EDITOR_C2, RESIDENT, Clock, empty_book

BEIJING = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 9, 28, 9, 0, tzinfo=BEIJING)  # the Monday before the National Day holiday
GAS = Actor(Role.DEPARTMENT, "gas", departments=frozenset({"rq"}))
REVIEWER = Actor(Role.REVIEWER, "回访员")
ACTORS = (ADMIN, EDITOR_C1, EDITOR_C2, CITY, GAS, REVIEWER)
# category → (department, hours, clock, level)
CATEGORIES = {"0102": ("cgj", 4.0, "working", "grid"), "0503": ("rq", 1.0, "calendar", "street")}
LEVELS = ("grid", "community", "street")
REQUESTS = {Action.RETURN, Action.VOID, Action.EXTEND, Action.SUSPEND}
FROM = {
    Action.ACCEPT: {"reported"},
    Action.DISPATCH: {"accepted"},
    Action.HANDLE: {"dispatched"},
    Action.CHECK: {"handled"},
    Action.CLOSE: {"checked"},
    Action.RETURN: {"dispatched", "handled", "checked"},
    Action.VOID: {"reported", "accepted"},
    Action.EXTEND: {"dispatched"},
    Action.SUSPEND: {"dispatched"},
    Action.RESUME: {"suspended"},
    Action.REVIEW: {"closed"},
    Action.RAISE: {"reported", "accepted", "dispatched"},
    Action.SEND_DOWN: {"reported", "accepted", "dispatched"},
}
EFFECT = {
    Action.ACCEPT: "accepted",
    Action.DISPATCH: "dispatched",
    Action.HANDLE: "handled",
    Action.CHECK: "checked",
    Action.CLOSE: "closed",
    Action.RETURN: "accepted",
    Action.VOID: "void",
    Action.SUSPEND: "suspended",
    Action.RESUME: "dispatched",
}


@dataclass
class Model:
    """What the test believes about one case."""

    category: str
    phone: bool
    status: str = "reported"
    level: str = "grid"
    department: str | None = None
    handler: str | None = None
    checker: str | None = None
    pending: tuple[Action, Actor] | None = None
    extensions: int = 0
    reopened: int = 0
    closed: bool = False
    reviewed: bool = False
    reviewed_since_close: bool = False
    steps: int = 1
    ledger: list[str] = field(default_factory=list)


def duty(actor: Actor, model: Model, action: Action) -> bool:
    """Whether `actor` answers for `action` on the case (the rules, stated independently)."""
    if actor.role is Role.ADMIN:
        return True
    department = actor.role is Role.DEPARTMENT and model.department in actor.departments
    community = actor is EDITOR_C1
    if action is Action.HANDLE:
        return department
    if action in (Action.RETURN, Action.EXTEND, Action.SUSPEND, Action.RESUME):
        return department or community
    if action is Action.REVIEW:
        return actor.role is Role.REVIEWER
    return community


def sees(actor: Actor, model: Model) -> bool:
    if actor.role is Role.ADMIN or actor is EDITOR_C1:
        return True
    if actor.role is Role.DEPARTMENT:
        return model.department in actor.departments
    if actor.role is Role.REVIEWER:
        return model.closed or model.reviewed
    return False


class Lifecycle(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self, desk: CaseDesk, clock: Clock) -> None:
        super().__init__()
        self.desk, self.clock = desk, clock
        empty_book(desk.store)
        clock.now = START
        self.models: dict[str, Model] = {}

    @rule(target=cases, category=st.sampled_from(sorted(CATEGORIES)), phone=st.booleans())
    def report(self, category: str, phone: bool) -> str:
        case = self.desk.report(
            RESIDENT,
            CaseReport(category, address=ADDRESS_G1, reporter_phone="13812341234" if phone else None),
        )
        self.models[case["code"]] = Model(category, phone, level=CATEGORIES[category][3])
        return str(case["code"])

    @rule(hours=st.sampled_from([0.25, 1, 3, 7, 16, 40, 100]))
    def time_passes(self, hours: float) -> None:
        self.clock.advance(hours=hours)

    @rule(
        code=cases,
        action=st.sampled_from(list(Action)),
        actor=st.sampled_from(ACTORS),
        reached=st.booleans(),
        satisfaction=st.sampled_from(["satisfied", "basic", "dissatisfied"]),
        reason=st.sampled_from(["unsolved", "attitude"]),
    )
    def step(
        self, code: str, action: Action, actor: Actor, reached: bool, satisfaction: str, reason: str
    ) -> None:
        model = self.models[code]
        before = self.desk.book.get(code)
        assert before is not None
        expected = self.predict(model, action, actor)
        extra: dict[str, Any] = {"note": "理由", "hours": 8.0}
        if action is Action.REVIEW:
            extra.update(reached=reached, satisfaction=satisfaction if reached else None, reason=reason)
        try:
            after = self.desk.move(actor, code, action, **extra)
        except (TransitionError, PermissionDeniedError, ValidationError) as exc:
            assert expected is not None and isinstance(exc, expected), (action, actor.identity, model, exc)
            assert self.desk.book.get(code) == before  # a refused step writes nothing
            return
        assert expected is None, (action, actor.identity, model, "was allowed")
        self.apply(model, action, actor, before, after, extra)

    def predict(self, model: Model, action: Action, actor: Actor) -> type[Exception] | None:
        """The error the desk must raise, or None when the step is allowed."""
        if not sees(actor, model):
            return PermissionDeniedError
        if action in (Action.APPROVE, Action.REJECT):
            if model.pending is None:
                return TransitionError
            kind, asker = model.pending
            if actor.identity == asker.identity:
                return PermissionDeniedError
            if actor.role is not Role.ADMIN and not (asker.role is Role.DEPARTMENT and actor is EDITOR_C1):
                return PermissionDeniedError
            if action is Action.APPROVE and model.status not in FROM[kind]:
                return TransitionError
            return None
        if model.status not in FROM[action]:
            return TransitionError
        if not duty(actor, model, action):
            return PermissionDeniedError
        if action in REQUESTS:
            if model.pending is not None or (action is Action.EXTEND and model.extensions):
                return TransitionError
            return None
        if action is Action.CHECK and actor.identity == model.handler:
            return PermissionDeniedError
        if action is Action.REVIEW:
            if model.reviewed_since_close:
                return TransitionError
            if actor.identity in (model.handler, model.checker):
                return PermissionDeniedError
        if action is Action.RAISE and model.level == LEVELS[-1]:
            return TransitionError
        if action is Action.SEND_DOWN:
            if model.level == LEVELS[0]:
                return TransitionError
            if model.level == "street" and actor.role is not Role.ADMIN:
                return PermissionDeniedError
        return None

    def apply(
        self,
        model: Model,
        action: Action,
        actor: Actor,
        before: dict[str, Any],
        after: dict[str, Any],
        extra: dict[str, Any],
    ) -> None:
        """Move the model as the step must have moved the case, and check what the store holds."""
        department, hours, clock, _ = CATEGORIES[model.category]
        calendar = self.desk.calendar
        now = self.clock.now
        model.steps += 1
        effective = action
        if action in REQUESTS and actor.role is not Role.ADMIN:
            model.pending = (action, actor)
            model.ledger.append("pending")
            assert after["status"] == model.status and after["pending_request"] == action.value
            return
        if action in REQUESTS:  # an admin's own request is approved as it is made
            model.ledger.append("approved")
        if action is Action.REJECT:
            assert model.pending is not None
            model.pending, model.ledger[-1] = None, "rejected"
            assert after["status"] == model.status and after["pending_request"] is None
            return
        if action is Action.APPROVE:
            assert model.pending is not None
            effective, model.pending, model.ledger[-1] = model.pending[0], None, "approved"
        if effective in EFFECT:
            model.status = EFFECT[effective]
        if effective is Action.DISPATCH:
            model.department, model.handler, model.checker = department, None, None
            assert after["department"] == department
            assert _hours(calendar, clock, now, after["due_at"]) == pytest.approx(hours)
        elif effective is Action.HANDLE:
            model.handler = actor.identity
            assert after["on_time"] is (now <= before["due_at"])
        elif effective is Action.CHECK:
            model.checker = actor.identity
        elif effective is Action.CLOSE:
            model.closed, model.reviewed_since_close = True, False
            assert after["solved_level"] == model.level
        elif effective is Action.RETURN:
            model.handler = model.checker = None
            assert after["due_at"] is None and after["returns"] == before["returns"] + 1
        elif effective is Action.EXTEND:
            model.extensions += 1
            assert _hours(calendar, clock, before["due_at"], after["due_at"]) == pytest.approx(extra["hours"])
        elif effective is Action.RESUME:
            left = _hours(calendar, clock, before["suspended_at"], before["due_at"])
            assert _hours(calendar, clock, now, after["due_at"]) == pytest.approx(left, abs=1e-6)
        elif effective is Action.REVIEW:
            model.reviewed = model.reviewed_since_close = True
            if extra["reached"] and extra["satisfaction"] == "dissatisfied" and extra["reason"] == "unsolved":
                model.status, model.closed, model.reopened = "accepted", False, model.reopened + 1
                model.handler = model.checker = None
            assert after["review_channel"] == ("phone" if model.phone else "channel")
        elif effective in (Action.RAISE, Action.SEND_DOWN):
            step = 1 if effective is Action.RAISE else -1
            model.level = LEVELS[LEVELS.index(model.level) + step]
            if model.status == "dispatched":
                model.status = "accepted"
        assert after["status"] == model.status, (action, effective)

    @invariant()
    def the_store_agrees_with_the_model(self) -> None:
        for code, model in self.models.items():
            case = self.desk.book.get(code)
            assert case is not None
            assert (case["status"], case["level"], case["extensions"], case["reopened"]) == (
                model.status,
                model.level,
                model.extensions,
                model.reopened,
            )
            assert case["pending_request"] == (model.pending[0].value if model.pending else None)
            assert case["handler"] == model.handler and case["checker"] == model.checker
            assert case["extensions"] <= 1
            assert len(self.desk.book.events(code)) == model.steps
            assert [r["decision"] for r in self.desk.book.requests(code)] == model.ledger
            if Status(case["status"]) is Status.DISPATCHED:
                assert case["due_at"] is not None


def _hours(calendar: Any, clock: str, start: dt.datetime, end: dt.datetime) -> float:
    """Hours from start to end on a clock, counted here without the lifecycle code."""
    if clock == "calendar":
        return (end - start) / dt.timedelta(hours=1)
    return float(calendar.hours_between(start, end))


def test_the_lifecycle_as_a_state_machine(desk: CaseDesk, clock: Clock) -> None:
    run_state_machine_as_test(
        lambda: Lifecycle(desk, clock),
        settings=settings(
            max_examples=10,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
