"""What every book of a store shares (cases, visits, party registers, the book feed).

A book is a set of plain tables beside the layers, read and written through
SQLAlchemy. In PostGIS each write is its own transaction; in a GeoPackage it
is the store's own write transaction (`Writing`), so a book's rows and the
layers' share one lock and one commit, and each read opens the file
query-only under the store's read gate.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, StaticPool

from gridmap.errors import StoreError, driver_reason
from gridmap.stores._gate import gate

UTC = dt.UTC

Writing = Callable[[], AbstractContextManager[sqlite3.Connection]]
"""A GeoPackage store's write transaction: a context manager giving its open sqlite3 connection."""


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out (SQLite keeps them as naive UTC text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise StoreError(f"case times must carry a timezone, got {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Book:
    """A store's book: its engine, its URL (for errors), and how it writes and reads.

    `as_gridmap` marks a book whose PostGIS writes are gridmap's own, so the
    store's triggers for other writers step aside (`transaction`).
    """

    as_gridmap = False

    def __init__(
        self,
        engine: sa.Engine,
        url: str,
        writing: Writing | None = None,
        reading: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        self._engine = engine
        self.url = url
        self._writing = writing
        self._reading = reading  # held while a reading connection is open (a GeoPackage's gate)

    @classmethod
    def _on_geopackage(cls, path: Path, writing: Writing | None) -> Any:
        """The book of a GeoPackage: query-only readers under the file's gate, the store's writes."""
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
        sa.event.listen(engine, "connect", query_only)
        return cls(engine, str(path), writing, reading=lambda: gate(path).held("sqlite"))

    def _write(self) -> AbstractContextManager[sa.Connection]:
        return transaction(self._engine, self._writing, self.url, as_gridmap=self.as_gridmap)

    def _read(self) -> AbstractContextManager[sa.Connection]:
        return snapshot(self._engine, self._reading, self.url)


def query_only(dbapi_connection: Any, _record: object) -> None:
    """Readers of a GeoPackage never write (they still fold the write-ahead log when last to close)."""
    dbapi_connection.execute("PRAGMA query_only = ON")


def rows_of(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows as dicts with None for missing values and Python datetimes (what the driver binds)."""
    part = frame[list(columns)].astype(object)
    return [
        {
            str(k): (None if _missing(v) else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v))
            for k, v in r.items()
        }
        for r in part.to_dict("records")
    ]


def _missing(value: object) -> bool:
    return (
        value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value))
    )


def copy_rows(cur: psycopg.Cursor[Any], table: str, columns: list[str], frame: pd.DataFrame) -> None:
    """COPY a frame into `table` as CSV written by pandas' C writer (a million rows in seconds).

    Empty unquoted fields are NULL; times carry their UTC offset.
    """
    if frame.empty:
        return
    data = frame[columns].copy()
    for name in columns:
        if isinstance(data[name].dtype, pd.DatetimeTZDtype) or data[name].map(_is_time).any():
            data[name] = pd.to_datetime(data[name], utc=True).dt.strftime("%Y-%m-%d %H:%M:%S.%f+00")
    text = data.to_csv(index=False, header=False)
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(text.encode("utf-8"))


def _is_time(value: object) -> bool:
    return isinstance(value, dt.datetime)


@contextmanager
def transaction(
    engine: sa.Engine, writing: Writing | None, url: str, *, as_gridmap: bool = False
) -> Iterator[sa.Connection]:
    """One transaction of a book's tables, committed only if the block succeeds.

    A GeoPackage's (`writing` given) is the store's own: its connection is in its transaction already
    and commits when the block ends. `as_gridmap` marks a PostGIS transaction as gridmap's, so the
    store's triggers for other writers step aside.
    """
    try:
        if writing is None:
            with engine.begin() as conn:
                if as_gridmap:
                    conn.execute(sa.text("SELECT set_config('gridmap.author', 'gridmap', true)"))
                yield conn
            return
        with writing() as raw:
            own = sa.create_engine(
                "sqlite://", creator=lambda: raw, poolclass=StaticPool, pool_reset_on_return=None
            )
            with own.connect() as conn:
                if not raw.in_transaction:
                    # SQLAlchemy rolls a new connection back once it has read the dialect's settings,
                    # which ended the store's transaction: every statement would commit on its own.
                    raw.execute("BEGIN IMMEDIATE")
                yield conn
                conn.commit()  # closing uncommitted would roll the block back
    except DBAPIError as exc:
        raise StoreError(f"{url}: {driver_reason(exc)}") from None


@contextmanager
def snapshot(
    engine: sa.Engine, reading: Callable[[], AbstractContextManager[object]], url: str
) -> Iterator[sa.Connection]:
    """A read of a book's tables, under the store's read gate."""
    try:
        with reading(), engine.connect() as conn:
            yield conn
    except DBAPIError as exc:
        raise StoreError(f"{url}: {driver_reason(exc)}") from None
