"""Stores as the tests start them, emptied or holding a fixed set of layers, without paying a load each.

Loading even a small district through a store takes the better part of a second (checks, derived
fields, history), and emptying a PostGIS database by TRUNCATE as long again (a new file per table
and index); the suite starts about a thousand stores. So each test process loads a set of layers
once, into a template, and hands out copies: a GeoPackage file copied, or a PostGIS database's
tables restored from a snapshot schema with their triggers asleep (what the triggers derive and
record is already in the copied rows). A copy holds what the load wrote, history included.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg

from gridmap.stores import Store, open_store

Fill = Callable[[Store], object]

KEPT = ("spatial_ref_sys", "gridmap_alembic_version", "gridmap_meta")
"""PostGIS tables a test never starts without: PostGIS's own, and the store's bookkeeping."""

_TEMPLATES = Path(tempfile.mkdtemp(prefix="gridmap-test-templates-"))
atexit.register(shutil.rmtree, _TEMPLATES, ignore_errors=True)
_snapshots: dict[tuple[str, str], str] = {}
"""(database URL, fill's name) -> the SQL that restores that snapshot."""


def emptied(url: str) -> str:
    """The PostGIS database at `url` migrated and emptied, history and cases included: a test's
    codes must not meet an earlier test's retired boundaries or cases."""
    with open_store(url):  # migrated
        pass
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(_cleared(conn))
    return url


def prefilled(url: str, name: str, fill: Fill) -> str:
    """The store at `url`, new or empty, holding what `fill` writes into an empty store.

    `name` names the fill (one template per name and process); `fill` must write the same each
    time. The store may be open, but nothing may be reading or writing it meanwhile.
    """
    if url.startswith("postgresql"):
        restore = _snapshots.get((url, name))
        if restore is None:
            with open_store(url) as store:
                fill(store)
            _snapshots[(url, name)] = _snapshot(url, name)
        else:
            with psycopg.connect(_libpq(url), autocommit=True) as conn:
                conn.execute(_cleared(conn) + restore)
        return url
    template = _TEMPLATES / f"{name}.gpkg"
    if not template.exists():
        made = template.with_suffix(".making.gpkg")
        with open_store(str(made)) as store:
            fill(store)
        with sqlite3.connect(made) as conn:  # the file alone holds every write
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        made.rename(template)
    target = Path(url)
    for leftover in (Path(f"{target}{suffix}") for suffix in ("-wal", "-shm", "-journal")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return url


def empty_geopackage(path: Path) -> str:
    """A new, empty GeoPackage store at `path`: the template a fill writing nothing makes."""
    return prefilled(str(path), "empty", _nothing)


def _nothing(_store: Store) -> None:
    """The fill of an empty store."""


def _snapshot(url: str, name: str) -> str:
    """Keep the database's tables in a schema of their own; return the SQL that puts them back
    into emptied tables."""
    schema = f"template_{name}"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        tables = _tables(conn)
        conn.execute(
            f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
            + "".join(f"CREATE TABLE {schema}.{table} AS TABLE public.{table};" for table in tables)
        )
        filled = [
            table
            for table in tables
            if conn.execute(f"SELECT EXISTS (SELECT FROM {schema}.{table})").fetchone() == (True,)
        ]
        columns = {
            table: ", ".join(
                row[0]
                for row in conn.execute(
                    "SELECT quote_ident(column_name) FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = %s AND is_generated = 'NEVER'"
                    " ORDER BY ordinal_position",
                    (table.strip('"'),),
                )
            )
            for table in filled
        }
        inserts = "".join(
            f"INSERT INTO public.{table} ({columns[table]}) OVERRIDING SYSTEM VALUE"
            f" SELECT {columns[table]} FROM {schema}.{table};"
            for table in filled
        )
        # Listeners hear of the copy as of a write, and the store's revision moves on.
        return (
            "SET session_replication_role = replica;"
            + inserts
            + "SET session_replication_role = origin;"
            + "UPDATE gridmap_meta SET modified_at = now();"
            + "UPDATE gridmap_meta SET revision = revision + 1 WHERE key = 'store';"
        )


def _cleared(conn: psycopg.Connection) -> str:
    """SQL deleting every row of the store's tables, its triggers asleep (no history of the deletion).

    Rows are deleted rather than truncated: for the few rows a test leaves, a DELETE costs
    milliseconds, a TRUNCATE of every table and index the better part of a second.
    """
    deletes = "".join(f"DELETE FROM public.{table};" for table in _tables(conn))
    return f"SET session_replication_role = replica;{deletes}SET session_replication_role = origin;"


def _tables(conn: psycopg.Connection) -> list[str]:
    """Every table the migrations made, but their own bookkeeping."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'"
            " AND NOT tablename = ANY(%s) ORDER BY tablename",
            (list(KEPT),),
        )
    ]


def _libpq(url: str) -> str:
    return url.replace("+psycopg", "")
