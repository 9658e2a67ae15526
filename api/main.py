"""Assemble the FastAPI app: settings, one store opened in the lifespan, routers, error table.

Run with `gridmap serve`, or `uvicorn --factory api.main:create_app`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import cases, coverage, errors, export, features, health, lookup, maps, openapi, tiles
from api.settings import ApiSettings
from gridmap import __version__
from gridmap.lookup import LookupService
from gridmap.stores import open_store

DESCRIPTION = """Which grid (网格) owns an address or a point, the layers as OGC API – Features,
coverage figures and maps for community grid governance (网格化管理).

Send `Authorization: Bearer <token>` for more than the public view."""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """A new app; tokens are checked now, so a bad configuration fails at start, not on a request."""
    settings = settings or ApiSettings()  # type: ignore[call-arg]
    grants = settings.grants()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.store)
        app.state.store = store
        app.state.lookup = LookupService(store, refresh_seconds=settings.refresh_seconds)
        app.state.analysis = coverage.AnalysisCache(store)
        app.state.cases = cases.desk_for(store, app.state.lookup, settings)
        app.state.case_intake = cases.Intake(settings.case_intake_per_minute)
        try:
            yield
        finally:
            app.state.lookup.close()
            store.close()

    app = FastAPI(title="gridmap", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.grants = grants
    errors.install(app)
    openapi.install(app)
    # Lookups first: routes are matched in order, and /lookup is the hot path.
    for module in (lookup, features, coverage, maps, export, tiles, health, cases):
        app.include_router(module.router)
    return app
