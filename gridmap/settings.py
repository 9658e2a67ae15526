"""Settings read once from the environment (prefix GRIDMAP_)."""

from __future__ import annotations

import os
import re

DEFAULT_STORE = "./gridmap.gpkg"


def store_url(explicit: str | None = None) -> str:
    """The store to use: an explicit `--store`, else GRIDMAP_STORE, else ./gridmap.gpkg."""
    return explicit or os.environ.get("GRIDMAP_STORE") or DEFAULT_STORE


_PASSWORD = re.compile(r"(?<=://)([^/@:]*):[^/]*@")


def redact(url: str) -> str:
    """`url` with any password replaced by *** for messages and logs: `user:secret@host` → `user:***@host`."""
    return _PASSWORD.sub(r"\1:***@", url)


SERVICE_AREA_VARIABLE = "GRIDMAP_SERVICE_AREA"


def service_area_setting() -> str:
    """Where data may lie: `china` (default), `world`, `streets` or `minlon,minlat,maxlon,maxlat`."""
    return os.environ.get(SERVICE_AREA_VARIABLE, "").strip() or "china"


LANG_VARIABLE = "GRIDMAP_LANG"


def language_setting() -> str:
    """The language people read: `zh` (default) or `en` (checked by `gridmap.texts.language`)."""
    return os.environ.get(LANG_VARIABLE, "").strip().lower() or "zh"
