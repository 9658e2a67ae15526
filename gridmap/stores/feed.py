"""The books' change feed: which households' visit or care rows, or which party registers, changed.

The books (`gridmap.stores.visits`, `.party`) are not catalogue layers, so
writing them moves no store revision; yet the analysis reads two of their
inputs (the visit status of every household, the party organisations in force
and the confirmed 一户十联 links). Each write of those tables adds a row here in
its own transaction: the book, and the household it concerns (NULL: the whole
book, as a bulk load or a party register edit). The server's builder keeps the
last id it has seen (`BookFeed.position`) and asks what came after it
(`BookFeed.since`), so a logged visit redoes that household's community alone.
Ids only grow (SQLite AUTOINCREMENT, a PostgreSQL identity): a position never
names a later write. PostGIS sends `NOTIFY gridmap_revision` for every insert
(migration 0018), so a listening builder wakes at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from gridmap.stores.books import Book, UTCDateTime
from gridmap.stores.gpkg_attributes import create_tables, geopackage_metadata
from gridmap.stores.gpkg_watch import Watch

metadata = sa.MetaData()

FEED_TABLE = sa.Table(
    "book_feed",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("book", sa.Text, nullable=False),
    sa.Column("household_code", sa.Text),
    sa.Column("at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

VISITS = "visits"
"""The visits and care register: a row per household whose status may have changed."""
PARTY = "party"
"""The party organisations and links: the whole register is read again."""

GPKG_METADATA = geopackage_metadata(metadata)
TABLES = tuple(metadata.tables)

MOST = 10_000
"""More households than this since a position: the builder reads the visit status whole instead."""


def note(conn: sa.Connection, book: str, households: Sequence[str] | None = None) -> None:
    """Record, in the writer's transaction `conn`, that `book` changed for `households` (None: whole)."""
    at = dt.datetime.now(dt.UTC)
    if households is None:
        conn.execute(FEED_TABLE.insert().values(book=book, household_code=None, at=at))
    elif households:
        rows = [{"book": book, "household_code": code, "at": at} for code in dict.fromkeys(households)]
        conn.execute(FEED_TABLE.insert(), rows)


def create_feed(conn: sa.Connection) -> None:
    """Make the feed table in a GeoPackage if it is missing (its books call this on first write)."""
    create_tables(conn, GPKG_METADATA)


class BookFeed(Book):
    """The change feed of one store's books (`Store.book_feed()`): read only; the books write its rows."""

    _made = True  # PostGIS: migration 0018 made the table

    _watch: Watch | None = None  # a GeoPackage's: the position is read again only when the file moved

    @classmethod
    def for_geopackage(cls, path: Path, watch: Watch | None = None) -> BookFeed:
        """The feed of a GeoPackage; a file whose books were never written reads as an empty feed."""
        feed: BookFeed = cls._on_geopackage(path, None)
        feed._made = False
        feed._watch = watch
        return feed

    def _ready(self, conn: sa.Connection) -> bool:
        if not self._made:
            self._made = sa.inspect(conn).has_table(FEED_TABLE.name)
        return self._made

    def position(self) -> int:
        """The id of the last write recorded (0 before any)."""
        if self._watch is not None:
            return self._watch.answer("feed", self._position)
        return self._position()

    def _position(self) -> int:
        with self._read() as conn:
            if not self._ready(conn):
                return 0
            found = conn.execute(sa.select(sa.func.max(FEED_TABLE.c.id))).scalar()
        return int(found or 0)

    def since(self, position: int, *, most: int = MOST) -> dict[str, list[str] | None]:
        """Per book, the households written after `position` (None: the whole book, or more than `most`)."""
        f = FEED_TABLE.c
        after = f.id > position
        sizes = (
            sa.select(
                f.book,
                sa.func.count(),
                sa.func.count(f.household_code),
                sa.func.count(f.household_code.distinct()),
            )
            .where(after)
            .group_by(f.book)
        )
        out: dict[str, list[str] | None] = {}
        with self._read() as conn:
            if not self._ready(conn):
                return {}
            for book, rows, named, households in conn.execute(sizes).all():
                if rows != named or households > most:  # a whole book, or too many to name
                    out[book] = None
                    continue
                codes = sa.select(f.household_code).where(after, f.book == book).distinct()
                out[book] = sorted(str(code) for code in conn.execute(codes).scalars())
        return out
