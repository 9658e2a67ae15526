"""Bounded requests: a body over the size limit is a 413 and JSON nested too deep a 422, before any parsing;
a NUL character anywhere in the path, the query or the body, or a NaN/Infinity literal in JSON, a 422
naming where.

Pure ASGI middleware in front of every route: the size is judged from
Content-Length when given, else while the body streams in (reading stops at
the limit); the nesting depth of a JSON body is measured by a vectorised scan
(`json_depth`), so a body like `"[" * 50000` never reaches the recursive JSON
parser. A NUL is text no store keeps faithfully (PostgreSQL refuses it, SQLite
cuts text or compares up to it), so it is refused before any route sees it,
with the parameter or the JSON path of the value holding it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

import anyio
import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# 10,000 households (the largest write batch) are ~5 MB of compact GeoJSON, twice that pretty-printed.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
# A FeatureCollection of MultiPolygons nests 8 deep; GeometryCollections a few more.
DEFAULT_MAX_JSON_DEPTH = 32
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1
_IN_THREAD = 1 << 16  # bodies bigger than this are scanned off the event loop


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in `body` (brackets inside strings do not count).

    Vectorised over the few bytes that matter: quotes and backslashes decide
    where strings are (a quote after an odd run of backslashes is escaped),
    then only the brackets outside strings are counted.
    """
    data = np.frombuffer(body, dtype=np.uint8)
    special = np.flatnonzero((data == _QUOTE) | (data == _BACKSLASH))
    backslash = data[special] == _BACKSLASH
    after_backslash = np.zeros(len(special), dtype=bool)  # the byte just before is a backslash
    after_backslash[1:] = backslash[:-1] & (np.diff(special) == 1)
    run_start = np.maximum.accumulate(np.where(backslash & ~after_backslash, special, -1))
    run = np.zeros(len(special), dtype=np.int64)
    run[1:] = np.where(after_backslash[1:], special[1:] - run_start[:-1], 0)
    quotes = special[~backslash & (run % 2 == 0)]
    brackets = np.flatnonzero(_OPEN[data])
    outside = np.searchsorted(quotes, brackets, side="right") % 2 == 0
    steps = _OPEN[data[brackets[outside]]].astype(np.int64)
    return int(np.cumsum(steps).max(initial=0))


class _Constant:
    """Where Python's JSON parser met NaN, Infinity or -Infinity (not JSON, though it accepts them)."""


def _first_bad(value: Any, path: str) -> tuple[str, str] | None:
    """(JSON path, what) of the first NaN/Infinity, or string (key or value) holding a NUL, in `value`."""
    if isinstance(value, _Constant):
        return path, "is NaN or Infinity, which JSON has no number for"
    if isinstance(value, str):
        return (path, "holds a NUL character") if "\0" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\0" in str(key):
                return where, "holds a NUL character"
            found = _first_bad(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _first_bad(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def bad_json_value(body: bytes) -> tuple[str, str] | None:
    """(where, what) of the first NaN/Infinity literal or NUL in a JSON body, or None.

    Python's parser reads `NaN` as a float, which then became a field's
    default (radius 300, size 1); JSON has no such number.
    """
    if b"\\u0000" not in body and b"NaN" not in body and b"Infinity" not in body:
        return None
    try:
        value = json.loads(body, parse_constant=lambda _name: _Constant())
    except ValueError:
        return None  # the route says what is wrong with the JSON
    found = _first_bad(value, "")
    return None if found is None else (found[0] or "body", found[1])


def nul_field(scope: Scope, body: bytes) -> str | None:
    """Where the request holds a NUL character: `path`, a query parameter's name, a body field, or None."""
    if "\0" in scope.get("path", "") or b"%00" in scope.get("raw_path", b"").lower():
        return "path"
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\0" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
            if "\0" in name or "\0" in value:
                return name.replace("\0", "") or "query"
        return "query"
    if b"\0" in body and _is_text(scope):  # a binary upload may hold NUL bytes
        return "body"
    if _is_form(scope) and b"%00" in body and b"\0" in unquote_to_bytes(body.replace(b"+", b" ")):
        return "body"
    return None


def _media_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bytes(value.split(b";")[0].strip().lower())
    return b""


def _is_form(scope: Scope) -> bool:
    return _media_type(scope) == b"application/x-www-form-urlencoded"


def _is_text(scope: Scope) -> bool:
    media = _media_type(scope)
    return media.startswith(b"text/") or _is_form(scope) or _is_json(scope)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media.endswith(b"/json") or media.endswith(b"+json")
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimits:
    """Refuse oversized bodies (413) and over-nested JSON (422) with a JSON error before the app sees them."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send, 413, "too_large", self._too_large())
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, 413, "too_large", self._too_large())
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and _is_json(scope):
            depth = (
                json_depth(body)
                if len(body) < _IN_THREAD
                else await anyio.to_thread.run_sync(json_depth, body)
            )
            if depth > self.max_depth:
                detail = f"JSON nested {depth} deep; at most {self.max_depth} levels are accepted"
                await self._refuse(send, 422, "invalid", detail)
                return
        where = nul_field(scope, body)
        if where is not None:
            await self._refuse(send, 422, "invalid", f"{where} holds a NUL character", field=where)
            return
        found = None
        if body and _is_json(scope):  # after the depth check: it may parse the body
            found = (
                bad_json_value(body)
                if len(body) < _IN_THREAD
                else await anyio.to_thread.run_sync(bad_json_value, body)
            )
        if found is not None:
            await self._refuse(send, 422, "invalid", f"{found[0]} {found[1]}", field=found[0])
            return
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self) -> str:
        return f"the request body is over the limit of {self.max_bytes:,} bytes (GRIDMAP_MAX_BODY_BYTES)"

    @staticmethod
    async def _refuse(send: Send, status: int, code: str, detail: str, field: str | None = None) -> None:
        body: dict[str, Any] = {"detail": detail, "code": code}
        if field is not None:
            body["errors"] = [{"field": field, "reason": detail}]
        payload = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        if status == 413:
            headers.append((b"connection", b"close"))  # the rest of the body is not read
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the buffered body over once, then waits on the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
