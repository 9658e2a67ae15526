"""`gridmap serve`: the HTTP API (lookups, OGC API – Features, coverage, maps) under uvicorn."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from gridmap.cli.app import StoreOption, app, console
from gridmap.settings import redact, store_url
from gridmap.stores import open_store
from gridmap.texts import say


@app.command()
def serve(
    store: StoreOption = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Serve the API; tokens come from GRIDMAP_TOKENS or GRIDMAP_TOKENS_FILE (none: everyone is anonymous)."""
    import uvicorn

    from api.settings import load_settings, unknown_communities

    url = store_url(store)
    # Workers read the store from the environment; checking here gives one clear error instead of N.
    os.environ["GRIDMAP_STORE"] = url
    grants = load_settings().grants()
    with open_store(url, create=False) as opened:
        known = set(opened.read("communities")["code"].astype(str))
    for warning in unknown_communities(grants, known):
        console.print(say("cli.serve.warning", warning=warning))
    console.print(
        say("cli.serve.serving", store=redact(url), host=host, port=port, workers=workers, tokens=len(grants))
    )
    if workers > 1:
        # The supervisor's small entry module in place of this process: each worker it spawns then
        # starts from it, not from this CLI (which imports every command), so it answers the
        # supervisor's health check from its first second even on a busy machine.
        options = ["--host", host, "--port", str(port), "--workers", str(workers)]
        os.execv(sys.executable, [sys.executable, "-m", "api.workers", *options])
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )
