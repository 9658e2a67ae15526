"""Where the party organisation chain lives, in either store, through one SQL definition.

Like visits (`gridmap.stores.visits`), the chain is not a catalogue layer:
tables declared once as SQLAlchemy Core, made by migration 0012 in PostGIS and
on first use in a GeoPackage (registered as attribute tables, so they move no
layer revision). `party_orgs` keeps every version of an organisation (a change
closes the version in force and opens a new one: its history); the others are
registers the domain code in `gridmap.party` validates before it writes; the
kinds and parents of organisations the database checks too, whoever writes
(`gridmap.stores.party_checks`). A write of the organisations or the links, which the analysis
reads, is noted in the books' change feed in its transaction (`gridmap.stores.feed`).
A 专属网格 (dedicated grid) is kept as WKT beside its organisation, not in the
grids layer, so it may overlap base grids without being a topology finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from gridmap.stores import feed, party_checks
from gridmap.stores._gate import gate
from gridmap.stores.cases import (
    UTCDateTime,
    Writing,
    _query_only,
    _records,
    snapshot,
    transaction,
)
from gridmap.stores.gpkg_attributes import create_tables, geopackage_metadata

metadata = sa.MetaData()

ORGS = sa.Table(
    "party_orgs",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("valid_from", sa.Date, primary_key=True),
    sa.Column("valid_to", sa.Date),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("parent_code", sa.Text),
    sa.Column("area_kind", sa.Text, nullable=False),
    sa.Column("area_code", sa.Text, nullable=False),
    sa.Column("area_wkt", sa.Text),
    sa.Column("secretary", sa.Text),
    sa.Column("secretary_phone", sa.Text),
    sa.Column("secretary_code", sa.Text),
    sa.Column("changed_by", sa.Text),
    sa.Column("changed_at", UTCDateTime),
    sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="party_orgs_dates"),
)
sa.Index("party_orgs_parent", ORGS.c.parent_code)
sa.Index(
    "party_orgs_one_current",
    ORGS.c.code,
    unique=True,
    sqlite_where=ORGS.c.valid_to.is_(None),
    postgresql_where=ORGS.c.valid_to.is_(None),
)

UNITS = sa.Table(
    "party_units",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("street_code", sa.Text, nullable=False),
    sa.Column("covered_by", sa.Text),
    sa.Column("member_of", sa.Text),
    sa.Column("tier", sa.Integer),
)

MEMBERS = sa.Table(
    "party_members",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("household_code", sa.Text),
    sa.Column("org_code", sa.Text, nullable=False),
    sa.Column("in_service", sa.Boolean, nullable=False),
    sa.Column("work_unit", sa.Text),
    sa.Column("reported_on", sa.Date),
    sa.Column("service_hours", sa.Float, nullable=False),
)
sa.Index("party_members_org", MEMBERS.c.org_code)

LINKS = sa.Table(
    "party_links",
    metadata,
    sa.Column("household_code", sa.Text, primary_key=True),
    sa.Column("center_code", sa.Text, nullable=False),
    sa.Column("confirmed_by", sa.Text),
    sa.Column("confirmed_on", sa.Date),
)
sa.Index("party_links_center", LINKS.c.center_code)

POINT_RULES = sa.Table(
    "party_point_rules",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name_zh", sa.Text, nullable=False),
    sa.Column("name_en", sa.Text, nullable=False),
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("annual_cap", sa.Integer),
)

POINTS = sa.Table(
    "party_points",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("member_code", sa.Text, nullable=False),
    sa.Column("rule_code", sa.Text, nullable=False),
    sa.Column("occurred_on", sa.Date, nullable=False),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("evidence", sa.Text),
    sa.Column("approver", sa.Text),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)
sa.Index("party_points_member", POINTS.c.member_code, POINTS.c.occurred_on)

FUNDS = sa.Table(
    "party_funds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_code", sa.Text, nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("flow", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("category", sa.Text),
    sa.Column("amount", sa.Float, nullable=False),
    sa.Column("evidence", sa.Text),
    sa.Column("recorded_on", sa.Date, nullable=False),
)
sa.Index("party_funds_org_year", FUNDS.c.org_code, FUNDS.c.year)

GPKG_METADATA = geopackage_metadata(metadata)
"""The tables as a GeoPackage holds them (`gridmap.stores.gpkg_attributes`)."""
TABLES = tuple(metadata.tables)
"""The table names (a GeoPackage's revision leaves them out: they are not layers)."""


def columns(table: sa.Table) -> list[str]:
    """A table's columns as the registers' frames hold them (no surrogate `id`)."""
    return [c.name for c in table.columns if c.name != "id"]


def _orgs_with_secretaries() -> sa.Select[Any]:
    """The organisation versions, a secretary's name and phone read from the member the version names
    (so a member's new phone reaches their organisations); a version naming none keeps its own."""
    secretary = MEMBERS.alias("secretary_member")
    linked = secretary.c.code.is_not(None)
    from_member = {"secretary": secretary.c.name, "secretary_phone": secretary.c.phone}
    return sa.select(
        *(
            sa.case((linked, from_member[c.name]), else_=c).label(c.name) if c.name in from_member else c
            for c in ORGS.c
        )
    ).select_from(ORGS.outerjoin(secretary, secretary.c.code == ORGS.c.secretary_code))


class PartyBook:
    """The party registers of one store (`Store.party_book()`)."""

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
        self._reading = reading
        self._made = True  # PostGIS: migration 0012 made the tables
        self._feed_made = True  # ... and migration 0016 the feed

    @classmethod
    def for_geopackage(cls, path: Path, writing: Writing) -> PartyBook:
        """The party tables of a GeoPackage: created and registered by the first write, so a file that
        never held a party register is never written by reading one (it reads as empty)."""
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
        sa.event.listen(engine, "connect", _query_only)
        book = cls(engine, str(path), writing, reading=lambda: gate(path).held("sqlite"))
        book._made = book._has_tables()
        book._feed_made = False
        return book

    def _has_tables(self) -> bool:
        with self._read() as conn:
            inspector = sa.inspect(conn)
            return all(inspector.has_table(name) for name in TABLES)

    def _write(self) -> AbstractContextManager[sa.Connection]:
        if not self._made:
            with transaction(self._engine, self._writing, self.url) as conn:
                create_tables(conn, GPKG_METADATA)
                for statement in party_checks.sqlite_statements(set(TABLES)):
                    conn.exec_driver_sql(statement)
            self._made = True
        if not self._feed_made:
            with transaction(self._engine, self._writing, self.url) as conn:
                feed.create_feed(conn)
            self._feed_made = True
        return transaction(self._engine, self._writing, self.url)

    def _read(self) -> AbstractContextManager[sa.Connection]:
        return snapshot(self._engine, self._reading, self.url)

    def _frame(self, query: sa.Select[Any], table: sa.Table) -> pd.DataFrame:
        names = [c.name for c in table.columns]
        if not self._made and not self._has_tables():  # a GeoPackage without a register yet
            return pd.DataFrame(columns=names)
        self._made = True
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=names)

    # -- organisations -----------------------------------------------------

    def orgs(self, *, on: dt.date | None = None, codes: Sequence[str] | None = None) -> pd.DataFrame:
        """Organisation versions by code and start; `on` keeps those in force that day (all otherwise)."""
        o = ORGS.c
        query = _orgs_with_secretaries().order_by(o.code, o.valid_from)
        if on is not None:
            query = query.where(o.valid_from <= on, sa.or_(o.valid_to.is_(None), o.valid_to > on))
        if codes is not None:
            query = query.where(o.code.in_(list(codes)))
        return self._frame(query, ORGS)

    def save_org(self, version: Mapping[str, Any], closes: tuple[str, dt.date, dt.date] | None) -> None:
        """Open `version` and, in the same transaction, close (code, valid_from) on the date given."""
        o = ORGS.c
        with self._write() as conn:
            if closes is not None:
                code, start, end = closes
                conn.execute(ORGS.update().where(o.code == code, o.valid_from == start).values(valid_to=end))
            conn.execute(ORGS.insert().values(**version))
            feed.note(conn, feed.PARTY)

    def close_org(self, code: str, start: dt.date, end: dt.date) -> None:
        o = ORGS.c
        with self._write() as conn:
            conn.execute(ORGS.update().where(o.code == code, o.valid_from == start).values(valid_to=end))
            feed.note(conn, feed.PARTY)

    def remove_version(self, code: str, start: dt.date, reopen: dt.date | None) -> None:
        """Drop version (code, start) and reopen the version that started on `reopen` (a revert)."""
        o = ORGS.c
        with self._write() as conn:
            conn.execute(ORGS.delete().where(o.code == code, o.valid_from == start))
            feed.note(conn, feed.PARTY)
            if reopen is not None:
                conn.execute(
                    ORGS.update().where(o.code == code, o.valid_from == reopen).values(valid_to=None)
                )

    # -- registers keyed by code ---------------------------------------------

    def units(self) -> pd.DataFrame:
        return self._frame(sa.select(UNITS).order_by(UNITS.c.code), UNITS)

    def members(self, orgs: Sequence[str] | None = None, codes: Sequence[str] | None = None) -> pd.DataFrame:
        query = sa.select(MEMBERS).order_by(MEMBERS.c.code)
        if codes is not None:
            query = query.where(MEMBERS.c.code.in_(list(codes)))
        if orgs is not None:
            query = query.where(MEMBERS.c.org_code.in_(list(orgs)))
        return self._frame(query, MEMBERS)

    def links(self, centers: Sequence[str] | None = None) -> pd.DataFrame:
        query = sa.select(LINKS).order_by(LINKS.c.center_code, LINKS.c.household_code)
        if centers is not None:
            query = query.where(LINKS.c.center_code.in_(list(centers)))
        return self._frame(query, LINKS)

    def upsert(self, table: str, row: Mapping[str, Any]) -> None:
        """Write one row of a register keyed by its first primary key column (replacing the old row)."""
        t = metadata.tables[table]
        key = next(iter(t.primary_key.columns))
        with self._write() as conn:
            conn.execute(t.delete().where(key == row[key.name]))
            conn.execute(t.insert().values(**row))
            _noted(conn, [table])

    def delete(self, table: str, code: str) -> int:
        t = metadata.tables[table]
        key = next(iter(t.primary_key.columns))
        with self._write() as conn:
            _noted(conn, [table])
            return int(conn.execute(t.delete().where(key == code)).rowcount or 0)

    def replace_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Write rows of a register keyed by code, replacing those with the same codes, in one transaction."""
        t = metadata.tables[table]
        key = next(iter(t.primary_key.columns))
        with self._write() as conn:
            conn.execute(t.delete().where(key.in_([r[key.name] for r in rows])))
            if rows:
                conn.execute(t.insert(), list(rows))
            _noted(conn, [table])

    def set_links(self, center: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Make `rows` the center household's confirmed links (replacing its earlier ones)."""
        with self._write() as conn:
            conn.execute(LINKS.delete().where(LINKS.c.center_code == center))
            if rows:
                conn.execute(LINKS.insert(), list(rows))
            feed.note(conn, feed.PARTY)

    # -- points and funds ------------------------------------------------------

    def point_rules(self) -> pd.DataFrame:
        return self._frame(sa.select(POINT_RULES).order_by(POINT_RULES.c.code), POINT_RULES)

    def points(self, members: Sequence[str] | None = None, year: int | None = None) -> pd.DataFrame:
        p = POINTS.c
        query = sa.select(POINTS).order_by(p.occurred_on, p.id)
        if members is not None:
            query = query.where(p.member_code.in_(list(members)))
        if year is not None:
            query = query.where(p.occurred_on >= dt.date(year, 1, 1), p.occurred_on < dt.date(year + 1, 1, 1))
        return self._frame(query, POINTS)

    def add_point(self, entry: Mapping[str, Any]) -> int:
        with self._write() as conn:
            key = conn.execute(POINTS.insert().values(**entry)).inserted_primary_key
        return int(key[0]) if key is not None else 0

    def funds(self, year: int | None = None, orgs: Sequence[str] | None = None) -> pd.DataFrame:
        f = FUNDS.c
        query = sa.select(FUNDS).order_by(f.year, f.org_code, f.id)
        if year is not None:
            query = query.where(f.year == year)
        if orgs is not None:
            query = query.where(f.org_code.in_(list(orgs)))
        return self._frame(query, FUNDS)

    def add_funds(self, entry: Mapping[str, Any]) -> int:
        with self._write() as conn:
            key = conn.execute(FUNDS.insert().values(**entry)).inserted_primary_key
        return int(key[0]) if key is not None else 0

    # -- bulk --------------------------------------------------------------

    def replace(self, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Make each named register exactly its frame, in one transaction (seeding, imports)."""
        with self._write() as conn:
            for name, frame in frames.items():
                table = metadata.tables[name]
                conn.execute(table.delete())
                if name == ORGS.name:  # the database refuses a child written before its parent
                    frame = party_checks.parents_first(frame)
                wanted = columns(table)
                if len(frame):
                    conn.execute(table.insert(), _records(frame.reindex(columns=wanted), wanted))
            _noted(conn, list(frames))
        return {name: len(frame) for name, frame in frames.items()}


_READ_BY_ANALYSIS = (ORGS.name, LINKS.name)
"""The registers the analysis reads (`gridmap.analysis.party_inputs`)."""


def _noted(conn: sa.Connection, tables: Sequence[str]) -> None:
    """Note a write of `tables` in the books' change feed when the analysis reads any of them."""
    if any(name in _READ_BY_ANALYSIS for name in tables):
        feed.note(conn, feed.PARTY)
