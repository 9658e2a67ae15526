"""`/open311/v2`: Open311 GeoReport v2 for integrators (12345 platforms, FixMyStreet-style apps).

`services.json`, `services/{code}.json`, `requests.json` (GET a list, POST
a new request as a form or JSON with `lat`/`long` or `address_string`) and
`requests/{id}.json`. Every call carries the integrator's `api_key` (a
token of the `integrator` role, or any other token); an integrator reads
back only the requests it posted. Errors are GeoReport's list of
`{"code", "description"}` with the HTTP status.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.auth import Principal, principal_for
from api.cases import actor_of
from api.errors import BadRequestError, error_body, status_of
from api.language import request_language
from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.cases.open311 import OPEN311_STATUSES, service_request, services, statuses_of
from gridmap.errors import GridmapError, NotFoundError, PermissionDeniedError
from gridmap.stores.cases import CaseFilter
from gridmap.texts import Message

router = APIRouter(prefix="/open311/v2", tags=["open311"])

MAX_REQUESTS = 1000
"""GeoReport's default and largest page of requests."""
_TEXT_LIMITS = {"description": 2000, "address_string": 300, "first_name": 50, "last_name": 50, "phone": 40}


def _reply(request: Request, work: Callable[[], Any], status: int = 200) -> JSONResponse:
    """Run `work` and answer with its JSON, or with GeoReport's error list (in the caller's language)."""
    try:
        return JSONResponse(work(), status_code=status)
    except GridmapError as exc:
        code, _ = status_of(exc)
        detail = error_body(exc, request_language(request))["detail"]
        return JSONResponse([{"code": code, "description": detail}], status_code=code)


def _desk(request: Request) -> CaseDesk:
    desk: CaseDesk = request.app.state.cases
    return desk


def _key(request: Request, form: dict[str, str]) -> Principal:
    """The integrator the `api_key` (form, query or bearer token) stands for; one is required."""
    key = form.get("api_key") or request.query_params.get("api_key")
    header = request.headers.get("authorization", "")
    if not key and header.lower().startswith("bearer "):
        key = header[7:].strip()
    if not key:
        raise PermissionDeniedError(Message("api.open311.key"))
    return principal_for(key, request.app.state.grants)


@router.get("/services.json", summary="GeoReport v2: the service list (one per case subcategory)")
def service_list(request: Request) -> JSONResponse:
    return _reply(request, lambda: services(_desk(request).catalogue))


@router.get("/services/{code}.json", summary="GeoReport v2: a service definition (no extra attributes)")
def service_definition(request: Request, code: str) -> JSONResponse:
    def work() -> dict[str, Any]:
        if code not in _desk(request).catalogue.subcategory_codes:
            raise NotFoundError(Message("api.open311.no_service", code=repr(code)))
        return {"service_code": code, "attributes": []}

    return _reply(request, work)


@router.post("/requests.json", summary="GeoReport v2: post a service request (form or JSON)")
async def post_request(request: Request) -> JSONResponse:
    """Always taken, like any case: an address or point the register cannot place waits for an editor."""
    form = await _fields(request)

    def work() -> list[dict[str, Any]]:
        caller = _key(request, form)
        report = _report(form)
        desk = _desk(request)
        case = desk.report(actor_of(caller), report)
        notice = None if case["grid_code"] else "已受理，待人工定位 (received; to be placed by an editor)"
        return [{"service_request_id": case["code"], "service_notice": notice, "account_id": None}]

    return _reply(request, work, status=201)


@router.get("/requests.json", summary="GeoReport v2: service requests, filtered")
def get_requests(request: Request) -> JSONResponse:
    def work() -> list[dict[str, Any]]:
        caller = _key(request, {})
        params = request.query_params
        desk = _desk(request)
        status = params.get("status")
        if status is not None and status not in OPEN311_STATUSES:
            raise BadRequestError(Message("api.open311.status"), "status")
        ids = params.get("service_request_id")
        start = _date_param(params.get("start_date"), "start_date")
        end = _date_param(params.get("end_date"), "end_date")
        wanted = CaseFilter(
            codes=[i.strip() for i in ids.split(",") if i.strip()] if ids else None,
            category=params.get("service_code") or None,
            statuses=statuses_of(status) if status else None,
            since=start,
            until=end,
        )
        rows, _ = desk.search(actor_of(caller), wanted, limit=MAX_REQUESTS)
        return [service_request(row, desk.catalogue, desk.calendar.zone) for row in rows]

    return _reply(request, work)


@router.get("/requests/{request_id}.json", summary="GeoReport v2: one service request")
def get_request(request: Request, request_id: str) -> JSONResponse:
    def work() -> list[dict[str, Any]]:
        caller = _key(request, {})
        desk = _desk(request)
        case = desk.get(actor_of(caller), request_id)
        return [service_request(case, desk.catalogue, desk.calendar.zone)]

    return _reply(request, work)


async def _fields(request: Request) -> dict[str, str]:
    """A POST's fields, from a form (as GeoReport clients send) or a JSON object."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return {"__invalid__": Message("api.open311.not_object")}
        return {str(k): "" if v is None else str(v) for k, v in body.items()}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _report(form: dict[str, str]) -> CaseReport:
    """A service request's fields as a case report; every bad field raises one 400 naming it."""
    if "__invalid__" in form:
        raise BadRequestError(form["__invalid__"], "body")
    code = form.get("service_code", "").strip()
    if not code:
        raise BadRequestError(Message("api.open311.service_code"), "service_code")
    for name, limit in _TEXT_LIMITS.items():
        if len(form.get(name, "")) > limit:
            raise BadRequestError(Message("api.open311.too_long", name=name, most=limit), name)
    lat, lon = _number(form, "lat", 90), _number(form, "long", 180)
    address = form.get("address_string", "").strip() or None
    if (lat is None) != (lon is None):
        raise BadRequestError(Message("api.open311.lat_long"), "lat")
    if lat is None and address is None:
        raise BadRequestError(Message("api.open311.location"), "address_string")
    name = " ".join(p for p in (form.get("last_name", ""), form.get("first_name", "")) if p).strip()
    return CaseReport(
        category=code,
        description=form.get("description") or None,
        address=address,
        lon=lon,
        lat=lat,
        source="open311",
        reporter_name=name or None,
        reporter_phone=form.get("phone") or None,
    )


def _number(form: dict[str, str], name: str, bound: float) -> float | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequestError(Message("api.open311.number", name=name, value=repr(text)), name) from None
    if not math.isfinite(value) or abs(value) > bound:
        raise BadRequestError(Message("api.open311.bound", name=name, bound=bound), name)
    return value


def _date_param(text: str | None, name: str) -> dt.datetime | None:
    """A W3C datetime (2026-12-01T09:00:00+08:00, or a date) as an aware instant."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(Message("api.open311.datetime", name=name, value=repr(text)), name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment
