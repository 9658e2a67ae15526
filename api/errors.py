"""The one table mapping gridmap's domain errors to HTTP statuses.

Routers raise `gridmap.errors` classes (or let the library raise them); this
module turns each into a JSON body with a status, registered once on the app.
A caller's mistake never becomes a 500 or a traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.language import request_language
from gridmap.errors import (
    ConfigError,
    ConflictError,
    CRSError,
    GridmapError,
    NotFoundError,
    PermissionDeniedError,
    RevertConflictError,
    StoreError,
    TransitionError,
    UnavailableError,
    UnknownLayerError,
    ValidationError,
)
from gridmap.export import ExportError
from gridmap.texts import Lang, say, text
from gridmap.texts.inputs import input_reason
from gridmap.texts.messages import MESSAGES
from gridmap.versions import InvalidDateError

log = logging.getLogger("gridmap.api")


class AuthenticationError(GridmapError):
    """A bearer token that is not configured (distinct from a known token lacking a right)."""


class BadRequestError(GridmapError):
    """A request whose parts are each well-formed but do not make sense together."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class QueryParameterError(BadRequestError):
    """A query parameter of an OGC API route that is unknown or invalid (OGC API – Features: 400)."""


class PreconditionFailedError(GridmapError):
    """An `If-Match` naming a version of a feature that is no longer the stored one."""


class RateLimitedError(GridmapError):
    """Too many requests from one client (the unauthenticated case intake, wrong tokens)."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


NOT_READY_RETRY_SECONDS = (
    5  # what a 503 "not ready" asks a client to wait (the first analysis, a restarted export process)
)

CHALLENGE = 'Bearer realm="gridmap"'
"""What a 401 asks for. Clients that are not browsers are offered Basic too (the token as the password,
QGIS's built-in method); a browser page is not, as it would put up its own sign-in dialog."""


# Most specific first: the first matching class decides the status.
STATUS: tuple[tuple[type[GridmapError], int, str], ...] = (
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (UnknownLayerError, 404, "unknown_layer"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (PreconditionFailedError, 412, "precondition_failed"),
    (TransitionError, 409, "conflict"),
    (RateLimitedError, 429, "rate_limited"),
    (RevertConflictError, 409, "revert_conflict"),
    (InvalidDateError, 422, "invalid_date"),
    (ValidationError, 422, "invalid"),
    (QueryParameterError, 400, "invalid_parameter"),
    (CRSError, 422, "invalid_crs"),
    (BadRequestError, 422, "invalid"),
    (ExportError, 422, "invalid_export"),
    (ConfigError, 503, "misconfigured"),
    (StoreError, 503, "store_unavailable"),
    (UnavailableError, 503, "not_ready"),
    (GridmapError, 400, "bad_request"),
)


def status_of(exc: GridmapError) -> tuple[int, str]:
    """The HTTP status and short code for a domain error."""
    for cls, status, code in STATUS:
        if isinstance(exc, cls):
            return status, code
    return 400, "bad_request"


def error_body(exc: GridmapError, lang: Lang | None = None) -> dict[str, Any]:
    """The JSON body for a domain error: message (in `lang`), code and any structured details it carries.

    `detail` and each error's `reason` are for people, in the caller's language; `code`, `status`,
    fields, rows and suggestions are for programs and read the same in every language.
    """
    status, code = status_of(exc)
    if status >= 500:  # a server-side failure: its full text (URLs, database errors) goes to the log only
        return {"detail": say(f"api.server.{code}", lang), "code": code}
    body: dict[str, Any] = {"detail": exc.text(lang), "code": getattr(exc, "reason", None) or code}
    if isinstance(exc, ValidationError):
        body["errors"] = [
            {"row": p.row, "field": p.field, "reason": text(p.reason, lang), "code": p.code}
            for p in exc.problems
        ]
    if isinstance(exc, BadRequestError) and exc.field:
        body["errors"] = [{"field": exc.field, "reason": exc.text(lang)}]
    if isinstance(exc, TransitionError):
        body["status"] = exc.status
    suggestions = getattr(exc, "suggestions", None)
    if suggestions is not None:
        body["suggestions"] = suggestions
    candidates = getattr(exc, "candidates", None)
    if candidates:
        body["candidates"] = candidates
    return body


def _challenge(request: Request) -> str:
    from_browser = "sec-fetch-site" in request.headers or "cookie" in request.headers
    return CHALLENGE if from_browser else f'{CHALLENGE}, Basic realm="gridmap", charset="UTF-8"'


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GridmapError)
    status, _code = status_of(exc)
    if status >= 500:
        log.error("%s: %s", type(exc).__name__, exc)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = _challenge(request)
    if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, UnavailableError):
        headers["Retry-After"] = str(NOT_READY_RETRY_SECONDS)
    body = error_body(exc, request_language(request))
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    lang = request_language(request)
    errors = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path")),
            "location": err.get("loc", ("",))[0],
            "reason": input_reason(err, lang),
        }
        for err in exc.errors()
    ]
    named = ", ".join(e["field"] for e in errors if e["field"])
    detail = say("api.invalid", lang, fields=named) if named else say("api.invalid_request", lang)
    body = {"detail": detail, "code": "invalid", "errors": errors}
    return JSONResponse(jsonable_encoder(body), status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Anything not handled above: a JSON 500 (never a traceback or plain text to the caller)."""
    log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    detail = say("api.server.internal", request_language(request))
    return JSONResponse({"detail": detail, "code": "internal"}, status_code=500)


def http_detail(status: int, detail: str, lang: Lang) -> str:
    """Starlette's own detail for a status (its reason phrase: "Not Found") in `lang`; another stays."""
    key = f"api.http.{status}"
    try:
        standard = HTTPStatus(status).phrase
    except ValueError:
        return detail
    return say(key, lang) if detail == standard and key in MESSAGES else detail


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = http_detail(exc.status_code, exc.detail, request_language(request))
    return JSONResponse(
        {"detail": detail, "code": "http_error"}, status_code=exc.status_code, headers=exc.headers
    )


def install(app: FastAPI) -> None:
    """Register the handlers on `app` (called once when the app is built)."""
    app.add_exception_handler(GridmapError, _domain)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
