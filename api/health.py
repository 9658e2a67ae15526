"""`GET /health`: is the store reachable, and what does it hold."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.errors import SERVER_SIDE
from gridmap import __version__
from gridmap.errors import GridmapError
from gridmap.stores import Store

router = APIRouter(tags=["health"])
log = logging.getLogger("gridmap.api")


@router.get("/health", summary="Liveness and store status")
def health(request: Request) -> JSONResponse:
    """200 with the feature counts when the store answers, 503 when it does not."""
    store: Store = request.app.state.store
    try:
        counts = store.counts()
        revision = store.revision()
    except GridmapError as exc:
        log.error("health: %s: %s", type(exc).__name__, exc)  # URLs and database text: the log only
        return JSONResponse(
            {"status": "unavailable", "detail": SERVER_SIDE["store_unavailable"]}, status_code=503
        )
    return JSONResponse({"status": "ok", "version": __version__, "revision": revision, "counts": counts})
