"""`GET /health`: is the store reachable, and what does it hold.

Monitors poll it while the API is busiest, so it never waits behind the
requests it reports on: it runs on the event loop, asks the store in a
thread of its own (not the pool lookups queue in), and requests arriving
while one question is under way share its answer (`StoreProbe`).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.language import request_language
from gridmap import __version__
from gridmap.errors import GridmapError
from gridmap.serving import Shelf
from gridmap.stores import Store
from gridmap.texts import say

router = APIRouter(tags=["health"])
log = logging.getLogger("gridmap.api")


class StoreProbe:
    """The store's revision for /health: one question at a time, its answer shared by all who wait."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health")
        self._pending: asyncio.Future[str] | None = None

    async def revision(self) -> str:
        """The store's revision, asked now unless a question already under way will answer it."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.get_running_loop().run_in_executor(self._executor, self._store.revision)
        return await asyncio.shield(self._pending)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


@router.get("/health", summary="Liveness and store status")
async def health(request: Request) -> JSONResponse:
    """200 when the store answers, 503 when it does not; counts as of the newest published analysis.

    One indexed row read (the store's revision): counting a city's layers
    would cost a scan of each, so the counts are those the analysis builder
    took from the revision it last published (`counts_revision`).
    """
    probe: StoreProbe = request.app.state.health_probe
    shelf: Shelf = request.app.state.shelf
    try:
        revision = await probe.revision()
    except GridmapError as exc:
        log.error("health: %s: %s", type(exc).__name__, exc)  # URLs and database text: the log only
        return JSONResponse(
            {
                "status": "unavailable",
                "detail": say("api.server.store_unavailable", request_language(request)),
            },
            status_code=503,
        )
    edition = shelf.newest()
    body: dict[str, object] = {"status": "ok", "version": __version__, "revision": revision}
    if edition is None:
        body["analysis"] = "building"  # the first analysis: /coverage answers 503 until it is published
    else:
        body |= {"analysis": "published", "counts": edition.counts, "counts_revision": edition.revision}
    return JSONResponse(body)
