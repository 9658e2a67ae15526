"""Where cases and their transitions live, in either store, through one SQL definition.

Cases are not a catalogue layer of `LAYERS` (see `gridmap.catalogue.CASES`):
they have their own two tables, `cases` and `case_events`, declared here once
as SQLAlchemy Core tables so filters and statistics are written once and run
in the database on both backends (GROUP BY, COUNT, paging). In PostGIS the
tables come from migration 0003 (with a generated Point geometry and a GiST
index for GIS tools); in a GeoPackage they are created on first use and
registered as attribute tables. A transition is one conditional UPDATE (on
the case's `version`) plus its event in one transaction, so two callers
racing on one case cannot both win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from gridmap.cases.vocabulary import LEVEL_ORDER, OPEN_STATUSES, SATISFIED, Status
from gridmap.stores.books import Book, UTCDateTime, Writing, copy_rows, rows_of
from gridmap.stores.gpkg_attributes import create_tables, geopackage_metadata

UTC = dt.UTC


metadata = sa.MetaData()

CASES_TABLE = sa.Table(
    "cases",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("source", sa.Text),
    sa.Column("reported_at", UTCDateTime, nullable=False),
    sa.Column("reporter_name", sa.Text),
    sa.Column("reporter_phone", sa.Text),
    sa.Column("address", sa.Text),
    sa.Column("building_code", sa.Text),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("grid_code", sa.Text),
    sa.Column("community_code", sa.Text),
    sa.Column("street_code", sa.Text),
    sa.Column("department", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("due_at", UTCDateTime),
    sa.Column("accepted_at", UTCDateTime),
    sa.Column("dispatched_at", UTCDateTime),
    sa.Column("handled_at", UTCDateTime),
    sa.Column("checked_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("handler", sa.Text),
    sa.Column("checker", sa.Text),
    sa.Column("handling_hours", sa.Float),
    sa.Column("on_time", sa.Boolean),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    # Added by migration 0008: intake, response, requests, follow-up, levels, duplicates, repairs.
    sa.Column("ticket_no", sa.Text),
    sa.Column("placed_by", sa.Text),
    sa.Column("response_on_time", sa.Boolean),
    sa.Column("level", sa.Text),
    sa.Column("solved_level", sa.Text),
    sa.Column("pending_request", sa.Text),
    sa.Column("returns", sa.Integer, nullable=False, server_default="0"),
    sa.Column("extensions", sa.Integer, nullable=False, server_default="0"),
    sa.Column("suspensions", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reopened", sa.Integer, nullable=False, server_default="0"),
    sa.Column("suspended_at", UTCDateTime),
    sa.Column("reviewed_at", UTCDateTime),
    sa.Column("reviewer", sa.Text),
    sa.Column("review_channel", sa.Text),
    sa.Column("reached", sa.Boolean),
    sa.Column("satisfaction", sa.Text),
    sa.Column("dissatisfaction_reason", sa.Text),
    sa.Column("duplicate_of", sa.Text),
    sa.Column("speaker_code", sa.Text),
    sa.Column("duplicate_proposal", sa.Text),
    sa.Column("integrator", sa.Text),
    sa.Column("uncovered_households", sa.Integer),
)
for _name in (
    "status",
    "grid_code",
    "community_code",
    "street_code",
    "department",
    "reported_at",
    "due_at",
    "ticket_no",
    "duplicate_of",
    "speaker_code",
    "integrator",
):
    sa.Index(f"cases_{_name}", CASES_TABLE.c[_name])

COUNTERS = ("returns", "extensions", "suspensions", "reopened")
"""Case columns that count approved requests and reopenings (0 for a new case)."""
ADDED_COLUMNS: tuple[str, ...] = (
    "ticket_no",
    "placed_by",
    "response_on_time",
    "level",
    "solved_level",
    "pending_request",
    *COUNTERS,
    "suspended_at",
    "reviewed_at",
    "reviewer",
    "review_channel",
    "reached",
    "satisfaction",
    "dissatisfaction_reason",
    "duplicate_of",
    "speaker_code",
    "duplicate_proposal",
    "integrator",
    "uncovered_households",
)
"""The columns migration 0008 added; a GeoPackage made before them gets them on open."""

REQUESTS_TABLE = sa.Table(
    "case_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_code", sa.Text, nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("hours", sa.Float),
    sa.Column("from_status", sa.Text),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("requested_role", sa.Text, nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_role", sa.Text),
    sa.Column("decided_at", UTCDateTime),
    sa.Column("decision_note", sa.Text),
)
"""The approval ledger (审批台账) of 退回, 作废, 延期 and 缓办: who asked, why, who decided and when."""

EVENTS_TABLE = sa.Table(
    "case_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_code", sa.Text, nullable=False, index=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("note", sa.Text),
)

GPKG_METADATA = geopackage_metadata(metadata)
"""The tables as a GeoPackage holds them (`gridmap.stores.gpkg_attributes`)."""

CASE_COLUMNS: tuple[str, ...] = tuple(c.name for c in CASES_TABLE.columns)
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in EVENTS_TABLE.columns if c.name != "id")
REQUEST_COLUMNS: tuple[str, ...] = tuple(c.name for c in REQUESTS_TABLE.columns if c.name != "id")
GROUPS = {
    "grid": CASES_TABLE.c.grid_code,
    "community": CASES_TABLE.c.community_code,
    "street": CASES_TABLE.c.street_code,
    "department": CASES_TABLE.c.department,
}
"""The levels statistics are given for, and the column each groups by."""

_MAIN_CODE = sa.func.substr(CASES_TABLE.c.category, 1, 2)


class HoursBetween(FunctionElement[float]):
    """Hours from one time column to another, on both databases (SQLite: Julian days; PostgreSQL: epoch)."""

    type = sa.Float()
    inherit_cache = True
    name = "hours_between"


@compiles(HoursBetween, "sqlite")
def _hours_sqlite(element: HoursBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


@compiles(HoursBetween, "postgresql")
def _hours_postgresql(element: HoursBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a list or a statistic covers; `None` means any."""

    grid: str | None = None
    community: str | None = None
    street: str | None = None
    department: str | None = None
    statuses: Sequence[str] | None = None
    category: str | None = None
    overdue: bool | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    communities_in: frozenset[str] | None = None
    departments_in: frozenset[str] | None = None
    unplaced_too: bool = False
    ticket_no: str | None = None
    placed: bool | None = None
    awaiting_review: bool | None = None
    pending: bool | None = None
    followed_up_only: bool = False
    due_before: dt.datetime | None = None
    due_from: dt.datetime | None = None
    duplicate_of: str | None = None
    integrator: str | None = None
    codes: Sequence[str] | None = None

    def where(self, now: dt.datetime) -> list[sa.ColumnElement[bool]]:
        """The SQL conditions (bound parameters only) of this filter at time `now`."""
        c = CASES_TABLE.c
        out: list[sa.ColumnElement[bool]] = []
        for column, value in (
            (c.grid_code, self.grid),
            (c.community_code, self.community),
            (c.street_code, self.street),
            (c.department, self.department),
        ):
            if value is not None:
                out.append(column == value)
        if self.statuses is not None:
            out.append(c.status.in_(list(self.statuses)))
        if self.category is not None:
            out.append(c.category.startswith(self.category, autoescape=True))
        if self.overdue is not None:
            late = overdue_condition(now)
            out.append(late if self.overdue else sa.not_(late))
        if self.since is not None:
            out.append(c.reported_at >= self.since)
        if self.until is not None:
            out.append(c.reported_at < self.until)
        if self.communities_in is not None:
            mine = c.community_code.in_(sorted(self.communities_in))
            out.append(sa.or_(mine, c.community_code.is_(None)) if self.unplaced_too else mine)
        if self.departments_in is not None:
            out.append(c.department.in_(sorted(self.departments_in)))
        if self.ticket_no is not None:
            out.append(c.ticket_no == self.ticket_no)
        if self.placed is not None:
            out.append(c.grid_code.is_not(None) if self.placed else c.grid_code.is_(None))
        if self.awaiting_review is not None:
            waiting = awaiting_review_condition()
            out.append(waiting if self.awaiting_review else sa.not_(waiting))
        if self.pending is not None:
            out.append(c.pending_request.is_not(None) if self.pending else c.pending_request.is_(None))
        if self.integrator is not None:
            out.append(c.integrator == self.integrator)
        if self.codes is not None:
            out.append(c.code.in_(list(self.codes)))
        if self.duplicate_of is not None:
            out.append(c.duplicate_of == self.duplicate_of)
        if self.due_before is not None:
            out.append(sa.and_(c.due_at.is_not(None), c.due_at < self.due_before))
        if self.due_from is not None:
            out.append(c.due_at >= self.due_from)
        if self.followed_up_only:
            out.append(
                sa.or_(c.closed_at.is_not(None), c.reviewed_at.is_not(None), c.status == Status.MERGED.value)
            )
        return out


def duplicate_condition(
    category: str, bbox: tuple[float, float, float, float], closed_since: dt.datetime
) -> list[sa.ColumnElement[bool]]:
    """Cases of `category` in `bbox` (lon/lat) that a new report may repeat: still open (and not
    merged themselves), or closed since `closed_since`."""
    c = CASES_TABLE.c
    west, south, east, north = bbox
    still_open = c.status.in_(sorted(s.value for s in OPEN_STATUSES))
    recently_closed = sa.and_(c.status == Status.CLOSED.value, c.closed_at >= closed_since)
    return [
        c.category == category,
        c.lon.between(west, east),
        c.lat.between(south, north),
        sa.or_(still_open, recently_closed),
    ]


def awaiting_review_condition() -> sa.ColumnElement[bool]:
    """Closed and not followed up since it closed, or a merged report whose reporter is not followed up
    and whose case is closed (待回访: every reporter of a merged case is followed up)."""
    c = CASES_TABLE.c
    joined = CASES_TABLE.alias("joined")
    closed_case = (
        sa.select(joined.c.code)
        .where(joined.c.code == c.duplicate_of, joined.c.status == Status.CLOSED.value)
        .exists()
    )
    return sa.or_(
        sa.and_(
            c.status == Status.CLOSED.value,
            sa.or_(c.reviewed_at.is_(None), c.reviewed_at < c.closed_at),
        ),
        sa.and_(c.status == Status.MERGED.value, c.reviewed_at.is_(None), closed_case),
    )


def overdue_condition(now: dt.datetime) -> sa.ColumnElement[bool]:
    """Dispatched, not yet handled, and past its deadline."""
    c = CASES_TABLE.c
    return sa.and_(c.status == Status.DISPATCHED.value, c.due_at.is_not(None), c.due_at < now)


@dataclass(frozen=True)
class Written:
    """What one step of a case writes beside its changed columns: its event, and the ledger entry it
    opens (`request`) or decides (`decision`)."""

    event: Mapping[str, Any]
    request: Mapping[str, Any] | None = None
    decision: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Moves:
    """Steps of one case written together: the case's `version` when read, its columns changed by all
    of them, and what each step writes."""

    code: str
    version: int
    changes: Mapping[str, Any]
    steps: Sequence[Written]


class _Changed(Exception):
    """A case of a transaction changed since it was read: the transaction is rolled back."""


class CaseBook(Book):
    """The cases of one store (`Store.case_book()`)."""

    as_gridmap = True  # gridmap places its cases itself: the store's triggers for other writers step aside

    @classmethod
    def for_geopackage(cls, path: Path, writing: Writing) -> CaseBook:
        """The case tables of a GeoPackage, written in the store's own write transaction (`writing`).

        The tables are created and registered in gpkg_contents on first use;
        readers open the file query-only.
        """
        book: CaseBook = cls._on_geopackage(path, writing)
        with book._read() as conn:
            inspector = sa.inspect(conn)
            complete = all(inspector.has_table(name) for name in metadata.tables)
            have = (
                {col["name"] for col in inspector.get_columns(CASES_TABLE.name)}
                if inspector.has_table(CASES_TABLE.name)
                else set(CASE_COLUMNS)
            )
        missing = [name for name in ADDED_COLUMNS if name not in have]
        if complete and not missing:
            return book
        with book._write() as conn:
            for name in missing:  # a GeoPackage made before migration 0008
                kind = CASES_TABLE.c[name].type.compile(conn.dialect)
                default = " NOT NULL DEFAULT 0" if name in COUNTERS else ""
                conn.execute(sa.text(f"ALTER TABLE cases ADD COLUMN {name} {kind}{default}"))
            create_tables(conn, GPKG_METADATA)
        return book

    # -- one case ----------------------------------------------------------

    def insert(self, case: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
        """Add a new case with its first event; False when the code is taken (nothing written)."""
        with self._write() as conn:
            taken = conn.execute(sa.select(CASES_TABLE.c.code).where(CASES_TABLE.c.code == case["code"]))
            if taken.first() is not None:
                return False
            conn.execute(CASES_TABLE.insert().values(**case, version=0))
            conn.execute(EVENTS_TABLE.insert().values(**event))
        return True

    def insert_many(
        self, cases: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
    ) -> set[str]:
        """Add new cases (each row whole, with its version) and their events in one transaction, by
        set-based inserts; the codes already taken when any is (nothing written then)."""
        if not cases:
            return set()
        c = CASES_TABLE.c
        codes = [str(case["code"]) for case in cases]
        with self._write() as conn:
            taken = {str(code) for code in conn.execute(sa.select(c.code).where(c.code.in_(codes))).scalars()}
            if taken:
                return taken
            conn.execute(CASES_TABLE.insert(), [dict(case) for case in cases])
            if events:
                conn.execute(EVENTS_TABLE.insert(), [dict(event) for event in events])
        return set()

    def get(self, code: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(sa.select(CASES_TABLE).where(CASES_TABLE.c.code == code)).mappings().first()
        return dict(row) if row is not None else None

    def events(self, code: str) -> list[dict[str, Any]]:
        """The transitions of a case, oldest first."""
        query = (
            sa.select(*(EVENTS_TABLE.c[name] for name in EVENT_COLUMNS))
            .where(EVENTS_TABLE.c.case_code == code)
            .order_by(EVENTS_TABLE.c.at, EVENTS_TABLE.c.id)
        )
        with self._read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def update(
        self,
        code: str,
        version: int,
        changes: Mapping[str, Any],
        event: Mapping[str, Any],
        *,
        request: Mapping[str, Any] | None = None,
        decision: Mapping[str, Any] | None = None,
        also: tuple[str, int, Mapping[str, Any], Mapping[str, Any]] | None = None,
    ) -> bool:
        """Apply a transition if the case is still at `version`; False when someone changed it first.

        `request` adds an entry to the approval ledger; `decision` decides the case's pending one;
        `also` (code, version, changes, event) moves a second case in the same transaction, and
        nothing is written when that one changed first.
        """
        c = CASES_TABLE.c
        moves = [(code, version, changes, event), *([also] if also is not None else [])]
        try:
            with self._write() as conn:
                for number, seen, changed, happened in moves:
                    statement = (
                        CASES_TABLE.update()
                        .where(c.code == number, c.version == seen)
                        .values(**changed, version=seen + 1)
                    )
                    if conn.execute(statement).rowcount != 1:
                        raise _Changed
                    conn.execute(EVENTS_TABLE.insert().values(**happened))
                self._ledger(conn, code, request, decision)
        except _Changed:
            return False
        return True

    def update_many(self, moves: Sequence[Moves]) -> bool:
        """Apply each case's steps if it is still at its version, all in one transaction; False (nothing
        written) when someone changed any of them first."""
        c = CASES_TABLE.c
        events = [step.event for move in moves for step in move.steps]
        try:
            with self._write() as conn:
                for move in moves:
                    statement = (
                        CASES_TABLE.update()
                        .where(c.code == move.code, c.version == move.version)
                        .values(**move.changes, version=move.version + len(move.steps))
                    )
                    if conn.execute(statement).rowcount != 1:
                        raise _Changed
                    for step in move.steps:
                        self._ledger(conn, move.code, step.request, step.decision)
                if events:
                    conn.execute(EVENTS_TABLE.insert(), [dict(event) for event in events])
        except _Changed:
            return False
        return True

    def _ledger(
        self,
        conn: sa.Connection,
        code: str,
        request: Mapping[str, Any] | None,
        decision: Mapping[str, Any] | None,
    ) -> None:
        """A new request of the approval ledger, or the decision of the case's pending one."""
        if request is not None:
            conn.execute(REQUESTS_TABLE.insert().values(**request))
        if decision is not None:
            r = REQUESTS_TABLE.c
            conn.execute(
                REQUESTS_TABLE.update().where(r.case_code == code, r.decision == "pending").values(**decision)
            )

    def requests(self, code: str | None = None, *, pending: bool | None = None) -> list[dict[str, Any]]:
        """The approval ledger (of one case when `code` is given), oldest first."""
        r = REQUESTS_TABLE.c
        query = sa.select(REQUESTS_TABLE).order_by(r.requested_at, r.id)
        if code is not None:
            query = query.where(r.case_code == code)
        if pending is not None:
            query = query.where((r.decision == "pending") if pending else (r.decision != "pending"))
        with self._read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def pending_request(self, code: str) -> dict[str, Any] | None:
        """The request of a case waiting for approval, if any."""
        found = self.requests(code, pending=True)
        return found[-1] if found else None

    # -- many cases --------------------------------------------------------

    def query(
        self, where: Sequence[sa.ColumnElement[bool]], *, limit: int | None = None, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the cases matching `where` (newest first) and how many match in all."""
        c = CASES_TABLE.c
        select = sa.select(CASES_TABLE).where(*where).order_by(c.reported_at.desc(), c.code)
        if limit is not None:
            select = select.limit(limit)
        counted = sa.select(sa.func.count()).select_from(CASES_TABLE).where(*where)
        with self._read() as conn:
            rows = [dict(row) for row in conn.execute(select.offset(offset)).mappings()]
            total = int(conn.execute(counted).scalar_one())
        return rows, total

    def statistics(
        self,
        by: str,
        where: Sequence[sa.ColumnElement[bool]],
        now: dt.datetime,
        period: sa.ColumnElement[str] | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Figures per `by` group (see `gridmap.cases.statistics`) and the case count per main category;
        per `period` (a column `period`) and group when a period expression is given."""
        c = CASES_TABLE.c
        keys = [GROUPS[by].label("key"), *([] if period is None else [period.label("period")])]
        # Grouped by the output name: the period's bound parameters would differ between SELECT and GROUP BY.
        grouping = [GROUPS[by], *([] if period is None else [sa.literal_column("period")])]
        where = [*where, GROUPS[by].is_not(None)]  # cases not yet dispatched have no department
        closed = c.status == Status.CLOSED.value
        repairing = sa.and_(
            c.speaker_code.is_not(None), c.status.not_in([Status.VOID.value, Status.MERGED.value])
        )
        without = c.uncovered_households * HoursBetween(
            c.reported_at, sa.func.coalesce(c.closed_at, sa.literal(now, UTCDateTime()))
        )

        def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
            return sa.func.sum(sa.case((condition, 1), else_=0))

        figures = (
            sa.select(
                *keys,
                sa.func.count().label("received"),
                count_if(closed).label("closed"),
                count_if(sa.and_(closed, c.on_time.is_(True))).label("closed_on_time"),
                sa.func.avg(sa.case((closed, c.handling_hours), else_=None)).label("avg_handling_hours"),
                count_if(overdue_condition(now)).label("overdue_now"),
                count_if(c.status == Status.VOID.value).label("void"),
                count_if(c.status == Status.MERGED.value).label("merged"),
                count_if(c.response_on_time.is_(True)).label("responded_in_time"),
                count_if(sa.and_(closed, c.reopened == 0)).label("resolved"),
                count_if(c.reviewed_at.is_not(None)).label("followed_up"),
                count_if(c.reached.is_(True)).label("reached"),
                count_if(sa.and_(c.reached.is_(True), c.satisfaction.in_(sorted(SATISFIED)))).label(
                    "satisfied"
                ),
                count_if(awaiting_review_condition()).label("awaiting_review"),
                count_if(c.reopened > 0).label("reopened"),
                count_if(c.returns > 0).label("returned"),
                count_if(c.extensions > 0).label("extended"),
                count_if(c.suspensions > 0).label("suspended"),
                *(
                    count_if(sa.and_(closed, c.solved_level == level)).label(f"solved_{level}")
                    for level in LEVEL_ORDER
                ),
                sa.func.sum(sa.case((repairing, without), else_=0.0)).label("household_hours_uncovered"),
            )
            .where(*where)
            .group_by(*grouping)
        )
        categories = (
            sa.select(*keys, _MAIN_CODE.label("category"), sa.func.count().label("cases"))
            .where(*where)
            .group_by(*grouping, _MAIN_CODE)
        )
        with self._read() as conn:
            table = pd.DataFrame(conn.execute(figures).mappings().all())
            by_category = pd.DataFrame(conn.execute(categories).mappings().all())
        return table, by_category

    def reported_range(
        self, where: Sequence[sa.ColumnElement[bool]]
    ) -> tuple[dt.datetime | None, dt.datetime | None]:
        """When the first and the last of the cases matching `where` were reported (None: no case)."""
        c = CASES_TABLE.c
        query = sa.select(sa.func.min(c.reported_at), sa.func.max(c.reported_at)).where(*where)
        with self._read() as conn:
            first, last = conn.execute(query).one()
        convert = UTCDateTime().process_result_value
        dialect = self._engine.dialect
        if isinstance(first, str):  # SQLite's aggregate loses the column type: text back
            first, last = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
        return convert(first, dialect), convert(last, dialect)

    def count(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(CASES_TABLE)).scalar_one())

    def replace(self, cases: pd.DataFrame, events: pd.DataFrame, requests: pd.DataFrame | None = None) -> int:
        """Make the book exactly these cases, events and ledger, in one transaction (seeding, benchmarks).

        Columns a frame lacks are empty (counters 0).
        """
        with self._write() as conn:
            for table in (REQUESTS_TABLE, EVENTS_TABLE, CASES_TABLE):
                conn.execute(table.delete())
            self._load(conn, cases, events, requests)
        return len(cases)

    def _load(
        self, conn: sa.Connection, cases: pd.DataFrame, events: pd.DataFrame, requests: pd.DataFrame | None
    ) -> None:
        """Bulk insert: COPY into PostgreSQL, one executemany into SQLite."""
        cases = cases.reindex(columns=list(CASE_COLUMNS))
        cases["version"] = cases["version"].fillna(0).astype("int64")
        for name in COUNTERS:
            cases[name] = cases[name].fillna(0).astype("int64")
        events = events.reindex(columns=list(EVENT_COLUMNS))
        requests = (requests if requests is not None else pd.DataFrame()).reindex(
            columns=list(REQUEST_COLUMNS)
        )
        parts = (
            (CASES_TABLE, CASE_COLUMNS, cases),
            (EVENTS_TABLE, EVENT_COLUMNS, events),
            (REQUESTS_TABLE, REQUEST_COLUMNS, requests),
        )
        if conn.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            assert isinstance(raw, psycopg.Connection)
            with raw.cursor() as cur:
                for table, columns, frame in parts:
                    copy_rows(cur, table.name, list(columns), frame)
            return
        for table, columns, frame in parts:
            if len(frame):
                conn.execute(table.insert(), rows_of(frame, columns))
