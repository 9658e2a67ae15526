"""Stores, chosen by URL: a GeoPackage path (the embedded default) or a PostGIS URL."""

from __future__ import annotations

from pathlib import Path

from gridmap.errors import ConfigError, StoreError
from gridmap.settings import redact, store_url
from gridmap.stores.base import BBox, Receipt, Store, receipt

__all__ = ["BBox", "Receipt", "Store", "open_store", "receipt", "store_exists"]

CREATE_HINT = "create one with `gridmap init`, `gridmap import` or `gridmap demo`"


def _is_postgis(url: str) -> bool:
    return url.startswith(("postgresql", "postgres://"))


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open the store named by `url` (see `gridmap.settings.store_url` for the default).

    With `create=False` a store that does not exist yet is an error instead of
    being created empty (commands that only read or analyse must not leave an
    empty store behind and then report zeros).
    """
    resolved = store_url(url)
    if not create and not store_exists(resolved):
        raise StoreError(f"no gridmap store at {redact(resolved)}: {CREATE_HINT}")
    if _is_postgis(resolved):
        from gridmap.stores.postgis import PostGISStore

        return PostGISStore(resolved)
    if "://" in resolved and not resolved.startswith("file://"):
        raise ConfigError(
            f"unsupported store URL {redact(resolved)!r}: use a .gpkg path or postgresql+psycopg://…"
        )
    from gridmap.stores.geopackage import GeoPackageStore

    return GeoPackageStore(resolved.removeprefix("file://"))


def store_exists(url: str | None = None) -> bool:
    """Whether the store at `url` exists: the GeoPackage file, or gridmap's tables in the database."""
    resolved = store_url(url)
    if not _is_postgis(resolved):
        return Path(resolved.removeprefix("file://")).is_file()
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError

    from gridmap.stores.postgis import driver_url

    engine = sa.create_engine(driver_url(resolved))
    try:
        with engine.connect() as conn:
            return sa.inspect(conn).has_table("streets")
    except DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise StoreError(f"cannot reach the store {engine.url.render_as_string()}: {reason}") from None
    finally:
        engine.dispose()
