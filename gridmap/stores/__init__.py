"""Stores, chosen by URL: a GeoPackage path (the embedded default) or a PostGIS URL."""

from __future__ import annotations

from gridmap.errors import ConfigError
from gridmap.settings import redact, store_url
from gridmap.stores.base import BBox, Store

__all__ = ["BBox", "Store", "open_store"]


def open_store(url: str | None = None) -> Store:
    """Open the store named by `url` (see `gridmap.settings.store_url` for the default)."""
    resolved = store_url(url)
    if resolved.startswith(("postgresql", "postgres://")):
        from gridmap.stores.postgis import PostGISStore

        return PostGISStore(resolved)
    if "://" in resolved and not resolved.startswith("file://"):
        raise ConfigError(
            f"unsupported store URL {redact(resolved)!r}: use a .gpkg path or postgresql+psycopg://…"
        )
    from gridmap.stores.geopackage import GeoPackageStore

    return GeoPackageStore(resolved.removeprefix("file://"))
