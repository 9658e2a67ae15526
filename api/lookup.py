"""`GET /lookup` and `POST /lookup/batch`: which grid owns an address or a point."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool

from api.auth import Caller, principal_of
from api.errors import BadRequestError
from api.openapi import inline_schema
from gridmap.crs import parse_crs
from gridmap.errors import CRSError
from gridmap.lookup import LookupService
from gridmap.lookup import Query as LookupQuery
from gridmap.versions import InvalidDateError, parse_date

router = APIRouter(tags=["lookup"])

MAX_BATCH = 10_000
MAX_ADDRESS = 300
SUGGEST_HELP = "Also list up to 5 look-alike buildings for each unmatched address (slower)"
CRS_HELP = "wgs84, cgcs2000, gcj02 (Amap, Tencent), bd09 (Baidu) or EPSG:n"


class GridOut(BaseModel):
    code: str
    name: str | None = None
    party_branch: str | None = None
    worker_name: str | None = Field(None, description="Null for anonymous callers")


class Named(BaseModel):
    code: str
    name: str | None = None


class BuildingOut(BaseModel):
    code: str
    address: str | None = None


class MatchOut(BaseModel):
    method: str = Field(description="exact, normalized, fuzzy or point")
    score: float


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
    """Up to 10,000 lookups answered in one call, in input order."""

    items: list[BatchItem] = Field(max_length=MAX_BATCH)
    suggest: bool = Field(False, description=SUGGEST_HELP)


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
        raise BadRequestError(f"{name} must be a number", field=name) from None
    if not -bound <= value <= bound:  # also rejects NaN
        raise BadRequestError(f"{name} must be between -{bound:g} and {bound:g}", field=name)
    return value


@router.get(
    "/lookup",
    response_model=LookupOut,
    responses={
        404: {"description": "No building matches (with suggestions), or the point is outside"},
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
            raise BadRequestError("give either address or lon/lat, not both", field="address")
        if not address.strip():
            raise BadRequestError("address is blank", field="address")
        if len(address) > MAX_ADDRESS:
            raise BadRequestError(f"address is longer than {MAX_ADDRESS} characters", field="address")
        if date is not None:
            return JSONResponse(await run_in_threadpool(service.by_address, address, caller.role, date))
        return JSONResponse(service.by_address(address, caller.role))
    if lon is None or lat is None:
        missing = "lat" if lon is not None else "lon"
        raise BadRequestError(f"give an address, or both lon and lat ({missing} is missing)", field=missing)
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
                "description": "CSV with a header: `address` (地址), or `lon,lat[,crs]` (经度,纬度,坐标系)",
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
)
async def lookup_batch(request: Request, caller: Caller) -> JSONResponse:
    """One result per input: `status` is ok, not_found, outside or invalid (suggestions on request)."""
    items, suggest = await _batch_items(request)
    for i, item in enumerate(items):
        if item.address is None:
            _check_crs(item.crs, field=f"items.{i}.crs")
    raw = request.query_params.get("suggest", "false").strip().lower()
    if raw not in ("true", "1", "false", "0"):
        raise BadRequestError("suggest must be true or false", field="suggest")
    queries = [LookupQuery(item.address, item.lon, item.lat, item.crs) for item in items]
    results = _service(request).batch(queries, caller.role, suggest=suggest or raw in ("true", "1"))
    return JSONResponse({"count": len(results), "results": results})


async def _batch_items(request: Request) -> tuple[list[BatchItem], bool]:
    """The batch from a JSON body, a CSV body or a multipart CSV upload, and its `suggest` flag."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        async with request.form() as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise BadRequestError("upload the CSV as the form field `file`", field="file")
            return _csv_items(await upload.read()), False
    body = await request.body()
    if kind in ("text/csv", "application/csv", "text/plain"):
        return _csv_items(body), False
    if kind not in ("application/json", ""):
        raise BadRequestError(f"unsupported content type {kind!r}: send JSON or CSV", field="body")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise BadRequestError(f"body is not JSON: {exc}", field="body") from None
    if isinstance(data, list):
        data = {"items": data}
    try:
        batch = BatchIn.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    return batch.items, batch.suggest


_CSV_COLUMNS = {
    "address": ("address", "地址", "详细地址"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "crs": ("crs", "坐标系"),
}


def _csv_items(raw: bytes) -> list[BatchItem]:
    """Rows of an uploaded CSV (UTF-8, or GB18030 as Chinese spreadsheets save it)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise BadRequestError("CSV is neither UTF-8 nor GB18030", field="file") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise BadRequestError(f"CSV cannot be read: {exc}", field="file") from None
    reader = iter(rows)
    header = next(reader, None)
    if not header:
        raise BadRequestError("CSV is empty: expected a header row", field="file")
    names = [h.strip().lower() for h in header]
    column: dict[str, int] = {}
    for field, aliases in _CSV_COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases:
                column.setdefault(field, i)
    if "address" not in column and not {"lon", "lat"} <= column.keys():
        raise BadRequestError("CSV needs an address column, or lon and lat columns", field="file")
    items: list[BatchItem] = []
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(items) >= MAX_BATCH:
            raise BadRequestError(f"at most {MAX_BATCH} rows per batch", field="file")
        values: dict[str, Any] = {
            f: row[i].strip() for f, i in column.items() if i < len(row) and row[i].strip()
        }
        if "address" in values:
            values = {"address": values["address"]}
        try:
            items.append(BatchItem.model_validate(values))
        except ValidationError as exc:
            reason = exc.errors(include_url=False)[0]["msg"]
            raise BadRequestError(f"CSV row {row_number}: {reason}", field="file") from None
    return items
