"""`GET /health`: is the store reachable, and what does it hold."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.errors import SERVER_SIDE
from gridmap import __version__
from gridmap.errors import GridmapError
from gridmap.serving import Shelf
from gridmap.stores import Store

router = APIRouter(tags=["health"])
log = logging.getLogger("gridmap.api")


@router.get("/health", summary="Liveness and store status")
def health(request: Request) -> JSONResponse:
    """200 when the store answers, 503 when it does not; counts as of the newest published analysis.

    One indexed row read (the store's revision): counting a city's layers
    would cost a scan of each, so the counts are those the analysis builder
    took from the revision it last published (`counts_revision`).
    """
    store: Store = request.app.state.store
    shelf: Shelf = request.app.state.shelf
    try:
        revision = store.revision()
    except GridmapError as exc:
        log.error("health: %s: %s", type(exc).__name__, exc)  # URLs and database text: the log only
        return JSONResponse(
            {"status": "unavailable", "detail": SERVER_SIDE["store_unavailable"]}, status_code=503
        )
    edition = shelf.newest()
    body: dict[str, object] = {"status": "ok", "version": __version__, "revision": revision}
    if edition is not None:
        body |= {"counts": edition.counts, "counts_revision": edition.revision}
    return JSONResponse(body)
