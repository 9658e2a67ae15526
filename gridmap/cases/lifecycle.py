"""The case lifecycle as explicit transitions, and who may make each one.

上报 → 立案 → 派遣 → 处置 → 核查 → 结案 → 回访. Four steps are requests that take
effect only when the level above approves them, each kept in a ledger with
its reason (审批台账): 退回 sends a dispatched, handled or checked case back to
be dispatched again, 作废 voids a case not yet dispatched, 延期 moves the
deadline once, 缓办 suspends a dispatched case (恢复办理 resumes it with the
time it had left). A follow-up (回访) by a third party records whether the
reporter was reached and satisfied; dissatisfaction for a reason the category
calls substantive reopens the case to dispatch. A case can be raised a level
(网格 → 社区 → 街道) or sent down.

`plan` judges one request against a case as it is and returns what the
store must write (the changed columns, the event, and the ledger entry), so
the rules live here once and both stores apply them the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Literal

from gridmap.cases.calendar import WorkingCalendar
from gridmap.cases.categories import CategoryCatalogue, Subcategory
from gridmap.cases.vocabulary import (
    CHANNELS,
    DISSATISFACTION_REASONS,
    LEVEL_ORDER,
    LEVELS,
    REQUESTED,
    SATISFACTION,
    Action,
    Status,
)
from gridmap.errors import PermissionDeniedError, Problem, TransitionError, ValidationError
from gridmap.privacy import Role
from gridmap.texts import Message

Duty = Literal["community", "department", "reviewer"]
"""Who answers for a step: the editors of the case's community, its department, or a third party."""

_HANDLING = (Status.DISPATCHED, Status.HANDLED, Status.CHECKED)
_BEFORE_HANDLING = (Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED)

TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.ACCEPT: {Status.REPORTED: Status.ACCEPTED},
    Action.DISPATCH: {Status.ACCEPTED: Status.DISPATCHED},
    Action.HANDLE: {Status.DISPATCHED: Status.HANDLED},
    Action.CHECK: {Status.HANDLED: Status.CHECKED},
    Action.CLOSE: {Status.CHECKED: Status.CLOSED},
    Action.RETURN: {s: Status.ACCEPTED for s in _HANDLING},
    Action.VOID: {Status.REPORTED: Status.VOID, Status.ACCEPTED: Status.VOID},
    Action.EXTEND: {Status.DISPATCHED: Status.DISPATCHED},
    Action.SUSPEND: {Status.DISPATCHED: Status.SUSPENDED},
    Action.RESUME: {Status.SUSPENDED: Status.DISPATCHED},
    # Or back to ACCEPTED: a substantive dissatisfaction. A merged report's reporter is followed up too.
    Action.REVIEW: {Status.CLOSED: Status.CLOSED, Status.MERGED: Status.MERGED},
    Action.RAISE: {
        Status.REPORTED: Status.REPORTED,
        Status.ACCEPTED: Status.ACCEPTED,
        Status.DISPATCHED: Status.ACCEPTED,
    },
    Action.SEND_DOWN: {
        Status.REPORTED: Status.REPORTED,
        Status.ACCEPTED: Status.ACCEPTED,
        Status.DISPATCHED: Status.ACCEPTED,
    },
}
"""Where each action leads from each status. For a request (`REQUESTED`) this is where it leads once
approved; approving and rejecting act on the pending request, whatever the status."""

_COMMUNITY: frozenset[Duty] = frozenset({"community"})
_EITHER: frozenset[Duty] = frozenset({"community", "department"})
DUTIES: dict[Action, frozenset[Duty]] = {
    Action.ACCEPT: _COMMUNITY,
    Action.DISPATCH: _COMMUNITY,
    Action.HANDLE: frozenset({"department"}),
    Action.CHECK: _COMMUNITY,
    Action.CLOSE: _COMMUNITY,
    Action.RETURN: _EITHER,  # a department hands back a case that is not its business
    Action.VOID: _COMMUNITY,
    Action.EXTEND: _EITHER,
    Action.SUSPEND: _EITHER,
    Action.RESUME: _EITHER,
    Action.REVIEW: frozenset({"reviewer"}),
    Action.RAISE: _COMMUNITY,
    Action.SEND_DOWN: _COMMUNITY,
}

NEEDS_NOTE = frozenset({*REQUESTED, Action.RAISE, Action.SEND_DOWN, Action.REJECT})
"""Steps that must say why (every request, a level change, a rejection)."""

MAX_EXTENSION_HOURS = 24 * 30
_CLEARED_ON_DISPATCH = (
    "handler",
    "handled_at",
    "handling_hours",
    "on_time",
    "checker",
    "checked_at",
    "suspended_at",
)


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
        """Admins see every case; editors those of their communities and the unplaced ones (to place
        them); departments those dispatched to them; reviewers the closed ones (to follow them up)."""
        if self.role is Role.ADMIN:
            return True
        if self.role is Role.EDITOR:
            return case.get("community_code") in self.communities or case.get("community_code") is None
        if self.role is Role.DEPARTMENT:
            return case.get("department") in self.departments
        if self.role is Role.REVIEWER:  # merged reports too: their reporters are followed up
            return (
                case.get("closed_at") is not None
                or case.get("reviewed_at") is not None
                or case.get("status") == Status.MERGED.value
            )
        if self.role is Role.INTEGRATOR:
            return case.get("integrator") == self.identity
        return False

    def answers_for(self, case: Mapping[str, Any], duties: frozenset[Duty]) -> bool:
        if self.role is Role.ADMIN:
            return True
        if "community" in duties and self.role is Role.EDITOR:
            return case.get("community_code") in self.communities
        if "department" in duties and self.role is Role.DEPARTMENT:
            return case.get("department") in self.departments
        return "reviewer" in duties and self.role is Role.REVIEWER


@dataclass(frozen=True)
class Details:
    """What a step says beyond its action: a note, and what some steps need."""

    note: str | None = None
    department: str | None = None
    hours: float | None = None
    reached: bool | None = None
    satisfaction: str | None = None
    reason: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Reopening:
    """Another case a step moves in the same transaction: the case a merged report joined, reopened by
    its merged reporter's dissatisfaction (`version`: the version it was read at)."""

    code: str
    version: int
    changes: dict[str, Any]
    event: dict[str, Any]


@dataclass
class Plan:
    """What one step writes: the case's changed columns, its event, and the ledger entry it opens or
    decides (`request`: a new pending request; `decision`: the pending one's decision); `also`:
    another case reopened with it."""

    changes: dict[str, Any]
    event: dict[str, Any]
    request: dict[str, Any] | None = None
    decision: dict[str, Any] | None = field(default=None)
    also: Reopening | None = None


def plan(
    case: Mapping[str, Any],
    action: Action,
    actor: Actor,
    *,
    now: dt.datetime,
    calendar: WorkingCalendar,
    catalogue: CategoryCatalogue,
    details: Details = Details(),
    pending: Mapping[str, Any] | None = None,
    joined: Mapping[str, Any] | None = None,
) -> Plan:
    """What `action` by `actor` writes on `case` (`pending`: its pending request, if any; `joined`: the
    case a merged report was merged into, whose closing opens its reporter's follow-up).

    Raises TransitionError (the status does not allow it), PermissionDeniedError
    (the actor does not answer for this step, would check or follow up their
    own work, or approve their own request) or ValidationError (a missing
    reason, an unknown department, a bad follow-up).
    """
    note = (details.note or "").strip() or None
    if action in (Action.APPROVE, Action.REJECT):
        return _decide(case, action, actor, now, calendar, catalogue, note, pending)
    status = Status(case["status"])
    target = TRANSITIONS[action].get(status)
    if target is None:
        allowed = ", ".join(f"{s.label_zh} ({s.value})" for s in TRANSITIONS[action])
        raise _refused_step("case.not_allowed", case, status, action, allowed=allowed)
    duties = DUTIES[action]
    if not actor.answers_for(case, duties):
        raise PermissionDeniedError(_refusal(case, action, actor, duties))
    if action in NEEDS_NOTE and note is None:
        raise _invalid(case, "note", Message("case.needs_reason", action=action.label_zh, verb=action.value))
    if action in REQUESTED:
        return _request(case, action, actor, now, calendar, catalogue, note, details, pending)
    changes: dict[str, Any] = {"status": target.value}
    sub = catalogue.subcategory(case["category"])
    if action is Action.ACCEPT:
        elapsed = calendar.elapsed(case["reported_at"], now, sub.clock)
        changes.update(accepted_at=now, response_on_time=elapsed <= sub.response_hours)
    elif action is Action.DISPATCH:
        if case.get("grid_code") is None:
            raise _invalid(case, "grid", Message("case.place_first"))
        changes.update(_dispatch(case, now, calendar, catalogue, details.department))
    elif action is Action.HANDLE:
        due = case.get("due_at")
        changes.update(
            handler=actor.identity,
            handled_at=now,
            handling_hours=calendar.elapsed(case["dispatched_at"], now, sub.clock),
            on_time=due is None or now <= due,
        )
    elif action is Action.CHECK:
        if actor.identity == case.get("handler"):
            raise PermissionDeniedError(
                Message("case.checker_is_handler", code=case["code"], who=actor.identity)
            )
        changes.update(checker=actor.identity, checked_at=now)
    elif action is Action.CLOSE:
        changes.update(closed_at=now, solved_level=case.get("level"))
    elif action is Action.RESUME:
        changes.update(_resume(case, now, calendar, sub))
    elif action is Action.REVIEW and status is Status.MERGED:
        changes.update(_review_merged(case, joined, actor, now, sub, details))
        reason = changes["dissatisfaction_reason"]
        if joined is not None and reason in sub.substantive and joined["status"] == Status.CLOSED.value:
            return Plan(
                changes,
                _event(case, action, actor, now, status, target, note),
                also=_reopen_joined(case, joined, actor, now, note),
            )
    elif action is Action.REVIEW:
        changes.update(_review(case, actor, now, sub, details))
        target = Status(changes["status"])
    else:
        changes.update(_level(case, action, actor))
        if status is Status.DISPATCHED:
            changes.update(dict.fromkeys(_CLEARED_ON_DISPATCH), due_at=None, dispatched_at=None)
    return Plan(changes, _event(case, action, actor, now, status, target, note))


def _request(
    case: Mapping[str, Any],
    action: Action,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkingCalendar,
    catalogue: CategoryCatalogue,
    note: str | None,
    details: Details,
    pending: Mapping[str, Any] | None,
) -> Plan:
    """A request for the level above; an admin (the top level) has it approved as it is made."""
    status = Status(case["status"])
    if pending is not None:
        kind = Action(pending["kind"])
        raise TransitionError(
            Message("case.pending", code=case["code"], action=kind.label_zh, verb=kind.value), status.value
        )
    hours = None
    if action is Action.EXTEND:
        if int(case.get("extensions") or 0) >= 1:
            raise TransitionError(Message("case.extended_once", code=case["code"]), status.value)
        hours = details.hours
        if hours is None or not 0 < hours <= MAX_EXTENSION_HOURS:
            raise _invalid(case, "hours", Message("case.extension_hours", most=MAX_EXTENSION_HOURS))
    request = {
        "case_code": case["code"],
        "kind": action.value,
        "reason": note,
        "hours": hours,
        "from_status": status.value,
        "requested_by": actor.identity,
        "requested_role": actor.role.value,
        "requested_at": now,
        "decision": "pending",
        "decided_by": None,
        "decided_role": None,
        "decided_at": None,
        "decision_note": None,
    }
    event = _event(case, action, actor, now, status, status, note)
    if actor.role is not Role.ADMIN:
        return Plan({"pending_request": action.value}, event, request=request)
    approved = _decide(case, Action.APPROVE, actor, now, calendar, catalogue, None, request, own_request=True)
    approved.request = {**request, **(approved.decision or {})}
    approved.decision = None
    approved.event = {**event, "to_status": approved.event["to_status"]}
    return approved


def _decide(
    case: Mapping[str, Any],
    action: Action,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkingCalendar,
    catalogue: CategoryCatalogue,
    note: str | None,
    pending: Mapping[str, Any] | None,
    *,
    own_request: bool = False,
) -> Plan:
    """Approve or reject the pending request: by the level above the one that asked."""
    status = Status(case["status"])
    if pending is None:
        raise TransitionError(
            Message("case.no_pending", code=case["code"], action=action.label_zh, verb=action.value),
            status.value,
        )
    if action is Action.REJECT and note is None:
        raise _invalid(
            case, "note", Message("case.needs_reason", action=Action.REJECT.label_zh, verb="reject")
        )
    kind = Action(pending["kind"])
    if not own_request:
        _check_approver(case, kind, actor, pending)
    decision = {
        "decision": "approved" if action is Action.APPROVE else "rejected",
        "decided_by": actor.identity,
        "decided_role": actor.role.value,
        "decided_at": now,
        "decision_note": note,
    }
    changes: dict[str, Any] = {"pending_request": None}
    target = status
    if action is Action.APPROVE:
        target = TRANSITIONS[kind].get(status)  # type: ignore[assignment]
        if target is None:
            raise _refused_step("case.only_reject", case, status, kind)
        changes.update(_effect(case, kind, now, calendar, catalogue, pending))
        changes["status"] = target.value
    event = _event(case, action, actor, now, status, target, note or pending.get("reason"))
    event["note"] = f"{kind.label_zh}: {event['note']}" if event["note"] else kind.label_zh
    return Plan(changes, event, decision=decision)


def _check_approver(case: Mapping[str, Any], kind: Action, actor: Actor, pending: Mapping[str, Any]) -> None:
    """A department's request is approved by the case's community editors or an admin, an editor's by
    an admin; nobody approves their own."""
    asked_by = Role(pending["requested_role"])
    if actor.identity == pending["requested_by"]:
        raise PermissionDeniedError(Message("case.own_request", code=case["code"], who=actor.identity))
    if actor.role is Role.ADMIN:
        return
    if asked_by is Role.DEPARTMENT and actor.answers_for(case, _COMMUNITY):
        return
    above = Message("case.above_department" if asked_by is Role.DEPARTMENT else "case.above_editor")
    raise PermissionDeniedError(
        Message(
            "case.approver",
            action=kind.label_zh,
            verb=kind.value,
            code=case["code"],
            asked_by=asked_by.value,
            above=above,
            role=actor.role.value,
        )
    )


def _effect(
    case: Mapping[str, Any],
    kind: Action,
    now: dt.datetime,
    calendar: WorkingCalendar,
    catalogue: CategoryCatalogue,
    request: Mapping[str, Any],
) -> dict[str, Any]:
    """What an approved request does to the case."""
    if kind is Action.RETURN:
        return {
            **dict.fromkeys(_CLEARED_ON_DISPATCH),
            "due_at": None,
            "returns": int(case.get("returns") or 0) + 1,
        }
    if kind is Action.VOID:
        return {}
    if kind is Action.EXTEND:
        sub = catalogue.subcategory(case["category"])
        return {
            "due_at": calendar.deadline(case["due_at"], float(request["hours"]), sub.clock),
            "extensions": int(case.get("extensions") or 0) + 1,
        }
    return {"suspended_at": now, "suspensions": int(case.get("suspensions") or 0) + 1}


def _resume(
    case: Mapping[str, Any], now: dt.datetime, calendar: WorkingCalendar, sub: Subcategory
) -> dict[str, Any]:
    """Back to handling with the time the case had left when it was suspended (none if it was late)."""
    suspended, due = case.get("suspended_at"), case.get("due_at")
    if suspended is None or due is None:
        return {"suspended_at": None}
    left = calendar.elapsed(suspended, due, sub.clock)
    return {"suspended_at": None, "due_at": calendar.deadline(now, left, sub.clock)}


def _review(
    case: Mapping[str, Any], actor: Actor, now: dt.datetime, sub: Subcategory, details: Details
) -> dict[str, Any]:
    """A follow-up (回访 and 评价) of a closed case; a substantive dissatisfaction reopens it."""
    code = case["code"]
    reviewed, closed = case.get("reviewed_at"), case.get("closed_at")
    if reviewed is not None and closed is not None and reviewed >= closed:
        raise TransitionError(Message("case.reviewed_already", code=code), Status.CLOSED.value)
    if actor.identity in (case.get("handler"), case.get("checker")):
        raise PermissionDeniedError(Message("case.reviewer_worked", code=code, who=actor.identity))
    channel = details.channel or ("phone" if case.get("reporter_phone") else "channel")
    if channel not in CHANNELS:
        raise _invalid(case, "channel", Message("case.one_of", name="channel", choices=", ".join(CHANNELS)))
    if channel == "phone" and not case.get("reporter_phone"):
        raise _invalid(case, "channel", Message("case.no_phone"))
    if details.reached is None:
        raise _invalid(case, "reached", Message("case.say_reached"))
    satisfaction, reason = details.satisfaction, details.reason
    if details.reached:
        if satisfaction not in SATISFACTION:
            choices = ", ".join(SATISFACTION)
            raise _invalid(case, "satisfaction", Message("case.one_of", name="satisfaction", choices=choices))
        if satisfaction == "dissatisfied" and reason not in DISSATISFACTION_REASONS:
            raise _invalid(
                case,
                "reason",
                Message("case.dissatisfied_reason", choices=", ".join(DISSATISFACTION_REASONS)),
            )
    elif satisfaction is not None:
        raise _invalid(case, "satisfaction", Message("case.not_reached"))
    if satisfaction != "dissatisfied":
        reason = None
    changes: dict[str, Any] = {
        "reviewed_at": now,
        "reviewer": actor.identity,
        "review_channel": channel,
        "reached": details.reached,
        "satisfaction": satisfaction,
        "dissatisfaction_reason": reason,
        "status": Status.CLOSED.value,
    }
    if reason is not None and reason in sub.substantive:
        changes.update(_reopen(case))
    return changes


def _reopen(case: Mapping[str, Any]) -> dict[str, Any]:
    """A closed case back to dispatch after a substantive dissatisfaction (重办)."""
    return {
        **dict.fromkeys(_CLEARED_ON_DISPATCH),
        "status": Status.ACCEPTED.value,
        "due_at": None,
        "dispatched_at": None,
        "closed_at": None,
        "reopened": int(case.get("reopened") or 0) + 1,
    }


def _review_merged(
    case: Mapping[str, Any],
    joined: Mapping[str, Any] | None,
    actor: Actor,
    now: dt.datetime,
    sub: Subcategory,
    details: Details,
) -> dict[str, Any]:
    """The follow-up of a merged report's own reporter (并单: every reporter is followed up), once the case
    it joined is closed; recorded on the report itself, so satisfaction counts once per reporter."""
    code = case["code"]
    if joined is None or joined.get("closed_at") is None:
        raise TransitionError(
            Message("case.joined_open", code=code, into=case.get("duplicate_of")), Status.MERGED.value
        )
    if case.get("reviewed_at") is not None:
        raise TransitionError(Message("case.reporter_reviewed", code=code), Status.MERGED.value)
    worked = {**case, "handler": joined.get("handler"), "checker": joined.get("checker"), "closed_at": None}
    changes = _review(worked, actor, now, sub, details)
    return {name: changes[name] for name in _REVIEWED}


def _reopen_joined(
    case: Mapping[str, Any], joined: Mapping[str, Any], actor: Actor, now: dt.datetime, note: str | None
) -> Reopening:
    """The case a merged report joined, back to dispatch: its merged reporter was substantively
    dissatisfied."""
    event = _event(joined, Action.REVIEW, actor, now, Status.CLOSED, Status.ACCEPTED, note)
    event["note"] = f"并单诉求人（案件 {case['code']}）回访不满意，重办" + (f"：{note}" if note else "")
    return Reopening(str(joined["code"]), int(joined["version"]), _reopen(joined), event)


_REVIEWED = ("reviewed_at", "reviewer", "review_channel", "reached", "satisfaction", "dissatisfaction_reason")


def _level(case: Mapping[str, Any], action: Action, actor: Actor) -> dict[str, Any]:
    """One level up (网格 → 社区 → 街道) or down; only an admin sends a case down from the street."""
    level = case.get("level") or LEVEL_ORDER[0]
    index = LEVEL_ORDER.index(level) + (1 if action is Action.RAISE else -1)
    if not 0 <= index < len(LEVEL_ORDER):
        edge = "case.level_top" if action is Action.RAISE else "case.level_bottom"
        raise TransitionError(
            Message(edge, code=case["code"], level=LEVELS[level].label_zh), str(case["status"])
        )
    if action is Action.SEND_DOWN and level == "street" and actor.role is not Role.ADMIN:
        raise PermissionDeniedError(Message("case.street_down", code=case["code"]))
    return {"level": LEVEL_ORDER[index]}


def _dispatch(
    case: Mapping[str, Any],
    now: dt.datetime,
    calendar: WorkingCalendar,
    catalogue: CategoryCatalogue,
    department: str | None,
) -> dict[str, Any]:
    """Department (the category's by default) and the deadline from now on the category's clock."""
    sub = catalogue.subcategory(case["category"])
    chosen = department or sub.department
    if chosen not in catalogue.department_codes:
        reason = Message(
            "case.unknown_department", department=repr(chosen), choices=", ".join(catalogue.department_codes)
        )
        raise _invalid(case, "department", reason)
    return {
        "department": chosen,
        "dispatched_at": now,
        "due_at": calendar.deadline(now, sub.hours, sub.clock),
        **dict.fromkeys(_CLEARED_ON_DISPATCH),
    }


def _event(
    case: Mapping[str, Any],
    action: Action,
    actor: Actor,
    now: dt.datetime,
    source: Status,
    target: Status,
    note: str | None,
) -> dict[str, Any]:
    return {
        "case_code": case["code"],
        "action": action.value,
        "from_status": source.value,
        "to_status": target.value,
        "actor": actor.identity,
        "role": actor.role.value,
        "at": now,
        "note": note,
    }


def _invalid(case: Mapping[str, Any], name: str, reason: Message) -> ValidationError:
    return ValidationError(
        Message("case.source", code=case["code"]), [Problem(None, name, reason, case["code"])]
    )


def _refused_step(
    key: str, case: Mapping[str, Any], status: Status, action: Action, **extra: str
) -> TransitionError:
    """The 409 for a step the case's status does not allow, in the reader's language."""
    message = Message(
        key,
        code=case["code"],
        status=status.label_zh,
        value=status.value,
        action=action.label_zh,
        verb=action.value,
        **extra,
    )
    return TransitionError(message, status.value)


def _refusal(case: Mapping[str, Any], action: Action, actor: Actor, duties: frozenset[Duty]) -> Message:
    """Why `actor` may not make this step, naming what the case and the actor are bound to."""
    who = []
    if "community" in duties:
        who.append(
            Message("case.duty_community", community=case.get("community_code") or Message("case.none"))
        )
    if "department" in duties:
        who.append(Message("case.duty_department", department=case.get("department") or Message("case.none")))
    if "reviewer" in duties:
        who.append(Message("case.duty_reviewer"))
    bound = ", ".join(sorted(actor.communities | actor.departments))
    return Message(
        "case.refusal",
        action=action.label_zh,
        verb=action.value,
        code=case["code"],
        who=reduce(lambda first, second: Message("case.or", first=first, second=second), who),
        role=actor.role.value,
        bound=bound or Message("case.nothing"),
    )
