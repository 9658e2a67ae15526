"""`/cases`: report, move, list and count cases (案件) routed by grid.

Reporting is open to everyone (anonymous callers are rate-limited per client
address); reading and moving cases is confined by `gridmap.cases` to what the
caller answers for: editors their communities, departments the cases
dispatched to them, admins everything. Statistics are aggregates without
personal data, for any token.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.auth import Caller, Principal
from api.errors import RateLimitedError
from api.language import request_language
from api.settings import ApiSettings
from gridmap.cases.calendar import load_calendar
from gridmap.cases.categories import load_catalogue
from gridmap.cases.dashboard import dashboard
from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.cases.lifecycle import Actor
from gridmap.cases.records import cases_frame, local_time, properties
from gridmap.cases.reminders import REMINDER_KINDS
from gridmap.cases.statistics import LABELS, headers
from gridmap.cases.vocabulary import (
    ACTION_LABELS,
    CHANNELS,
    DECISIONS,
    DISSATISFACTION_REASONS,
    LEVELS,
    PLACEMENTS,
    SATISFACTION,
    SOURCES,
    STATUS_LABELS,
    Action,
    Status,
)
from gridmap.catalogue import PHONE, PHONE_SEPARATORS, UNSAFE_TEXT
from gridmap.formulas import neutralise_text
from gridmap.lookup import LookupService
from gridmap.privacy import Role
from gridmap.stores import Store
from gridmap.stores.cases import GROUPS, CaseFilter
from gridmap.stores.query import MAX_OFFSET
from gridmap.texts import Message, text
from gridmap.visits.intake import report_once
from gridmap.vocabulary import CASE_RATES, rate_color, rate_grade

router = APIRouter(tags=["cases"])

MAX_LIMIT = 10_000
MAX_TEXT = 2000
CodeParam = Annotated[str, Path(max_length=40, description="Case number")]
ListFormat = Literal["json", "geojson", "csv"]


class Intake:
    """The rate limit of unauthenticated reports: `per_minute` from one client address (moving window)."""

    def __init__(self, per_minute: int) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._item = RateLimitItemPerMinute(per_minute)

    def admit(self, client: str) -> None:
        if not self._limiter.hit(self._item, "cases", client):
            raise RateLimitedError(
                f"too many cases reported from {client} without a token "
                f"(at most {self._item.amount} a minute); try again shortly or call 12345"
            )


def desk_for(store: Store, lookup: LookupService, settings: ApiSettings) -> CaseDesk:
    """The app's case desk, with the configured category catalogue and working calendar."""
    return CaseDesk(
        store,
        lookup,
        catalogue=load_catalogue(settings.case_categories),
        calendar=load_calendar(settings.case_calendar),
    )


def actor_of(caller: Principal) -> Actor:
    return Actor(caller.role, caller.name, caller.communities, caller.departments)


class CaseIn(BaseModel):
    """A new case: its category (小类 code), what is wrong, and where (an address, a point, or both)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not dropped

    category: str = Field(max_length=20, examples=["0102"])
    description: str | None = Field(None, max_length=MAX_TEXT)
    address: str | None = Field(None, max_length=300, examples=["武汉市武昌区幸福路88号3栋"])
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    crs: str = Field("wgs84", max_length=40, description="wgs84, cgcs2000, gcj02, bd09 or EPSG:n")
    source: str = Field("resident", description=", ".join(SOURCES))
    reporter_name: str | None = Field(None, max_length=100)
    reporter_phone: str | None = Field(None, max_length=40)
    ticket_no: str | None = Field(None, max_length=64, description="The 12345 work-order number (工单编号)")
    key: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Idempotency key (e.g. a UUID): sent again, the answer is the case already reported",
    )

    @field_validator("description", "address", "reporter_name", "reporter_phone", "ticket_no")
    @classmethod
    def _safe_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        """The catalogue's rules for text: no control characters or bidi overrides; a phone is a phone."""
        if value is None:
            return value
        if re.search(UNSAFE_TEXT, value):
            raise ValueError("holds control characters or bidirectional overrides")
        if info.field_name == "reporter_phone" and value.strip():
            digits = PHONE_SEPARATORS.sub("", value)
            if not PHONE.fullmatch(digits):
                raise ValueError(
                    "is not a phone number (a mobile like 13812341234, or a landline with its area code)"
                )
        return value


class MoveIn(BaseModel):
    """What a step says: its note (a reason, required for requests, level changes and rejections), the
    department to dispatch to (the category's by default), the extra hours of 延期, and a follow-up's
    result (回访: reached, satisfaction, reason, channel)."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=MAX_TEXT)
    department: str | None = Field(None, max_length=40)
    hours: float | None = Field(None, gt=0, le=24 * 30)
    reached: bool | None = None
    satisfaction: Literal["satisfied", "basic", "dissatisfied"] | None = None
    reason: str | None = Field(None, max_length=40, description="Why dissatisfied (see /cases/categories)")
    channel: Literal["phone", "channel"] | None = None


class PlaceIn(BaseModel):
    """Where an editor places a case: a grid code, an address, or a point."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not dropped

    grid: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=300)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    crs: str = Field("wgs84", max_length=40)


def _desk(request: Request) -> CaseDesk:
    desk: CaseDesk = request.app.state.cases
    return desk


def _one(desk: CaseDesk, case: dict[str, Any], role: Role) -> dict[str, Any]:
    frame = cases_frame([case], now=desk.clock(), zone=desk.calendar.zone, role=role)
    return properties(frame)[0]


@router.get("/cases/categories", summary="The case categories, departments, statuses and sources")
def categories(request: Request) -> dict[str, Any]:
    desk = _desk(request)
    return {
        **desk.catalogue.as_dict(),
        "statuses": [
            {"code": s.value, "name_zh": zh, "name_en": en} for s, (zh, en) in STATUS_LABELS.items()
        ],
        "actions": [{"code": a.value, "name_zh": zh, "name_en": en} for a, (zh, en) in ACTION_LABELS.items()],
        "sources": [{"code": s.code, "name_zh": s.label_zh, "name_en": s.label_en} for s in SOURCES.values()],
        **{
            name: [{"code": t.code, "name_zh": t.label_zh, "name_en": t.label_en} for t in terms.values()]
            for name, terms in (
                ("satisfaction", SATISFACTION),
                ("dissatisfaction_reasons", DISSATISFACTION_REASONS),
                ("channels", CHANNELS),
                ("levels", LEVELS),
                ("placements", PLACEMENTS),
                ("decisions", DECISIONS),
            )
        },
    }


@router.post("/cases", status_code=201, summary="Report a case (上报); routed to its grid like a lookup")
def report(request: Request, response: Response, caller: Caller, body: CaseIn) -> dict[str, Any]:
    """Anyone may report; without a token, a client address may report a few cases a minute.

    A case is always taken: with an address the register does not know, a
    point in no grid, or neither, it is kept unplaced (待定位) and
    `placement` says why, with suggested addresses. With a `key` (the phone
    page's queue), a report sent again answers 200 with the case already made.
    """
    if caller.role is Role.ANONYMOUS:
        request.app.state.case_intake.admit(request.client.host if request.client else "unknown")
    desk = _desk(request)
    fields = body.model_dump(exclude={"key"})
    if body.key is not None:
        case, created = report_once(desk, actor_of(caller), CaseReport(**fields), body.key)
        if not created:
            response.status_code = 200
            return {**_one(desk, case, caller.role), "created": False}
    else:
        case = desk.report(actor_of(caller), CaseReport(**fields))
    placement = case["placement"]
    if placement["reason"] is not None:  # why it is unplaced, said to the caller in their language
        placement = {**placement, "reason": text(placement["reason"], request_language(request))}
    return {**_one(desk, case, caller.role), "placement": placement, "duplicates": case["duplicates"]}


@router.get("/cases", summary="The cases you may see, filtered; JSON, GeoJSON or CSV")
def list_cases(
    request: Request,
    caller: Caller,
    grid: Annotated[str | None, Query(max_length=100)] = None,
    community: Annotated[str | None, Query(max_length=100)] = None,
    street: Annotated[str | None, Query(max_length=100)] = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[list[Status] | None, Query(description="One or more statuses")] = None,
    category: Annotated[
        str | None, Query(max_length=20, description="A category or subcategory code")
    ] = None,
    overdue: Annotated[bool | None, Query(description="Only overdue (true) or not overdue (false)")] = None,
    since: Annotated[dt.date | None, Query(description="Reported on or after this local date")] = None,
    until: Annotated[dt.date | None, Query(description="Reported on or before this local date")] = None,
    ticket_no: Annotated[str | None, Query(max_length=64, description="A 12345 work-order number")] = None,
    placed: Annotated[bool | None, Query(description="Only placed (true) or unplaced (false) cases")] = None,
    awaiting_review: Annotated[bool | None, Query(description="Only closed cases not followed up")] = None,
    pending: Annotated[bool | None, Query(description="Only cases with a request to approve")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    format: ListFormat = "json",
) -> Response:
    desk = _desk(request)
    start, end = desk.calendar.period(since, until)
    wanted = CaseFilter(
        grid=grid,
        community=community,
        street=street,
        department=department,
        statuses=[s.value for s in status] if status else None,
        category=category,
        overdue=overdue,
        since=start,
        until=end,
        ticket_no=ticket_no,
        placed=placed,
        awaiting_review=awaiting_review,
        pending=pending,
    )
    rows, total = desk.search(actor_of(caller), wanted, limit=limit, offset=offset)
    frame = cases_frame(rows, now=desk.clock(), zone=desk.calendar.zone, role=caller.role)
    headers_ = {"X-Total-Count": str(total)}
    if format == "geojson":
        return Response(
            frame.to_json(drop_id=True, ensure_ascii=False),
            media_type="application/geo+json",
            headers=headers_,
        )
    records = properties(frame)
    if format == "csv":
        buffer = io.StringIO()
        columns = [c for c in frame.columns if c != "geometry"] + ["lon", "lat"]
        import csv

        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(
            {key: neutralise_text(value) if isinstance(value, str) else value for key, value in row.items()}
            for row in records
        )
        return Response(
            "\ufeff" + buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={**headers_, "Content-Disposition": 'attachment; filename="cases.csv"'},
        )
    body = {"numberMatched": total, "numberReturned": len(records), "cases": records}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json", headers=headers_)


@router.get("/cases/stats", summary="Case statistics per grid, community, street or department over a period")
def stats(
    request: Request,
    caller: Caller,
    by: Annotated[Literal["grid", "community", "street", "department"], Query()] = "grid",
    since: Annotated[dt.date | None, Query(description="Reported on or after this local date")] = None,
    until: Annotated[dt.date | None, Query(description="Reported on or before this local date")] = None,
    period: Annotated[
        Literal["month"] | None,
        Query(description="month: one row per calendar month (Beijing time) and group"),
    ] = None,
) -> dict[str, Any]:
    """Aggregates only (no personal data): any token may read them."""
    caller.require(Role.VIEWER, Message("api.action.case_statistics"))
    desk = _desk(request)
    start, end = desk.calendar.period(since, until)
    table = desk.statistics(by, since=start, until=end, period=period)
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    for row in rows:
        row["grades"] = {
            code: {"grade": rate_grade(code, row[code]), "color": rate_color(code, row[code])}
            for code in CASE_RATES
        }
    return {
        "by": by,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "period": period,
        "labels": headers(desk.catalogue),
        "rows": rows,
    }


@router.get("/cases/due", summary="The day's cases to chase: 督办, 催办通知, due today, 催办")
def due(
    request: Request,
    caller: Caller,
    on: Annotated[dt.date | None, Query(description="The local day (today by default)")] = None,
    escalate_after: Annotated[int, Query(ge=1, le=60, description="Working days before 督办")] = 3,
) -> dict[str, Any]:
    """Each role's own list: editors their communities, departments their cases."""
    desk = _desk(request)
    day = on or desk.clock().astimezone(desk.calendar.zone).date()
    chase = desk.due(actor_of(caller), day, escalate_after=escalate_after)
    return {
        "on": day.isoformat(),
        "items": [
            {
                "kind": item.kind,
                "kind_zh": REMINDER_KINDS[item.kind].label_zh,
                "overdue_working_days": item.overdue_days,
                "escalate_to": item.escalate_to,
                "case": _one(desk, dict(item.case), caller.role),
            }
            for item in chase
        ],
    }


@router.get(
    "/cases/dashboard", summary="街道网格化综合管理中心: due today, overdue, follow-ups, rates this month"
)
def case_dashboard(
    request: Request,
    caller: Caller,
    on: Annotated[dt.date | None, Query(description="The local day (today by default)")] = None,
) -> dict[str, Any]:
    """Counts and rates of the caller's own area (no personal data)."""
    caller.require(Role.VIEWER, Message("api.action.case_dashboard"))
    desk = _desk(request)
    day = on or desk.clock().astimezone(desk.calendar.zone).date()
    return dashboard(desk, actor_of(caller), day).as_dict()


@router.get("/cases/{code}", summary="One case with its transitions")
def get_case(request: Request, caller: Caller, code: CodeParam) -> dict[str, Any]:
    desk = _desk(request)
    actor = actor_of(caller)
    case = desk.get(actor, code)
    events = [
        {**event, "at": local_time(event["at"], desk.calendar.zone)} for event in desk.book.events(code)
    ]
    requests = [
        {
            **entry,
            "requested_at": local_time(entry["requested_at"], desk.calendar.zone),
            "decided_at": local_time(entry["decided_at"], desk.calendar.zone),
        }
        for entry in desk.book.requests(code)
    ]
    return {**_one(desk, case, caller.role), "events": events, "requests": requests}


@router.post("/cases/{code}/place", summary="Place an unplaced case (待定位) by grid, address or point")
def place(request: Request, caller: Caller, code: CodeParam, body: PlaceIn) -> dict[str, Any]:
    """Editors place cases in their own communities; admins anywhere."""
    desk = _desk(request)
    case = desk.place(actor_of(caller), code, **body.model_dump())
    return _one(desk, case, caller.role)


class MergeIn(BaseModel):
    """The case a report repeats (并单)."""

    into: str = Field(max_length=40)


@router.post("/cases/{code}/merge", summary="并单: confirm that a report repeats another case")
def merge(request: Request, caller: Caller, code: CodeParam, body: MergeIn) -> dict[str, Any]:
    desk = _desk(request)
    case = desk.merge(actor_of(caller), code, body.into)
    return _one(desk, case, caller.role)


@router.post(
    "/cases/{code}/{action}",
    summary="Move a case: accept, dispatch, handle, check, close; request return, void, extend or suspend; "
    "approve or reject a request; resume; follow up (review); raise or send down a level",
)
def move(
    request: Request, caller: Caller, code: CodeParam, action: Action, body: MoveIn | None = None
) -> dict[str, Any]:
    """An illegal transition is a 409 naming the case's current status."""
    desk = _desk(request)
    body = body or MoveIn.model_validate({})
    case = desk.move(actor_of(caller), code, action, **body.model_dump())
    return _one(desk, case, caller.role)


__all__ = ["GROUPS", "LABELS", "Intake", "desk_for", "router"]
