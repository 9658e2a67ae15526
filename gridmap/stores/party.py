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
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from gridmap.history import current_author
from gridmap.stores import feed, party_checks
from gridmap.stores.books import Book, UTCDateTime, Writing, rows_of, transaction
from gridmap.stores.gpkg_attributes import create_tables, geopackage_metadata

metadata = sa.MetaData()


def _stamps() -> tuple[sa.Column[Any], ...]:
    """Who wrote a register's row and when: the row is one version of its key (`VERSIONED`)."""
    return (sa.Column("changed_by", sa.Text), sa.Column("changed_at", UTCDateTime))


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
    *_stamps(),
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
    *_stamps(),
)
sa.Index("party_members_org", MEMBERS.c.org_code)

LINKS = sa.Table(
    "party_links",
    metadata,
    sa.Column("household_code", sa.Text, primary_key=True),
    sa.Column("center_code", sa.Text, nullable=False),
    sa.Column("confirmed_by", sa.Text),
    sa.Column("confirmed_on", sa.Date),
    *_stamps(),
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
    *_stamps(),
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
    *_stamps(),
)
sa.Index("party_funds_org_year", FUNDS.c.org_code, FUNDS.c.year)


def _history_table(table: sa.Table) -> sa.Table:
    """`<table>_history`: the versions of `table`'s rows that a later write replaced or removed, each
    with who ended it and when (`ended_by`, `ended_at`); keyed by its own `version` number."""
    copies = [sa.Column(c.name, c.type) for c in table.columns]
    made = sa.Table(
        f"{table.name}_history",
        metadata,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
        *copies,
        sa.Column("ended_by", sa.Text),
        sa.Column("ended_at", UTCDateTime, nullable=False),
    )
    key = next(iter(table.primary_key.columns)).name
    sa.Index(f"{made.name}_key", made.c[key])
    return made


VERSIONED: dict[str, str] = {
    MEMBERS.name: "code",
    UNITS.name: "code",
    LINKS.name: "household_code",
    POINTS.name: "id",
    FUNDS.name: "id",
}
"""The registers whose every write keeps the row it replaces or removes (their history), by key column.
Organisations keep theirs in `party_orgs` itself, as dated versions."""
HISTORY: dict[str, sa.Table] = {name: _history_table(metadata.tables[name]) for name in VERSIONED}
ENDS = ("ended_by", "ended_at")

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


class PartyBook(Book):
    """The party registers of one store (`Store.party_book()`)."""

    _made = True  # PostGIS: migration 0012 made the tables
    _feed_made = True  # ... and migration 0018 the feed

    @classmethod
    def for_geopackage(cls, path: Path, writing: Writing) -> PartyBook:
        """The party tables of a GeoPackage: created and registered by the first write, so a file that
        never held a party register is never written by reading one (it reads as empty)."""
        book: PartyBook = cls._on_geopackage(path, writing)
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
        return super()._write()

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

    # -- registers keyed by code, every write keeping the rows it replaces ------

    @staticmethod
    def _who(by: str | None) -> tuple[str, dt.datetime]:
        """The writer (the caller's name, else the author of this context) and the moment."""
        return by or current_author().name, dt.datetime.now(dt.UTC)

    @staticmethod
    def _retire(
        conn: sa.Connection, name: str, where: sa.ColumnElement[bool], by: str, at: dt.datetime
    ) -> int:
        """Move the rows of register `name` matching `where` to its history, ended by `by` at `at`
        (one INSERT … SELECT: no row passes through Python); the rows moved."""
        table = metadata.tables[name]
        _noted(conn, [name])
        if name not in HISTORY:
            return int(conn.execute(table.delete().where(where)).rowcount or 0)
        ended = (sa.literal(by, sa.Text).label(ENDS[0]), sa.literal(at, UTCDateTime).label(ENDS[1]))
        picked = sa.select(*table.c, *ended).where(where)
        conn.execute(HISTORY[name].insert().from_select([*table.c.keys(), *ENDS], picked))
        return int(conn.execute(table.delete().where(where)).rowcount or 0)

    @staticmethod
    def _key(name: str) -> sa.Column[Any]:
        table = metadata.tables[name]
        return table.c[VERSIONED[name]] if name in VERSIONED else next(iter(table.primary_key.columns))

    @staticmethod
    def _stamped(name: str, row: Mapping[str, Any], by: str, at: dt.datetime) -> dict[str, Any]:
        return {**row, "changed_by": by, "changed_at": at} if name in VERSIONED else dict(row)

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

    def upsert(self, table: str, row: Mapping[str, Any], *, by: str | None = None) -> None:
        """Write one row of a register keyed by its key column, the row it replaces kept in its history."""
        self.replace_rows(table, [row], by=by)

    def delete(self, table: str, code: Any, *, by: str | None = None) -> int:
        """Remove one row of a register (kept in its history); the rows removed."""
        who, at = self._who(by)
        with self._write() as conn:
            return self._retire(conn, table, self._key(table) == code, who, at)

    def replace_rows(self, table: str, rows: Sequence[Mapping[str, Any]], *, by: str | None = None) -> None:
        """Write rows of a register, replacing those with the same keys (kept in its history), in one
        transaction."""
        t = metadata.tables[table]
        key = self._key(table)
        who, at = self._who(by)
        with self._write() as conn:
            self._retire(conn, table, key.in_([r[key.name] for r in rows]), who, at)
            if rows:
                conn.execute(t.insert(), [self._stamped(table, r, who, at) for r in rows])

    def set_links(
        self, centers: Sequence[str], rows: Sequence[Mapping[str, Any]], *, by: str | None = None
    ) -> None:
        """Make `rows` the confirmed links of the center households `centers`, in one transaction: their
        links not among them end, new ones start, those kept stay as confirmed before (the ended ones
        kept in the history)."""
        c = LINKS.c
        who, at = self._who(by)
        wanted = {(str(r["household_code"]), str(r["center_code"])): r for r in rows}
        with self._write() as conn:
            stored = conn.execute(
                sa.select(c.household_code, c.center_code).where(c.center_code.in_(list(centers)))
            ).all()
            kept = {(h, center) for h, center in stored if (h, center) in wanted}
            ended = [h for h, center in stored if (h, center) not in kept]
            self._retire(conn, LINKS.name, c.household_code.in_(ended), who, at)
            fresh = [self._stamped(LINKS.name, r, who, at) for k, r in wanted.items() if k not in kept]
            if fresh:
                conn.execute(LINKS.insert(), fresh)

    def write_entries(self, table: str, rows: Sequence[Mapping[str, Any]], *, by: str | None = None) -> None:
        """Add ledger entries in one transaction; one with an `id` replaces that entry (the one it
        replaces kept in the history), or is written under that number."""
        t = metadata.tables[table]
        who, at = self._who(by)
        numbered = [r["id"] for r in rows if r.get("id") is not None]
        with self._write() as conn:
            self._retire(conn, table, t.c.id.in_(numbered), who, at)
            for given in (True, False):
                part = [self._stamped(table, r, who, at) for r in rows if (r.get("id") is not None) is given]
                if part:
                    conn.execute(t.insert(), part)
                if given and part and conn.dialect.name == "postgresql":  # later entries number on
                    conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"GREATEST((SELECT max(id) FROM {table}), "
                            f"(SELECT max(id) FROM {HISTORY[table].name}), 1))"
                        )
                    )

    # -- a register's history ----------------------------------------------------

    def versions(self, table: str, key: Any) -> pd.DataFrame:
        """Every version of one row of a versioned register, oldest first: those ended (with who ended
        them and when) and the current one (`ended_at` missing)."""
        t, history = metadata.tables[table], HISTORY[table]
        names = [*t.c.keys(), *ENDS]
        if not self._made and not self._has_tables():
            return pd.DataFrame(columns=names)
        h = history.c
        ended = (
            sa.select(*(h[n] for n in names))
            .where(h[VERSIONED[table]] == key)
            .order_by(h.changed_at.is_(None).desc(), h.changed_at, h.version)
        )
        with self._read() as conn:
            old = [dict(r) for r in conn.execute(ended).mappings()]
            now = [dict(r) for r in conn.execute(sa.select(t).where(t.c[VERSIONED[table]] == key)).mappings()]
        return pd.DataFrame([*old, *({**r, "ended_by": None, "ended_at": None} for r in now)], columns=names)

    def restore(self, table: str, key: Any, row: Mapping[str, Any] | None, *, by: str | None = None) -> None:
        """Make `row` the current version of `key` (None: no current version), the one it replaces kept."""
        who, at = self._who(by)
        with self._write() as conn:
            self._retire(conn, table, self._key(table) == key, who, at)
            if row is not None:
                conn.execute(metadata.tables[table].insert().values(**self._stamped(table, row, who, at)))

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

    def add_point(self, entry: Mapping[str, Any], *, by: str | None = None) -> int:
        who, at = self._who(by)
        with self._write() as conn:
            key = conn.execute(
                POINTS.insert().values(**self._stamped(POINTS.name, entry, who, at))
            ).inserted_primary_key
        return int(key[0]) if key is not None else 0

    def funds(self, year: int | None = None, orgs: Sequence[str] | None = None) -> pd.DataFrame:
        f = FUNDS.c
        query = sa.select(FUNDS).order_by(f.year, f.org_code, f.id)
        if year is not None:
            query = query.where(f.year == year)
        if orgs is not None:
            query = query.where(f.org_code.in_(list(orgs)))
        return self._frame(query, FUNDS)

    def add_funds(self, entry: Mapping[str, Any], *, by: str | None = None) -> int:
        who, at = self._who(by)
        with self._write() as conn:
            key = conn.execute(
                FUNDS.insert().values(**self._stamped(FUNDS.name, entry, who, at))
            ).inserted_primary_key
        return int(key[0]) if key is not None else 0

    # -- bulk --------------------------------------------------------------

    def replace(self, frames: Mapping[str, pd.DataFrame], *, by: str | None = None) -> dict[str, int]:
        """Make each named register exactly its frame, in one transaction (seeding, imports); the rows
        of a versioned register it replaces are kept in its history."""
        who, at = self._who(by)
        with self._write() as conn:
            # Members before organisations: the database refuses a secretary who is no member yet.
            for name in sorted(frames, key=lambda n: n != MEMBERS.name):
                frame, table = frames[name], metadata.tables[name]
                self._retire(conn, name, sa.true(), who, at)
                if name in VERSIONED:
                    frame = frame.assign(changed_by=who, changed_at=at)
                secretaries: list[dict[str, Any]] = []
                if name == ORGS.name:  # the database refuses a child written before its parent ...
                    frame = party_checks.parents_first(frame)
                    if "secretary_code" in frame:  # ... and a secretary from below it written before it
                        named = frame[frame["secretary_code"].notna()]
                        secretaries = rows_of(
                            named.rename(columns=lambda c: f"named_{c}"),
                            ["named_code", "named_valid_from", "named_secretary_code"],
                        )
                        frame = frame.assign(secretary_code=None)
                wanted = columns(table)
                if len(frame):
                    conn.execute(table.insert(), rows_of(frame.reindex(columns=wanted), wanted))
                if secretaries:  # every organisation in: each names its secretary
                    o = ORGS.c
                    conn.execute(
                        ORGS.update()
                        .where(
                            o.code == sa.bindparam("named_code"),
                            o.valid_from == sa.bindparam("named_valid_from"),
                        )
                        .values(secretary_code=sa.bindparam("named_secretary_code")),
                        secretaries,
                    )
            _noted(conn, list(frames))
        return {name: len(frame) for name, frame in frames.items()}


_READ_BY_ANALYSIS = (ORGS.name, LINKS.name)
"""The registers the analysis reads (`gridmap.analysis.party_inputs`)."""


def _noted(conn: sa.Connection, tables: Sequence[str]) -> None:
    """Note a write of `tables` in the books' change feed when the analysis reads any of them."""
    if any(name in _READ_BY_ANALYSIS for name in tables):
        feed.note(conn, feed.PARTY)
