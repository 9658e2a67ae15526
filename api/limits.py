"""Bounded requests: a body over the size limit is a 413 and JSON nested too deep a 422, before any parsing.

Pure ASGI middleware in front of every route: the size is judged from
Content-Length when given, else while the body streams in (reading stops at
the limit); the nesting depth of a JSON body is measured by a vectorised scan
(`json_depth`), so a body like `"[" * 50000` never reaches the recursive JSON
parser.
"""

from __future__ import annotations

import json

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
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self) -> str:
        return f"the request body is over the limit of {self.max_bytes:,} bytes (GRIDMAP_MAX_BODY_BYTES)"

    @staticmethod
    async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
        payload = json.dumps({"detail": detail, "code": code}).encode()
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
