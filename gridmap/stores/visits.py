"""Where visits and the care register live, in either store, through one SQL definition.

Like the cases (`gridmap.stores.cases`), visits are not a catalogue layer:
two tables declared once as SQLAlchemy Core tables, made by migration 0010 in
PostGIS and on first use in a GeoPackage (registered as attribute tables).
`visits` holds one row per visit, keyed by the caller's idempotency key so a
retried POST never writes twice; `household_care` one row per household and
care category (personal data, see `gridmap.privacy.protect_care`); `patrols` one row per
patrol, with its figures and its track (personal data: `gridmap.privacy.may_see_track`),
made by migration 0013, keyed by an idempotency key like a visit. A new visit, a care change and a
bulk load are noted in the books' change feed in the same transaction (`gridmap.stores.feed`): the
visit coverage measure follows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import sqlalchemy as sa

from gridmap.errors import StoreError
from gridmap.stores import feed
from gridmap.stores.books import Book, UTCDateTime, Writing, copy_rows
from gridmap.stores.gpkg_attributes import create_tables, geopackage_metadata

metadata = sa.MetaData()

VISITS_TABLE = sa.Table(
    "visits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    sa.Column("household_code", sa.Text, nullable=False),
    sa.Column("grid_code", sa.Text),
    sa.Column("visitor", sa.Text, nullable=False),
    sa.Column("visited_at", UTCDateTime, nullable=False),
    sa.Column("reached", sa.Boolean, nullable=False),
    sa.Column("notes", sa.Text),
    sa.Column("follow_up", sa.Boolean, nullable=False),
    sa.Column("case_code", sa.Text),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)
sa.Index("visits_household_visited", VISITS_TABLE.c.household_code, VISITS_TABLE.c.visited_at)
sa.Index("visits_grid_visited", VISITS_TABLE.c.grid_code, VISITS_TABLE.c.visited_at)

CARE_TABLE = sa.Table(
    "household_care",
    metadata,
    sa.Column("household_code", sa.Text, primary_key=True),
    sa.Column("category", sa.Text, primary_key=True),
    sa.Column("noted_by", sa.Text),
    sa.Column("noted_at", UTCDateTime),
)

PATROLS_TABLE = sa.Table(
    "patrols",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    sa.Column("worker", sa.Text, nullable=False),
    sa.Column("grid_code", sa.Text, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("length_m", sa.Float, nullable=False),
    sa.Column("inside_m", sa.Float, nullable=False),
    sa.Column("inside_s", sa.Float, nullable=False),
    sa.Column("track", sa.Text, nullable=False),
    sa.Column("seconds", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)
sa.Index("patrols_grid_day", PATROLS_TABLE.c.grid_code, PATROLS_TABLE.c.day)
sa.Index("patrols_worker_day", PATROLS_TABLE.c.worker, PATROLS_TABLE.c.day)

CASE_KEYS_TABLE = sa.Table(
    "case_keys",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("case_code", sa.Text),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
)
"""The idempotency keys of cases reported from the phone page: a key is claimed before its case is
reported and settled with the case's code after, so a resent report never makes a second case."""

GPKG_METADATA = geopackage_metadata(metadata)
"""The tables as a GeoPackage holds them (`gridmap.stores.gpkg_attributes`)."""
TABLES = tuple(metadata.tables)
"""The table names (a GeoPackage's revision leaves them out: they are not layers)."""
VISIT_COLUMNS: tuple[str, ...] = tuple(c.name for c in VISITS_TABLE.columns if c.name != "id")
CARE_COLUMNS: tuple[str, ...] = tuple(c.name for c in CARE_TABLE.columns)
PATROL_COLUMNS: tuple[str, ...] = tuple(c.name for c in PATROLS_TABLE.columns if c.name != "id")
PATROL_FIGURES: tuple[str, ...] = tuple(c for c in PATROL_COLUMNS if c not in ("track", "seconds"))
"""A patrol without its track: what figures need (the track is personal, and long)."""


class VisitBook(Book):
    """The visits and care register of one store (`Store.visit_book()`)."""

    @classmethod
    def for_geopackage(cls, path: Path, writing: Writing) -> VisitBook:
        """The visit tables of a GeoPackage (created and registered on first use)."""
        book: VisitBook = cls._on_geopackage(path, writing)
        with book._read() as conn:
            inspector = sa.inspect(conn)
            if all(inspector.has_table(name) for name in (*TABLES, *feed.TABLES)):
                return book
        with book._write() as conn:
            create_tables(conn, GPKG_METADATA)
            feed.create_feed(conn)
        return book

    # -- visits ------------------------------------------------------------

    def log(self, visit: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Record a visit unless its `key` was recorded already: (the stored visit, whether it is new).

        The key is unique in the table, so two racing retries cannot both insert; the loser reads
        the winner's row.
        """
        v = VISITS_TABLE.c
        try:
            with self._write() as conn:
                found = conn.execute(sa.select(VISITS_TABLE).where(v.key == visit["key"])).mappings().first()
                if found is not None:
                    return dict(found), False
                conn.execute(VISITS_TABLE.insert().values(**visit))
                feed.note(conn, feed.VISITS, [str(visit["household_code"])])
                row = conn.execute(sa.select(VISITS_TABLE).where(v.key == visit["key"])).mappings().one()
                return dict(row), True
        except StoreError:
            again = self.by_key(str(visit["key"]))
            if again is None:
                raise
            return again, False

    def by_key(self, key: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(sa.select(VISITS_TABLE).where(VISITS_TABLE.c.key == key)).mappings().first()
        return dict(row) if row is not None else None

    def visits(
        self,
        *,
        grids: Sequence[str] | None = None,
        household: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Visits matching the filters, newest first."""
        v = VISITS_TABLE.c
        query = sa.select(VISITS_TABLE).order_by(v.visited_at.desc(), v.id.desc())
        if grids is not None:
            query = query.where(v.grid_code.in_(list(grids)))
        if household is not None:
            query = query.where(v.household_code == household)
        if since is not None:
            query = query.where(v.visited_at >= since)
        if until is not None:
            query = query.where(v.visited_at < until)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def last_visits(
        self,
        until: dt.datetime,
        grids: Sequence[str] | None = None,
        households: Sequence[str] | None = None,
    ) -> pd.Series:
        """Household code -> its last visit before `until` (UTC), computed by the database (GROUP BY);
        of the households of `grids`, or of `households`, when named."""
        v = VISITS_TABLE.c
        query = (
            sa.select(v.household_code, sa.func.max(v.visited_at).label("last"))
            .where(v.visited_at < until)
            .group_by(v.household_code)
        )
        if grids is not None:
            query = query.where(v.grid_code.in_(list(grids)))
        if households is not None:
            query = query.where(v.household_code.in_(list(households)))
        with self._read() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return pd.Series([], dtype="datetime64[ns, UTC]", name="last_visit")
        codes = [r[0] for r in rows]
        # SQLite's MAX gives back ISO text, PostgreSQL datetimes: each parsed by its fast path.
        values = [r[1] for r in rows]
        times = pd.to_datetime(values, utc=True, format="ISO8601" if isinstance(values[0], str) else None)
        return pd.Series(times, index=pd.Index(codes, name="household_code"), name="last_visit")

    def counts(
        self, since: dt.datetime, until: dt.datetime, grids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Per grid and visitor: visits, reached, follow-ups needed and cases raised in [since, until)."""
        v = VISITS_TABLE.c

        def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
            return sa.func.sum(sa.case((condition, 1), else_=0))

        query = (
            sa.select(
                v.grid_code,
                v.visitor,
                sa.func.count().label("visits"),
                count_if(v.reached.is_(True)).label("reached"),
                count_if(v.follow_up.is_(True)).label("follow_ups"),
                count_if(v.case_code.is_not(None)).label("cases"),
                sa.func.count(sa.distinct(v.household_code)).label("households_visited"),
            )
            .where(v.visited_at >= since, v.visited_at < until)
            .group_by(v.grid_code, v.visitor)
            .order_by(v.grid_code, v.visitor)
        )
        if grids is not None:
            query = query.where(v.grid_code.in_(list(grids)))
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        columns = ["grid_code", "visitor", "visits", "reached", "follow_ups", "cases", "households_visited"]
        return pd.DataFrame([dict(r) for r in rows], columns=columns)

    # -- care register -----------------------------------------------------

    def care(self, households: Sequence[str] | None = None) -> pd.DataFrame:
        """The care register (household_code, category, noted_by, noted_at), by household and category."""
        c = CARE_TABLE.c
        query = sa.select(CARE_TABLE).order_by(c.household_code, c.category)
        if households is not None:
            query = query.where(c.household_code.in_(list(households)))
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=list(CARE_COLUMNS))

    def set_care(self, household: str, categories: Sequence[str], by: str, at: dt.datetime) -> None:
        """Make `categories` the household's care categories (none: an ordinary household)."""
        c = CARE_TABLE.c
        with self._write() as conn:
            conn.execute(CARE_TABLE.delete().where(c.household_code == household))
            feed.note(conn, feed.VISITS, [household])
            for category in dict.fromkeys(categories):
                conn.execute(
                    CARE_TABLE.insert().values(
                        household_code=household, category=category, noted_by=by, noted_at=at
                    )
                )

    # -- patrols ------------------------------------------------------------

    def log_patrol(self, patrol: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Record a patrol unless its `key` was recorded already: (the stored patrol, whether it is new)."""
        p = PATROLS_TABLE.c
        try:
            with self._write() as conn:
                found = (
                    conn.execute(sa.select(PATROLS_TABLE).where(p.key == patrol["key"])).mappings().first()
                )
                if found is not None:
                    return dict(found), False
                conn.execute(PATROLS_TABLE.insert().values(**patrol))
                row = conn.execute(sa.select(PATROLS_TABLE).where(p.key == patrol["key"])).mappings().one()
                return dict(row), True
        except StoreError:
            again = self.patrol_by_key(str(patrol["key"]))
            if again is None:
                raise
            return again, False

    def patrol_by_key(self, key: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(sa.select(PATROLS_TABLE).where(PATROLS_TABLE.c.key == key)).mappings().first()
        return dict(row) if row is not None else None

    def patrols(
        self,
        *,
        grids: Sequence[str] | None = None,
        worker: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        tracks: bool = False,
    ) -> list[dict[str, Any]]:
        """Patrols of the Beijing days [since, until] matching the filters, by day and start;
        their tracks only when asked (`tracks`)."""
        p = PATROLS_TABLE.c
        columns = [p[name] for name in (PATROL_COLUMNS if tracks else PATROL_FIGURES)]
        query = sa.select(*columns).order_by(p.day, p.started_at, p.id)
        if grids is not None:
            query = query.where(p.grid_code.in_(list(grids)))
        if worker is not None:
            query = query.where(p.worker == worker)
        if since is not None:
            query = query.where(p.day >= since)
        if until is not None:
            query = query.where(p.day <= until)
        with self._read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def patrol_counts(
        self, since: dt.date, until: dt.date, grids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Per grid and worker in the Beijing days [since, until]: patrols, days, metres, seconds inside."""
        p = PATROLS_TABLE.c
        query = (
            sa.select(
                p.grid_code,
                p.worker,
                sa.func.count().label("patrols"),
                sa.func.count(sa.distinct(p.day)).label("days"),
                sa.func.sum(p.inside_m).label("inside_m"),
                sa.func.sum(p.inside_s).label("inside_s"),
            )
            .where(p.day >= since, p.day <= until)
            .group_by(p.grid_code, p.worker)
            .order_by(p.grid_code, p.worker)
        )
        if grids is not None:
            query = query.where(p.grid_code.in_(list(grids)))
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        columns = ["grid_code", "worker", "patrols", "days", "inside_m", "inside_s"]
        return pd.DataFrame([dict(r) for r in rows], columns=columns)

    # -- case keys -----------------------------------------------------------

    def claim_case_key(self, key: str, now: dt.datetime, stale: dt.timedelta) -> tuple[bool, str | None]:
        """(whether this call may report the case, the code of the case already reported with `key`).

        A claim left unsettled for longer than `stale` (its reporter failed mid-way) may be taken again.
        """
        k = CASE_KEYS_TABLE.c
        try:
            with self._write() as conn:
                row = conn.execute(sa.select(CASE_KEYS_TABLE).where(k.key == key)).mappings().first()
                if row is None:
                    conn.execute(CASE_KEYS_TABLE.insert().values(key=key, case_code=None, claimed_at=now))
                    return True, None
                if row["case_code"] is not None:
                    return False, str(row["case_code"])
                if row["claimed_at"] < now - stale:
                    conn.execute(CASE_KEYS_TABLE.update().where(k.key == key).values(claimed_at=now))
                    return True, None
                return False, None
        except StoreError:  # a racing claim of the same key inserted first
            return False, None

    def settle_case_key(self, key: str, case_code: str | None) -> None:
        """Note the case reported with `key` (None: the report failed, the key is free again)."""
        k = CASE_KEYS_TABLE.c
        with self._write() as conn:
            if case_code is None:
                conn.execute(CASE_KEYS_TABLE.delete().where(k.key == key))
            else:
                conn.execute(CASE_KEYS_TABLE.update().where(k.key == key).values(case_code=case_code))

    def replace_patrols(self, patrols: pd.DataFrame) -> int:
        """Make the patrols exactly these rows, in one transaction (seeding)."""
        with self._write() as conn:
            conn.execute(PATROLS_TABLE.delete())
            _insert(conn, PATROLS_TABLE, PATROL_COLUMNS, patrols)
        return len(patrols)

    # -- bulk --------------------------------------------------------------

    def replace(self, visits: pd.DataFrame, care: pd.DataFrame) -> int:
        """Make the book exactly these visits and care rows, in one transaction (seeding, benchmarks)."""
        with self._write() as conn:
            conn.execute(VISITS_TABLE.delete())
            conn.execute(CARE_TABLE.delete())
            _bulk(conn, visits, care)
            feed.note(conn, feed.VISITS)
        return len(visits)

    def extend(self, visits: pd.DataFrame, care: pd.DataFrame) -> int:
        """Add these visits and care rows in one transaction (a city's year loaded in parts)."""
        with self._write() as conn:
            _bulk(conn, visits, care)
            feed.note(conn, feed.VISITS)
        return len(visits)


def _bulk(conn: sa.Connection, visits: pd.DataFrame, care: pd.DataFrame) -> None:
    """Insert visits and care rows in bulk (`_insert`)."""
    _insert(conn, VISITS_TABLE, VISIT_COLUMNS, visits)
    _insert(conn, CARE_TABLE, CARE_COLUMNS, care)


def _insert(conn: sa.Connection, table: sa.Table, columns: Sequence[str], frame: pd.DataFrame) -> None:
    """Insert a frame's rows: COPY into PostgreSQL, one executemany of tuples into SQLite (times and
    days written as SQLAlchemy writes them: naive UTC text, ISO dates). A year of a city's visits
    takes minutes, not the hours of one dict per row."""
    frame = frame.reindex(columns=list(columns))
    if not len(frame):
        return
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        assert isinstance(raw, psycopg.Connection)
        with raw.cursor() as cur:
            copy_rows(cur, table.name, list(columns), frame)
        return
    data = {}
    for name in columns:
        column, kind = frame[name], table.c[name].type
        if isinstance(kind, UTCDateTime):
            when = pd.to_datetime(column, utc=True)
            column = when.dt.strftime("%Y-%m-%d %H:%M:%S.%f").where(when.notna(), None)
        elif isinstance(kind, sa.Date):
            column = pd.to_datetime(column).dt.strftime("%Y-%m-%d").where(column.notna(), None)
        elif isinstance(kind, sa.Boolean):
            column = column.astype("boolean").astype("Int64")
        data[name] = column.astype(object).where(column.notna(), None)
    rows = pd.DataFrame(data).itertuples(index=False, name=None)
    assert raw is not None
    marks = ", ".join("?" * len(columns))
    raw.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)
