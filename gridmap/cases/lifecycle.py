"""The case lifecycle as explicit transitions, and who may make each one.

上报 → 立案 → 派遣 → 处置 → 核查 → 结案; 退回 sends a dispatched, handled or
checked case back to be dispatched again; 作废 voids a case not yet
dispatched, with a reason. `plan` judges one request against a case as it is
and returns what the store must write (the changed columns and the event),
so the rules live here once and both stores apply them the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gridmap.cases.calendar import WorkingCalendar
from gridmap.cases.categories import CategoryCatalogue
from gridmap.cases.vocabulary import Action, Status
from gridmap.errors import PermissionDeniedError, Problem, TransitionError, ValidationError
from gridmap.privacy import Role

Duty = Literal["community", "department"]
"""Who answers for a step: the editors of the case's community, or the department it was dispatched to."""

TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.ACCEPT: {Status.REPORTED: Status.ACCEPTED},
    Action.DISPATCH: {Status.ACCEPTED: Status.DISPATCHED},
    Action.HANDLE: {Status.DISPATCHED: Status.HANDLED},
    Action.CHECK: {Status.HANDLED: Status.CHECKED},
    Action.CLOSE: {Status.CHECKED: Status.CLOSED},
    Action.RETURN: {
        Status.DISPATCHED: Status.ACCEPTED,
        Status.HANDLED: Status.ACCEPTED,
        Status.CHECKED: Status.ACCEPTED,
    },
    Action.VOID: {Status.REPORTED: Status.VOID, Status.ACCEPTED: Status.VOID},
}

DUTIES: dict[tuple[Action, Status], frozenset[Duty]] = {
    (action, source): frozenset({"department"} if action is Action.HANDLE else {"community"})
    for action, moves in TRANSITIONS.items()
    for source in moves
}
# A department may also hand back a case that is not its business (退回), before handling it.
DUTIES[(Action.RETURN, Status.DISPATCHED)] = frozenset({"community", "department"})

NEEDS_NOTE = frozenset({Action.RETURN, Action.VOID})
"""Transitions that must say why (退回 and 作废)."""

_CLEARED_ON_DISPATCH = ("handler", "handled_at", "handling_hours", "on_time", "checker", "checked_at")


@dataclass(frozen=True)
class Actor:
    """Who acts on cases: a role, a name recorded in the history, and what the role is bound to."""

    role: Role
    name: str | None = None
    communities: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()

    @property
    def identity(self) -> str:
        """The name recorded as who made a transition (the role when the token has no name)."""
        return self.name or self.role.value

    def can_see(self, case: Mapping[str, Any]) -> bool:
        """Admins see every case, editors those of their communities, departments those dispatched to them."""
        if self.role is Role.ADMIN:
            return True
        if self.role is Role.EDITOR:
            return case.get("community_code") in self.communities
        if self.role is Role.DEPARTMENT:
            return case.get("department") in self.departments
        return False

    def answers_for(self, case: Mapping[str, Any], duties: frozenset[Duty]) -> bool:
        if self.role is Role.ADMIN:
            return True
        if "community" in duties and self.role is Role.EDITOR:
            return case.get("community_code") in self.communities
        if "department" in duties and self.role is Role.DEPARTMENT:
            return case.get("department") in self.departments
        return False


def plan(
    case: Mapping[str, Any],
    action: Action,
    actor: Actor,
    *,
    now: dt.datetime,
    calendar: WorkingCalendar,
    catalogue: CategoryCatalogue,
    note: str | None = None,
    department: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns `action` changes on `case` and the event recording it.

    Raises TransitionError (the status does not allow it), PermissionDeniedError
    (the actor does not answer for this step, or would check their own work)
    or ValidationError (a missing reason, an unknown department).
    """
    status = Status(case["status"])
    target = TRANSITIONS[action].get(status)
    if target is None:
        allowed = ", ".join(f"{s.label_zh} ({s.value})" for s in TRANSITIONS[action])
        raise TransitionError(
            f"case {case['code']} is {status.label_zh} ({status.value}); "
            f"{action.label_zh} ({action.value}) needs {allowed}",
            status.value,
        )
    duties = DUTIES[(action, status)]
    if not actor.answers_for(case, duties):
        raise PermissionDeniedError(_refusal(case, action, actor, duties))
    note = (note or "").strip() or None
    if action in NEEDS_NOTE and note is None:
        reason = f"{action.label_zh} ({action.value}) must give a reason"
        raise ValidationError(f"case {case['code']}", [Problem(None, "note", reason, case["code"])])
    changes: dict[str, Any] = {"status": target.value}
    if action is Action.ACCEPT:
        changes["accepted_at"] = now
    elif action is Action.DISPATCH:
        changes.update(_dispatch(case, now, calendar, catalogue, department))
    elif action is Action.HANDLE:
        due = case.get("due_at")
        changes.update(
            handler=actor.identity,
            handled_at=now,
            handling_hours=calendar.hours_between(case["dispatched_at"], now),
            on_time=due is None or now <= due,
        )
    elif action is Action.CHECK:
        if actor.identity == case.get("handler"):
            raise PermissionDeniedError(
                f"case {case['code']}: the checker (核查) must not be its handler ({actor.identity})"
            )
        changes.update(checker=actor.identity, checked_at=now)
    elif action is Action.CLOSE:
        changes["closed_at"] = now
    elif action is Action.RETURN:
        changes.update(dict.fromkeys(_CLEARED_ON_DISPATCH), due_at=None)
    event = {
        "case_code": case["code"],
        "action": action.value,
        "from_status": status.value,
        "to_status": target.value,
        "actor": actor.identity,
        "role": actor.role.value,
        "at": now,
        "note": note,
    }
    return changes, event


def _dispatch(
    case: Mapping[str, Any],
    now: dt.datetime,
    calendar: WorkingCalendar,
    catalogue: CategoryCatalogue,
    department: str | None,
) -> dict[str, Any]:
    """Department (the category's by default) and the deadline in working hours from now."""
    sub = catalogue.subcategory(case["category"])
    chosen = department or sub.department
    if chosen not in catalogue.department_codes:
        reason = f"unknown department {chosen!r}; expected one of {', '.join(catalogue.department_codes)}"
        raise ValidationError(f"case {case['code']}", [Problem(None, "department", reason, case["code"])])
    return {
        "department": chosen,
        "dispatched_at": now,
        "due_at": calendar.add_hours(now, sub.hours),
        **dict.fromkeys(_CLEARED_ON_DISPATCH),
    }


def _refusal(case: Mapping[str, Any], action: Action, actor: Actor, duties: frozenset[Duty]) -> str:
    """Why `actor` may not make this step, naming what the case and the actor are bound to."""
    who = []
    if "community" in duties:
        who.append(f"an editor of community {case.get('community_code') or '(none)'}")
    if "department" in duties:
        who.append(f"department {case.get('department') or '(none)'}")
    bound = ", ".join(sorted(actor.communities | actor.departments)) or "nothing"
    return (
        f"{action.label_zh} ({action.value}) of case {case['code']} is for {' or '.join(who)} or an admin; "
        f"you are {actor.role.value} bound to {bound}"
    )
