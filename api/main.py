"""Assemble the FastAPI app: settings, one store opened in the lifespan, routers, error table.

Run with `gridmap serve`, or `uvicorn --factory api.main:create_app`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import (
    cases,
    console,
    coverage,
    errors,
    export,
    features,
    health,
    history,
    lookup,
    maps,
    open311,
    openapi,
    party,
    patrols,
    planning,
    reports,
    scratch,
    session,
    tiles,
    visits,
    web,
)
from api.auth import TokenGuard
from api.cookies import EndedSessions
from api.headers import SecurityHeaders
from api.limits import BodyLimits
from api.offload import Offload
from api.settings import ApiSettings, load_settings, unknown_communities
from gridmap import __version__
from gridmap.lookup import LookupService
from gridmap.serving import POLL_SECONDS, BuilderHandle, Shelf, shelf_directory, start_builder
from gridmap.stores import Store, open_store

log = logging.getLogger("gridmap.api")
WORKER_NICENESS = 2
"""Niceness of a worker serving beside a builder process. At 5M households under a saturating
load a moved speaker showed after 1.4–1.6 s instead of 1.6–2.8 s, requests waiting no longer."""

DESCRIPTION = """Which grid (网格) owns an address or a point, the layers as OGC API – Features,
coverage figures and maps for community grid governance (网格化管理).

Send `Authorization: Bearer <token>` for more than the public view, or sign in with `POST /login`
(a session cookie; writes made with it send the `X-CSRF-Token` it returns)."""


async def ready(settings: ApiSettings, store: Store, lookup: LookupService) -> tuple[Shelf, BuilderHandle]:
    """Start (or join) the store's analysis builder and build the lookup indexes before any request.

    Work that takes seconds at city scale runs off the event loop. The first
    analysis takes minutes at city scale, so a worker does not wait for it
    (unless `startup_wait_seconds` says so): lookups, pages and /health are
    served as soon as the lookup indexes are built, and the routes that read
    the analysis answer 503 with Retry-After until it is published. A restart
    finds the last edition already published.
    """
    shelf = Shelf(shelf_directory(store.url, settings.serving_dir))
    in_process = settings.builder == "thread"
    builder = start_builder(settings.store, shelf, "api.coverage:documents", in_process=in_process)
    if not in_process:
        # A notch below the builder (started above, at normal priority): a refresh then takes its
        # second or so of CPU from busy workers, which otherwise have the CPU to themselves.
        niceness = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, max(niceness, WORKER_NICENESS))
    deadline = time.monotonic() + settings.startup_wait_seconds
    while shelf.newest() is None and time.monotonic() < deadline:  # a stop signal cancels the sleep
        await asyncio.sleep(POLL_SECONDS)
    await asyncio.to_thread(lookup.snapshot)
    return shelf, builder


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """A new app; tokens are checked now, so a bad configuration fails at start, not on a request."""
    settings = settings or load_settings()
    grants = settings.grants()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.store)
        app.state.store = store
        for warning in unknown_communities(grants, set(store.read("communities")["code"].astype(str))):
            log.warning(warning)
        app.state.lookup = LookupService(store, refresh_seconds=settings.refresh_seconds)
        app.state.analysis = coverage.AnalysisCache(store)
        app.state.cases = cases.desk_for(store, app.state.lookup, settings)
        app.state.case_intake = cases.Intake(settings.case_intake_per_minute)
        app.state.offload = Offload()
        app.state.health_probe = health.StoreProbe(store)
        for left in scratch.sweep():
            log.warning("removed %s, left by a process that stopped mid-request", left)
        app.state.shelf, builder = await ready(settings, store, app.state.lookup)
        app.state.ended_sessions = EndedSessions(app.state.shelf.directory / "ended-sessions")
        try:
            yield
        finally:
            app.state.offload.close()
            app.state.health_probe.close()
            builder.stop()
            app.state.lookup.close()
            store.close()

    app = FastAPI(
        title="gridmap",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by api.console
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.grants = grants
    app.state.token_guard = TokenGuard(settings.token_failures_per_minute)
    errors.install(app)
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth)
    app.add_middleware(SecurityHeaders)  # around BodyLimits: its refusals get the headers too
    openapi.install(app)
    web.install(app, settings.cors_origins, settings.cors_credentials)
    # Lookups first: routes are matched in order, and /lookup is the hot path. The console's `/`
    # comes before the OGC landing page it hands JSON requests to.
    app.include_router(lookup.router)
    console.install(app)
    for module in (
        features,
        coverage,
        maps,
        export,
        tiles,
        health,
        history,
        session,
        planning,
        reports,
        cases,
        open311,
        visits,
        party,
        patrols,
    ):
        app.include_router(module.router)
    return app
