"""The case desk: report, move, read and count cases, with the rules applied once.

The API and the CLI both call a `CaseDesk`; it routes a new case by the
lookup rules, plans each transition with `gridmap.cases.lifecycle`, confines
every read and write to what the actor answers for, and writes through the
store's `CaseBook`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from gridmap.cases.calendar import WorkingCalendar
from gridmap.cases.categories import DEFAULT_CATALOGUE, CategoryCatalogue
from gridmap.cases.duplicates import DuplicateRule, bbox_around, nearest
from gridmap.cases.lifecycle import Actor, Details, Reopening, plan
from gridmap.cases.reminders import DEFAULT_ESCALATE_AFTER, Reminder, reminders, window
from gridmap.cases.routing import Place, Placing, place_in_grid, route, route_points
from gridmap.cases.statistics import LEVEL_LABELS, Period, case_statistics, group_names, workbook_sheets
from gridmap.cases.vocabulary import SOURCES, Action, Status
from gridmap.errors import NotFoundError, PermissionDeniedError, Problem, TransitionError, ValidationError
from gridmap.lookup import LookupService
from gridmap.privacy import Role
from gridmap.stores import Store
from gridmap.stores.cases import (
    CASE_COLUMNS,
    COUNTERS,
    CaseBook,
    CaseFilter,
    Moves,
    Written,
    duplicate_condition,
)
from gridmap.texts import Message

_NEW_ROW: dict[str, Any] = {**dict.fromkeys(CASE_COLUMNS), **dict.fromkeys(COUNTERS, 0), "version": 0}
"""A new case's row before its columns are filled: what the book stores for a column not given."""
MAX_TEXT = 2000
"""Longest description, address or note accepted (a hotline record, not a document)."""
_CODE_ATTEMPTS = 8


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CaseReport:
    """What a reporter says: a category, a description, where (address and/or point) and who."""

    category: str
    description: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    source: str = "resident"
    reporter_name: str | None = None
    reporter_phone: str | None = None
    ticket_no: str | None = None
    speaker_code: str | None = None
    uncovered_households: int | None = None


@dataclass(frozen=True)
class Step:
    """One step of `CaseDesk.move_many`: who makes it, the action, and its note."""

    actor: Actor
    action: Action
    note: str | None = None


@dataclass
class CaseDesk:
    """Cases of one store, routed with one lookup service, deadlines by one calendar."""

    store: Store
    lookup: LookupService
    catalogue: CategoryCatalogue = DEFAULT_CATALOGUE
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    clock: Callable[[], dt.datetime] = utc_now
    duplicates: DuplicateRule = field(default_factory=DuplicateRule)

    @property
    def book(self) -> CaseBook:
        return self.store.case_book()

    def report(self, actor: Actor, report: CaseReport) -> dict[str, Any]:
        """Register a new case (上报) in the grid its address or point belongs to; returns it.

        A case is always taken: one that cannot be placed is kept unplaced
        (待定位) for an editor to place, and the returned case's `placement`
        says how it was placed or why it was not, with suggested addresses.
        """
        _check_report(report, self.catalogue)
        place = route(
            self.lookup, self.store, address=report.address, lon=report.lon, lat=report.lat, crs=report.crs
        )
        now = self.clock()
        case = self._new_case(actor, report, place, now)
        repeats = self._repeats(report.category, place.lon, place.lat, now)
        case["duplicate_proposal"] = repeats[0]["code"] if repeats else None
        note = None if place.grid_code else f"待定位 unplaced: {place.why}"
        stored = self._insert(case, actor, now, note)
        return {**stored, "placement": _placement(place), "duplicates": repeats}

    def _new_case(self, actor: Actor, report: CaseReport, place: Place, now: dt.datetime) -> dict[str, Any]:
        """The columns of a new case as reported (no number, no duplicate proposal yet)."""
        return {
            "category": report.category,
            "description": _text(report.description),
            "source": report.source,
            "reported_at": now,
            "reporter_name": _text(report.reporter_name),
            "reporter_phone": _text(report.reporter_phone),
            "address": _text(report.address),
            "ticket_no": _text(report.ticket_no),
            "building_code": place.building_code,
            "lon": place.lon,
            "lat": place.lat,
            "grid_code": place.grid_code,
            "community_code": place.community_code,
            "street_code": place.street_code,
            "placed_by": place.placed_by,
            "level": self.catalogue.subcategory(report.category).level,
            "status": Status.REPORTED.value,
            "integrator": actor.identity if actor.role is Role.INTEGRATOR else None,
            "speaker_code": report.speaker_code,
            "uncovered_households": report.uncovered_households,
        }

    def report_many(
        self,
        actor: Actor,
        reports: Sequence[CaseReport],
        then: Sequence[Action] = (),
        placing: Placing | None = None,
    ) -> list[dict[str, Any]]:
        """Register many cases given by WGS84 points, each placed one moved on by `actor` through `then`,
        all written in one transaction: the cases, with their history, that `report` and `move` would
        write one after another, without a round trip per case (a city's thousand repair tickets).

        Each is proposed as the duplicate of the nearest case, in the book or earlier in `reports`, as
        one report after another would be. Returns the cases as stored, in the order of `reports`.
        `placing` places them as the desk's lookup would, from layers the caller holds
        (`routing.HeldPlaces`); by default the lookup places them.
        """
        if not reports:
            return []
        for report in reports:
            _check_report(report, self.catalogue)
            if report.address is not None or report.crs != "wgs84":
                raise ValidationError(
                    Message("case.source_new"), [Problem(None, "address", Message("case.bulk_points"))]
                )
        now = self.clock()
        lon = [np.nan if r.lon is None else r.lon for r in reports]
        lat = [np.nan if r.lat is None else r.lat for r in reports]
        places = (placing or partial(route_points, self.lookup, self.store))(lon, lat)
        cases = [self._new_case(actor, r, p, now) for r, p in zip(reports, places, strict=True)]
        self._number(cases, now)
        proposals = self._proposals(cases, now)
        for _ in range(_CODE_ATTEMPTS):
            rows, events = self._planned(actor, cases, places, proposals, then, now)
            if not (taken := self.book.insert_many(rows, events)):
                return rows
            for case in cases:
                if case["code"] in taken:
                    case.pop("code")
            self._number(cases, now)
        raise TransitionError(Message("case.no_number"), Status.REPORTED.value)

    def _number(self, cases: Sequence[dict[str, Any]], now: dt.datetime) -> None:
        """A fresh number for each case without one, none twice in the batch."""
        used = {case["code"] for case in cases if "code" in case}
        for case in cases:
            while "code" not in case:
                code = _new_code(now, self.calendar)
                if code not in used:
                    case["code"] = code
                    used.add(code)

    def _planned(
        self,
        actor: Actor,
        cases: Sequence[dict[str, Any]],
        places: Sequence[Place],
        proposals: Sequence[Mapping[str, Any] | None],
        then: Sequence[Action],
        now: dt.datetime,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The stored rows of new cases (those placed moved through `then`) and their events."""
        rows, events = [], []
        for case, place, proposal in zip(cases, places, proposals, strict=True):
            row = {**_NEW_ROW, **case, "duplicate_proposal": None if proposal is None else proposal["code"]}
            note = None if place.grid_code else f"待定位 unplaced: {place.why}"
            events.append(_report_event(row, actor, now, note))
            for action in then if place.grid_code is not None else ():
                step = plan(row, action, actor, now=now, calendar=self.calendar, catalogue=self.catalogue)
                if step.request is not None or step.decision is not None or step.also is not None:
                    raise TransitionError(Message("case.bulk_other_case"), str(row["status"]))
                row.update(step.changes, version=row["version"] + 1)
                events.append(step.event)
            rows.append(row)
        return rows, events

    def _proposals(
        self, cases: Sequence[Mapping[str, Any]], now: dt.datetime
    ) -> list[Mapping[str, Any] | None]:
        """The duplicate proposal of each new case, as `report` would make one after another: the
        nearest case the book has (one query per category) or one of the batch before it."""
        rule = self.duplicates
        proposals: list[Mapping[str, Any] | None] = []
        known: dict[str, tuple[list[Mapping[str, Any]], list[float], list[float]]] = {}
        for category in dict.fromkeys(case["category"] for case in cases):
            at = [(c["lon"], c["lat"]) for c in cases if c["category"] == category and c["lon"] is not None]
            pool: list[Mapping[str, Any]] = []
            if at:
                boxes = np.array([bbox_around(x, y, rule.radius_m) for x, y in at])
                whole = (*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0))
                pool += self.book.query(duplicate_condition(category, whole, rule.closed_since(now)))[0]
            known[category] = (pool, [float(r["lon"]) for r in pool], [float(r["lat"]) for r in pool])
        for case in cases:
            pool, xs, ys = known[case["category"]]
            lon, lat = case["lon"], case["lat"]
            found: list[Mapping[str, Any]] = []
            if lon is not None and lat is not None:
                west, south, east, north = bbox_around(lon, lat, rule.radius_m)
                x, y = np.asarray(xs), np.asarray(ys)
                inside = np.flatnonzero((x >= west) & (x <= east) & (y >= south) & (y <= north))
                found = [near for near, _ in nearest([pool[i] for i in inside], lon, lat, rule.radius_m)]
                pool.append(case)  # open, so a candidate for the reports after it
                xs.append(lon)
                ys.append(lat)
            proposals.append(found[0] if found else None)
        return proposals

    def _repeats(
        self, category: str, lon: float | None, lat: float | None, now: dt.datetime
    ) -> list[dict[str, Any]]:
        """The cases a report at (lon, lat) may repeat (并单), nearest first."""
        if lon is None or lat is None:
            return []
        rule = self.duplicates
        where = duplicate_condition(category, bbox_around(lon, lat, rule.radius_m), rule.closed_since(now))
        rows, _ = self.book.query(where)
        return [
            {"code": case["code"], "status": case["status"], "distance_m": round(meters, 1)}
            for case, meters in nearest(rows, lon, lat, rule.radius_m)
        ]

    def merge(self, actor: Actor, code: str, into: str) -> dict[str, Any]:
        """并单: an editor confirms that case `code` repeats case `into`; it is merged into it.

        The merged report keeps its reporter (followed up with the case it
        joined) and leaves the loop; only a case not yet dispatched is merged,
        into a case of the same category that is not itself merged.
        """
        case = self.get(actor, code)
        target = self.get(actor, into)
        if not actor.answers_for(case, frozenset({"community"})):
            raise PermissionDeniedError(
                Message("case.merge_not_editor", code=code, community=case.get("community_code"))
            )
        status = Status(case["status"])
        if status not in (Status.REPORTED, Status.ACCEPTED):
            raise TransitionError(
                Message("case.merge_status", code=code, status=status.label_zh, value=status.value),
                status.value,
            )
        problems = []
        if code == into or target["status"] in (Status.MERGED.value, Status.VOID.value):
            problems.append(Message("case.no_duplicates", into=into, status=target["status"]))
        if target["category"] != case["category"]:
            problems.append(Message("case.other_category", into=into, category=target["category"]))
        if problems:
            raise ValidationError(
                Message("case.source", code=code), [Problem(None, "into", p, code) for p in problems]
            )
        event = {
            "case_code": code,
            "action": "merge",
            "from_status": status.value,
            "to_status": Status.MERGED.value,
            "actor": actor.identity,
            "role": actor.role.value,
            "at": self.clock(),
            "note": f"并入案件 {into}",
        }
        changes = {"status": Status.MERGED.value, "duplicate_of": into, "duplicate_proposal": None}
        return self._write(case, changes, event)

    def merged_reports(self, actor: Actor, code: str) -> list[dict[str, Any]]:
        """The reports merged into a case (their reporters are followed up with it)."""
        self.get(actor, code)
        rows, _ = self.book.query(CaseFilter(duplicate_of=code).where(self.clock()))
        return rows

    def _insert(
        self, case: dict[str, Any], actor: Actor, now: dt.datetime, note: str | None
    ) -> dict[str, Any]:
        """Store a new case under a fresh number, with its first event."""
        for _ in range(_CODE_ATTEMPTS):
            case["code"] = _new_code(now, self.calendar)
            event = _report_event(case, actor, now, note)
            if self.book.insert(case, event):
                stored = self.book.get(case["code"])
                assert stored is not None
                return stored
        raise TransitionError(Message("case.no_number"), Status.REPORTED.value)

    def place(
        self,
        actor: Actor,
        code: str,
        *,
        grid: str | None = None,
        address: str | None = None,
        lon: float | None = None,
        lat: float | None = None,
        crs: str = "wgs84",
    ) -> dict[str, Any]:
        """Place (or correct the place of) a case not yet dispatched: by grid, address or point.

        An editor may place a case only in their own communities; an admin anywhere.
        """
        case = self.get(actor, code)
        if actor.role not in (Role.EDITOR, Role.ADMIN):
            raise PermissionDeniedError(Message("case.place_needs_editor", code=code))
        status = Status(case["status"])
        if status not in (Status.REPORTED, Status.ACCEPTED):
            raise TransitionError(
                Message("case.place_status", code=code, status=status.label_zh, value=status.value),
                status.value,
            )
        if grid is not None:
            place = place_in_grid(self.store, grid)
        else:
            place = route(self.lookup, self.store, address=address, lon=lon, lat=lat, crs=crs)
            if place.grid_code is None:
                reason = place.why or Message("case.not_placed")
                raise ValidationError(Message("case.source", code=code), [Problem(None, "address", reason)])
        if actor.role is Role.EDITOR and place.community_code not in actor.communities:
            raise PermissionDeniedError(
                Message(
                    "case.grid_elsewhere",
                    grid=place.grid_code,
                    community=place.community_code,
                    covers=", ".join(sorted(actor.communities)),
                )
            )
        changes: dict[str, Any] = {
            "grid_code": place.grid_code,
            "community_code": place.community_code,
            "street_code": place.street_code,
            "placed_by": "editor",
        }
        if place.lon is not None:
            changes.update(lon=place.lon, lat=place.lat, building_code=place.building_code)
        now = self.clock()
        event = {
            "case_code": code,
            "action": "place",
            "from_status": status.value,
            "to_status": status.value,
            "actor": actor.identity,
            "role": actor.role.value,
            "at": now,
            "note": f"定位到网格 {place.grid_code}",
        }
        return self._write(case, changes, event)

    def get(self, actor: Actor, code: str) -> dict[str, Any]:
        """One case the actor may see (NotFoundError / PermissionDeniedError otherwise)."""
        case = self.book.get(code)
        if case is None:
            raise NotFoundError(Message("case.not_found", code=repr(code)))
        if not actor.can_see(case):
            raise PermissionDeniedError(_unseen(case, actor))
        return case

    def history(self, actor: Actor, code: str) -> list[dict[str, Any]]:
        """The transitions of a case the actor may see, oldest first."""
        self.get(actor, code)
        return self.book.events(code)

    def move(
        self,
        actor: Actor,
        code: str,
        action: Action | str,
        *,
        note: str | None = None,
        department: str | None = None,
        hours: float | None = None,
        reached: bool | None = None,
        satisfaction: str | None = None,
        reason: str | None = None,
        channel: str | None = None,
    ) -> dict[str, Any]:
        """Make one step (a transition, a request, a decision, a follow-up); returns the case afterwards.

        A step the status does not allow is a TransitionError naming the
        current status, also when another caller moved the case first.
        """
        action = _action(action)
        if note is not None and len(note) > MAX_TEXT:
            raise ValidationError(
                Message("case.source", code=code),
                [Problem(None, "note", Message("case.too_long", most=MAX_TEXT))],
            )
        case = self.get(actor, code)
        details = Details(note, department, hours, reached, satisfaction, reason, channel)
        pending = self.book.pending_request(code) if case.get("pending_request") else None
        joined = self.book.get(case["duplicate_of"]) if case.get("duplicate_of") else None
        step = plan(
            case,
            action,
            actor,
            now=self.clock(),
            calendar=self.calendar,
            catalogue=self.catalogue,
            details=details,
            pending=pending,
            joined=joined,
        )
        return self._write(
            case, step.changes, step.event, request=step.request, decision=step.decision, also=step.also
        )

    def _write(
        self,
        case: dict[str, Any],
        changes: dict[str, Any],
        event: dict[str, Any],
        *,
        request: dict[str, Any] | None = None,
        decision: dict[str, Any] | None = None,
        also: Reopening | None = None,
    ) -> dict[str, Any]:
        code = str(case["code"])
        second = None if also is None else (also.code, also.version, also.changes, also.event)
        if not self.book.update(
            code, int(case["version"]), changes, event, request=request, decision=decision, also=second
        ):
            current = self.book.get(code) or case
            raise TransitionError(
                f"case {code} changed meanwhile; it is now {Status(current['status']).label_zh} "
                f"({current['status']})",
                str(current["status"]),
            )
        moved = self.book.get(code)
        assert moved is not None
        return moved

    def move_many(self, steps: Mapping[str, Sequence[Step]]) -> None:
        """Make each case's steps in order (what `move` would make for each, one after another), all
        written in one transaction; when another caller moved any of the cases first nothing is written
        (TransitionError). A step that would move a second case (a reopening) is refused.
        """
        if not steps:
            return
        now = self.clock()
        rows, _ = self.book.query(CaseFilter(codes=list(steps)).where(now))
        found = {str(row["code"]): row for row in rows}
        moves = []
        for code, chosen in steps.items():
            case = found.get(code)
            if case is None:
                raise NotFoundError(Message("case.not_found", code=repr(code)))
            pending = self.book.pending_request(code) if case.get("pending_request") else None
            joined = self.book.get(case["duplicate_of"]) if case.get("duplicate_of") else None
            current, changes, written = dict(case), {}, []
            for step in chosen:
                if not step.actor.can_see(current):
                    raise PermissionDeniedError(_unseen(current, step.actor))
                planned = plan(
                    current,
                    _action(step.action),
                    step.actor,
                    now=now,
                    calendar=self.calendar,
                    catalogue=self.catalogue,
                    details=Details(step.note),
                    pending=pending,
                    joined=joined,
                )
                if planned.also is not None:
                    raise TransitionError(Message("case.bulk_other_case"), str(current["status"]))
                current.update(planned.changes)
                changes.update(planned.changes)
                written.append(Written(planned.event, planned.request, planned.decision))
                if planned.decision is not None:
                    pending = None
                if planned.request is not None and planned.request["decision"] == "pending":
                    pending = planned.request
            moves.append(Moves(code, int(case["version"]), changes, written))
        if not self.book.update_many(moves):
            raise TransitionError(f"cases {', '.join(steps)}: one changed meanwhile", "changed")

    def requests(self, actor: Actor, code: str) -> list[dict[str, Any]]:
        """The approval ledger of a case the actor may see, oldest first."""
        self.get(actor, code)
        return self.book.requests(code)

    def statistics(
        self,
        by: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        period: Period | None = None,
        wanted: CaseFilter | None = None,
    ) -> pd.DataFrame:
        """`gridmap.cases.statistics.case_statistics` per `by` (and per month with `period="month"`, in the
        calendar's zone), the groups named from the store."""
        return case_statistics(
            self.book,
            by,
            catalogue=self.catalogue,
            names=group_names(self.store, by),
            since=since,
            until=until,
            now=self.clock(),
            wanted=wanted,
            period=period,
            calendar=self.calendar,
        )

    def workbook_sheets(self) -> list[tuple[str, pd.DataFrame]]:
        """Statistics of every case per grid, community, street and department, as workbook sheets."""
        return workbook_sheets({by: self.statistics(by) for by in LEVEL_LABELS}, self.catalogue)

    def due(
        self, actor: Actor, day: dt.date, *, escalate_after: int = DEFAULT_ESCALATE_AFTER
    ) -> list[Reminder]:
        """The day's list of cases to chase (催办, 催办通知, 督办, due today) that the actor may see."""
        wanted = CaseFilter(statuses=[Status.DISPATCHED.value], due_before=window(day, self.calendar))
        rows, _ = self.search(actor, wanted)
        return reminders(rows, day, self.calendar, escalate_after=escalate_after)

    def search(
        self, actor: Actor, wanted: CaseFilter, *, limit: int | None = None, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the cases the actor may see that match `wanted`, and how many match in all."""
        return self.book.query(confine(actor, wanted).where(self.clock()), limit=limit, offset=offset)


def confine(actor: Actor, wanted: CaseFilter) -> CaseFilter:
    """`wanted` narrowed to the cases the actor may see (as `Actor.can_see`; nothing for viewers)."""
    if actor.role is Role.ADMIN:
        return wanted
    if actor.role is Role.EDITOR:
        return replace(wanted, communities_in=actor.communities, unplaced_too=True)
    if actor.role is Role.DEPARTMENT:
        return replace(wanted, departments_in=actor.departments)
    if actor.role is Role.REVIEWER:
        return replace(wanted, followed_up_only=True)
    if actor.role is Role.INTEGRATOR:
        return replace(wanted, integrator=actor.identity)
    return replace(wanted, communities_in=frozenset(), departments_in=frozenset())


def _check_report(report: CaseReport, catalogue: CategoryCatalogue) -> None:
    """Every problem of a report at once (category, source, lengths), before anything is routed."""
    problems: list[Problem] = []
    if report.category not in catalogue.subcategory_codes:
        problems.append(
            Problem(None, "category", Message("case.unknown_category", category=repr(report.category)))
        )
    if report.source not in SOURCES:
        problems.append(Problem(None, "source", Message("case.bad_source", choices=", ".join(SOURCES))))
    for name in ("description", "address", "reporter_name", "reporter_phone", "ticket_no"):
        value = getattr(report, name)
        if value is not None and len(value) > MAX_TEXT:
            problems.append(Problem(None, name, Message("case.too_long", most=MAX_TEXT)))
    if problems:
        raise ValidationError(Message("case.source_new"), problems)


def _action(action: Action | str) -> Action:
    try:
        return Action(action)
    except ValueError:
        allowed = ", ".join(f"{a.value} ({a.label_zh})" for a in Action)
        reason = Message("case.unknown_action", action=repr(action), allowed=allowed)
        raise ValidationError(Message("case.source_new"), [Problem(None, "action", reason)]) from None


def _report_event(
    case: Mapping[str, Any], actor: Actor, now: dt.datetime, note: str | None
) -> dict[str, Any]:
    """The first event of a case: reported by `actor`."""
    return {
        "case_code": case["code"],
        "action": "report",
        "from_status": None,
        "to_status": Status.REPORTED.value,
        "actor": actor.identity,
        "role": actor.role.value,
        "at": now,
        "note": note,
    }


def _placement(place: Place) -> dict[str, Any]:
    """How a new case was placed, or why not and what the register suggests (待定位)."""
    return {"method": place.placed_by, "reason": place.why, "suggestions": list(place.suggestions)}


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _new_code(now: dt.datetime, calendar: WorkingCalendar) -> str:
    """A case number people can read out on the phone: the local date and six random digits."""
    local = now.astimezone(calendar.zone)
    return f"{local:%Y%m%d}{secrets.randbelow(10**6):06d}"


def _unseen(case: dict[str, Any], actor: Actor) -> Message:
    code = case["code"]
    if actor.role is Role.DEPARTMENT:
        return Message("case.unseen_department", code=code, mine=", ".join(sorted(actor.departments)))
    if actor.role is Role.EDITOR:
        return Message(
            "case.unseen_community",
            code=code,
            community=case.get("community_code") or Message("case.none"),
            covers=", ".join(sorted(actor.communities)),
        )
    if actor.role is Role.REVIEWER:
        return Message("case.unseen_reviewer", code=code)
    return Message("case.unseen_role", role=actor.role.value)


REPORT_DAYS = 90
"""The meeting report's case period: the last 90 days, against the 90 before them."""


@dataclass(frozen=True)
class CasePeriods:
    """Case statistics per group over a period and over the period of equal length just before it.

    `since` and `until` (UTC) bound the current period (cases reported in
    [since, until)); `previous` covers [since - (until - since), since), so a
    report can show each figure's trend.
    """

    since: dt.datetime
    until: dt.datetime
    current: pd.DataFrame
    previous: pd.DataFrame
    levels: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    """The current period's statistics per street and per community (`current` is per `by`)."""

    @property
    def days(self) -> int:
        return round((self.until - self.since).total_seconds() / 86400)


def case_periods(desk: CaseDesk, by: str = "grid", days: int = REPORT_DAYS) -> CasePeriods:
    """`desk`'s statistics per `by` over the last `days` days and the `days` before them."""
    until = desk.clock()
    since = until - dt.timedelta(days=days)
    current = desk.statistics(by, since=since, until=until)
    previous = desk.statistics(by, since=since - dt.timedelta(days=days), until=since)
    levels = {
        level: current if level == by else desk.statistics(level, since=since, until=until)
        for level in ("street", "community", "grid")
    }
    return CasePeriods(since, until, current, previous, levels)


def case_statistics_by_grid(store: Store, days: int = REPORT_DAYS) -> CasePeriods | None:
    """The meeting report's case figures per grid (None when the store holds no cases)."""
    desk = CaseDesk(store, LookupService(store))
    return case_periods(desk, "grid", days) if desk.book.count() else None
