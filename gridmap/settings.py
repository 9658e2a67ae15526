"""Settings read once from the environment (prefix GRIDMAP_)."""

from __future__ import annotations

import os

DEFAULT_STORE = "./gridmap.gpkg"


def store_url(explicit: str | None = None) -> str:
    """The store to use: an explicit `--store`, else GRIDMAP_STORE, else ./gridmap.gpkg."""
    return explicit or os.environ.get("GRIDMAP_STORE") or DEFAULT_STORE
