"""`GET /lookup` and `POST /lookup/batch`: which grid owns an address or a point."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool

from api.auth import Caller, principal_of
from api.errors import BadRequestError
from api.openapi import inline_schema
from gridmap.crs import parse_crs
from gridmap.errors import CRSError
from gridmap.lookup import AddressNotFoundError, LookupService
from gridmap.lookup import Query as LookupQuery
from gridmap.privacy import Role
from gridmap.texts import Message
from gridmap.versions import InvalidDateError, parse_date
from gridmap.vocabulary import MATCH_METHODS

router = APIRouter(tags=["lookup"])

MAX_BATCH = 10_000
MAX_ADDRESS = 300
MAX_PASS_THROUGH = 20
"""Columns of a CSV row (or extra fields of a JSON item) returned unchanged beside each result."""
MAX_SYSTEMS = 16
"""Coordinate systems one batch may use (each costs a transformation set-up); later ones fail their rows."""
ANONYMOUS_SUGGESTIONS = 100
"""Unmatched rows of one batch that get suggestions without a token (each ranks the whole register)."""
SUGGEST_HELP = (
    "Also list up to 5 look-alike buildings for each unmatched address (slower; "
    f"without a token for the first {ANONYMOUS_SUGGESTIONS} unmatched rows only)"
)
CRS_HELP = "wgs84, cgcs2000, gcj02 (Amap, Tencent), bd09 (Baidu) or EPSG:n"


class GridOut(BaseModel):
    code: str
    name: str | None = None
    party_branch: str | None = None
    worker_name: str | None = Field(None, description="Null for anonymous callers")
    worker_phone: str | None = Field(
        None, description="Null for anonymous callers, masked (138****1234) below admin"
    )


class Named(BaseModel):
    code: str
    name: str | None = None


class BuildingOut(BaseModel):
    code: str
    name: str | None = None
    address: str | None = None


class MatchOut(BaseModel):
    method: str = Field(
        description="; ".join(f"{t.code}: {t.en} ({t.zh})" for t in MATCH_METHODS.values()),
        json_schema_extra={"enum": list(MATCH_METHODS)},
    )
    score: float
    disagrees: list[str] = Field(
        default_factory=list,
        description="Streets or communities written in the address that the answer does not lie in",
    )
    between: list[int] | None = Field(
        None, description="interpolated: the registered house numbers on either side of the one asked"
    )


class LookupOut(BaseModel):
    """Which grid owns the address or point, and who is responsible there."""

    grid: GridOut
    community: Named | None
    street: Named | None
    building: BuildingOut | None
    match: MatchOut


class BatchItem(BaseModel):
    """An address, or a point (lon, lat) in `crs`."""

    address: str | None = Field(None, min_length=1, max_length=MAX_ADDRESS)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    crs: str = Field("wgs84", description=CRS_HELP, max_length=40)

    @model_validator(mode="after")
    def _one_kind(self) -> BatchItem:
        has_point = self.lon is not None or self.lat is not None
        if self.address is not None and has_point:
            raise ValueError("give either address or lon and lat, not both")
        if self.address is None and (self.lon is None or self.lat is None):
            raise ValueError("give an address, or both lon and lat")
        return self


class BatchIn(BaseModel):
    """Up to 10,000 lookups answered in one call, in input order.

    Each item is checked on its own: a bad item gets an `invalid` result and
    the others are answered. Fields of an item other than address, lon, lat
    and crs (an `id`, a ticket number) come back unchanged as its `input`.
    """

    items: list[BatchItem] = Field(max_length=MAX_BATCH)
    suggest: bool = Field(False, description=SUGGEST_HELP)


class _RawBatch(BaseModel):
    """The batch's shape only; each item is read by `_json_row`."""

    items: list[Any] = Field(max_length=MAX_BATCH)
    suggest: bool = False


def _service(request: Request) -> LookupService:
    service: LookupService = request.app.state.lookup
    return service


def _check_crs(crs: str, field: str = "crs") -> str:
    try:
        parse_crs(crs)
    except CRSError as exc:
        raise BadRequestError(str(exc), field=field) from None
    return crs


def _parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


# /lookup parses its few parameters itself: FastAPI's per-parameter machinery
# and dependency solving cost more than the lookup on this hot path.
_LOOKUP_PARAMETERS = [
    _parameter("address", {"type": "string", "minLength": 1, "maxLength": MAX_ADDRESS}, "An address"),
    _parameter("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Longitude (with lat)"),
    _parameter("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Latitude (with lon)"),
    _parameter("crs", {"type": "string", "default": "wgs84", "maxLength": 40}, CRS_HELP),
    _parameter(
        "date", {"type": "string", "format": "date"}, "Answer with the boundaries in force on this date"
    ),
]


def _date(raw: str | None) -> str | None:
    """The `date` parameter (boundaries in force on that day); malformed is a 422 naming it."""
    if raw is None:
        return None
    try:
        return parse_date(raw)
    except InvalidDateError as exc:
        raise BadRequestError(str(exc), field="date") from None


def _number(raw: str | None, name: str, bound: float) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequestError(Message("api.lookup.not_number", name=name), field=name) from None
    if not -bound <= value <= bound:  # also rejects NaN
        raise BadRequestError(Message("api.lookup.range", name=name, bound=f"{bound:g}"), field=name)
    return value


@router.get(
    "/lookup",
    response_model=LookupOut,
    responses={
        404: {
            "description": "No building matches (with suggestions; with `candidates`, the grids a house "
            "number the register lacks may lie in), or the point is outside"
        },
        422: {"description": "Malformed input; `errors` names the field"},
    },
    summary="Which grid owns an address or a point",
    openapi_extra={"parameters": _LOOKUP_PARAMETERS, "security": [{"HTTPBearer": []}, {}]},
)
async def lookup(request: Request) -> JSONResponse:
    """Give `address`, or `lon` and `lat` (in `crs`: wgs84, cgcs2000, gcj02, bd09 or EPSG:n)."""
    caller = principal_of(request)
    params = request.query_params
    service = _service(request)
    address = params.get("address")
    lon = _number(params.get("lon"), "lon", 180)
    lat = _number(params.get("lat"), "lat", 90)
    date = _date(params.get("date"))
    if address is not None:
        if lon is not None or lat is not None:
            raise BadRequestError(Message("api.lookup.both"), field="address")
        if not address.strip():
            raise BadRequestError(Message("api.lookup.blank"), field="address")
        if len(address) > MAX_ADDRESS:
            raise BadRequestError(Message("api.lookup.long", most=MAX_ADDRESS), field="address")
        if date is not None:  # a past date's indexes may have to be built: off the event loop
            snapshot = await run_in_threadpool(service.as_of, date)
        else:
            snapshot = service.snapshot()
        found = snapshot.addresses.match(address)
        if found is None:
            placed, candidates = snapshot.placed(address, caller.role)
            if placed is not None:
                return JSONResponse(placed)
            # Ranking the register for suggestions is CPU work: off the event loop, one at a time.
            suggestions = await anyio.to_thread.run_sync(
                snapshot.suggestions, address, limiter=_limiter(request, "suggestions")
            )
            raise AddressNotFoundError(address, suggestions, candidates)
        return JSONResponse(snapshot.for_match(address, found, caller.role))
    if lon is None or lat is None:
        missing = "lat" if lon is not None else "lon"
        raise BadRequestError(Message("api.lookup.missing", missing=missing), field=missing)
    crs = params.get("crs") or "wgs84"
    if date is not None:  # a past date's indexes may have to be built: off the event loop
        reply = await run_in_threadpool(service.by_point, lon, lat, _check_crs(crs), caller.role, date)
        return JSONResponse(reply)
    return JSONResponse(service.by_point(lon, lat, _check_crs(crs), caller.role))


_BATCH_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": inline_schema(BatchIn)},
        "text/csv": {
            "schema": {
                "type": "string",
                "description": "CSV with a header: `address` (地址), or `lon,lat[,crs]` (经度,纬度,坐标系); "
                f"up to {MAX_PASS_THROUGH} columns, the others come back unchanged",
            }
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


@router.post(
    "/lookup/batch",
    summary="Many lookups at once (JSON or CSV), results in input order",
    openapi_extra={
        "requestBody": _BATCH_BODY,
        "parameters": [_parameter("suggest", {"type": "boolean", "default": False}, SUGGEST_HELP)],
    },
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def lookup_batch(request: Request, caller: Caller) -> Response:
    """One result per input row, in order: `status` ok, not_found, outside or invalid (with `detail`).

    `row` is the CSV line (the header is line 1) or the item's 1-based number;
    a bad row never fails the batch. An address on a road the register holds,
    with a house number it lacks, is answered by interpolation (match
    `interpolated`) or is not_found with the `candidates` grids. `Accept: text/csv` answers CSV: the input
    columns, then status, grid, community, street, building, match and detail.
    """
    raw = request.query_params.get("suggest", "false").strip().lower()
    if raw not in ("true", "1", "false", "0"):
        raise BadRequestError(Message("api.lookup.suggest"), field="suggest")
    kind, body = await _batch_body(request)
    as_csv = "text/csv" in request.headers.get("accept", "").lower()
    job = partial(_answer_batch, _service(request), kind, body, caller.role, raw in ("true", "1"), as_csv)
    # Parsing, matching, suggestions and rendering are CPU work: one batch at a time per
    # process, in a worker thread, so /health and single lookups keep being answered.
    content, media_type = await anyio.to_thread.run_sync(job, limiter=_limiter(request, "batch"))
    return Response(content, media_type=media_type)


def _limiter(request: Request, work: str) -> anyio.CapacityLimiter:
    """The process's one worker thread for `work` (batch, suggestions), created on first use.

    One thread each keeps CPU-heavy lookups from crowding the event loop out of
    the interpreter, however many callers ask at once.
    """
    name = f"lookup_{work}_limiter"
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, name, None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(1)
        setattr(request.app.state, name, limiter)
    return limiter


async def _batch_body(request: Request) -> tuple[str, bytes]:
    """("json" or "csv", the raw bytes) from a JSON body, a CSV body or a multipart CSV upload."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        async with request.form() as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise BadRequestError(Message("api.lookup.upload"), field="file")
            return "csv", await upload.read()
    body = await request.body()
    if kind in ("text/csv", "application/csv", "text/plain"):
        return "csv", body
    if kind not in ("application/json", ""):
        raise BadRequestError(Message("api.lookup.content_type", kind=repr(kind)), field="body")
    return "json", body


class _Row:
    """One input row: its number, the lookup it asks for (or why it cannot), its pass-through columns."""

    __slots__ = ("number", "passed", "query")

    def __init__(self, number: int, query: LookupQuery, passed: dict[str, Any]) -> None:
        self.number = number
        self.query = query
        self.passed = passed


def _answer_batch(
    service: LookupService, kind: str, body: bytes, role: Role, suggest: bool, as_csv: bool
) -> tuple[bytes, str]:
    """The whole batch, in a worker thread: parse, look up, render (JSON or CSV)."""
    if kind == "csv":
        header, rows = _csv_rows(body)
    else:
        rows, asked = _json_rows(body)
        header, suggest = _json_header(rows), suggest or asked
    limit = None if role is not Role.ANONYMOUS else ANONYMOUS_SUGGESTIONS
    results = service.batch(
        [row.query for row in rows], role, suggest=suggest, suggest_limit=limit, max_systems=MAX_SYSTEMS
    )
    label = "row" if kind == "csv" else "item"
    for row, result in zip(rows, results, strict=True):
        result["row"] = row.number
        if result["status"] == "invalid":
            result["detail"] = f"{label} {row.number}: {result['detail']}"
        if row.passed:
            result["input"] = row.passed
    if as_csv:
        return _csv_reply(header, rows, results), "text/csv; charset=utf-8"
    content = {"count": len(results), "results": results}
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode(), "application/json"


_LOOKUP_FIELDS = ("address", "lon", "lat", "crs")


def _json_rows(body: bytes) -> tuple[list[_Row], bool]:
    """The items of a JSON batch (a list, or `{"items": [...], "suggest": …}`), and its `suggest` flag."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadRequestError(Message("api.lookup.not_json", reason=str(exc)), field="body") from None
    if isinstance(data, list):
        data = {"items": data}
    try:
        batch = _RawBatch.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    return [_json_row(number, item) for number, item in enumerate(batch.items, start=1)], batch.suggest


def _json_row(number: int, item: Any) -> _Row:
    """One JSON item: its lookup (or its error) and its other fields, passed through."""
    if not isinstance(item, dict):
        return _Row(number, LookupQuery(error="expected an object"), {})
    passed = {k: v for k, v in item.items() if k not in _LOOKUP_FIELDS}
    if len(passed) > MAX_PASS_THROUGH:
        return _Row(number, LookupQuery(error=f"more than {MAX_PASS_THROUGH} extra fields"), {})
    if any(isinstance(v, dict | list) for v in passed.values()):
        return _Row(number, LookupQuery(error="extra fields must be text or numbers"), {})
    return _Row(number, _query({k: v for k, v in item.items() if k in _LOOKUP_FIELDS}), passed)


def _query(fields: dict[str, Any]) -> LookupQuery:
    """The lookup `fields` ask for, or a query carrying the reason they cannot be one."""
    try:
        item = BatchItem.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        name = ".".join(str(part) for part in error["loc"]) or "item"
        reason = str(error["msg"]).removeprefix("Value error, ")
        return LookupQuery(error=f"{name}: {reason}" if error["loc"] else reason)
    return LookupQuery(item.address, item.lon, item.lat, item.crs)


_CSV_COLUMNS = {
    "address": ("address", "地址", "详细地址"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "crs": ("crs", "坐标系"),
}


def _csv_rows(raw: bytes) -> tuple[list[str], list[_Row]]:
    """The header and rows of an uploaded CSV (UTF-8, or GB18030 as Chinese spreadsheets save it)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise BadRequestError(Message("api.lookup.csv_encoding"), field="file") from None
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise BadRequestError(Message("api.lookup.csv_unreadable", reason=str(exc)), field="file") from None
    header = lines[0] if lines else []
    if not any(h.strip() for h in header):
        raise BadRequestError(Message("api.lookup.csv_empty"), field="file")
    if len(header) > MAX_PASS_THROUGH:
        raise BadRequestError(
            Message("api.lookup.csv_columns", n=len(header), most=MAX_PASS_THROUGH), field="file"
        )
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise BadRequestError(Message("api.lookup.csv_repeats", columns=", ".join(repeated)), field="file")
    names = [h.strip().lower() for h in header]
    column: dict[str, int] = {}
    for field, aliases in _CSV_COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases:
                column.setdefault(field, i)
    if "address" not in column and not {"lon", "lat"} <= column.keys():
        raise BadRequestError(Message("api.lookup.csv_columns_needed"), field="file")
    rows: list[_Row] = []
    for number, line in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in line):
            continue
        if len(rows) >= MAX_BATCH:
            raise BadRequestError(Message("api.lookup.batch_rows", most=MAX_BATCH), field="file")
        passed = dict(zip(header, line, strict=False))
        if len(line) > len(header):
            rows.append(_Row(number, LookupQuery(error="more cells than header columns"), passed))
            continue
        values = {f: line[i].strip() for f, i in column.items() if i < len(line) and line[i].strip()}
        if "address" in values:
            values = {"address": values["address"]}
        rows.append(_Row(number, _query(values), passed))
    return header, rows


def _json_header(rows: Sequence[_Row]) -> list[str]:
    """The pass-through columns of a JSON batch, in the order they first appear."""
    return list(dict.fromkeys(name for row in rows for name in row.passed))


_CSV_RESULT = (
    "status",
    "grid_code",
    "grid_name",
    "party_branch",
    "worker_name",
    "worker_phone",
    "community_code",
    "community_name",
    "street_code",
    "street_name",
    "building_code",
    "building_name",
    "building_address",
    "match_method",
    "match_score",
    "match_disagrees",
    "detail",
    "candidates",
    "suggestions",
)


def _csv_reply(header: list[str], rows: Sequence[_Row], results: Sequence[dict[str, Any]]) -> bytes:
    """The input columns of each row, unchanged, then its result (UTF-8 with a BOM, for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = [name for name in _CSV_RESULT if name not in header]
    writer.writerow([*header, *columns])
    for row, result in zip(rows, results, strict=True):
        flat = dict(_flatten(result))
        writer.writerow([*(row.passed.get(name, "") for name in header), *(flat.get(c, "") for c in columns)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _flatten(result: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """A result's CSV cells: nested parts as part_field, suggestions as `address (code)` joined by ` | `."""
    yield "status", result["status"]
    yield "detail", result.get("detail") or ""
    for part in ("grid", "community", "street", "building", "match"):
        for name, value in (result.get(part) or {}).items():
            yield (
                (name if part == "grid" and name in _CSV_RESULT else f"{part}_{name}"),
                ("" if value is None else " | ".join(map(str, value)) if isinstance(value, list) else value),
            )
    yield "candidates", " | ".join(result.get("candidates") or [])
    suggestions = result.get("suggestions") or []
    yield "suggestions", " | ".join(f"{s['address']} ({s['code']})" for s in suggestions)
