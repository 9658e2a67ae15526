"""The server store: PostGIS through SQLAlchemy (one engine per store) and psycopg 3.

The schema is Alembic's (`migrations/`), upgraded on open. Writes run in one
transaction each: bulk data goes in with binary COPY, assembled from whole
columns by Arrow (EWKB for geometry), so no Python runs per row; a big
whole-layer replace drops the layer's indexes, loads, and rebuilds them.
Reads come back through binary COPY too: whole layers through ADBC's libpq
driver straight into Arrow, pages through psycopg decoded column by column
with numpy (`query` filters, orders and cuts them in SQL); bbox reads use
`&&` on an envelope (the GiST index) then an exact ST_Intersects, so both
stores return the same features.

Buildings keep Polygon and MultiPolygon as given: their column is generic
`geometry(Geometry, 4326)` with a CHECK on the type (migration 0001); the
other layers have typed columns (MultiPolygon, Point).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import struct
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import adbc_driver_postgresql.dbapi as adbc
import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from gridmap.catalogue import LAYER_NAMES, Field, Layer, get_layer
from gridmap.changes import LayerChange, change_set, closing_groups, stamped, versioned_spec
from gridmap.errors import ConfigError, ConflictError, StoreError, driver_reason
from gridmap.frames import WGS84_CRS, empty_frame
from gridmap.history import Author, Revision, current_author
from gridmap.settings import redact
from gridmap.stores._frames import (
    Committed,
    PreparingStore,
    arrow_frame,
    arrow_types,
    conformed,
    finish,
    geoms_of,
    in_force,
    prepare,
    read_back_codes,
)
from gridmap.stores.base import TRIGGERS_ASIDE_FROM_ROWS, BBox, receipt_revision
from gridmap.stores.conditions import to_postgres
from gridmap.stores.query import (
    COUNT_LIMIT,
    Page,
    PageRequest,
    RecordPage,
    Records,
    Value,
    bbox_parts,
    matched_from_page,
)
from gridmap.stores.wkb import geometries
from gridmap.versions import parse_date

if TYPE_CHECKING:
    from gridmap.stores.cases import CaseBook
    from gridmap.stores.feed import BookFeed
    from gridmap.stores.party import PartyBook
    from gridmap.stores.visits import VisitBook

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x6772_6964_6D61_70  # pg_advisory_xact_lock key: openers migrate one at a time
_WRITERS_LOCK = 0x6772_6964_6D61_71  # pg_advisory_xact_lock key: writers commit one at a time
AUTHOR_SETTING = "gridmap.author"  # set in gridmap's write transactions; unset, the triggers record the edit
NOTIFY_CHANNEL = "gridmap_revision"  # pg_notify channel: the new store revision, at each commit
_REBUILD_FROM_ROWS = 20_000  # loads this big drop the indexes and build them afresh afterwards
_INDEX_MEMORY = "256MB"  # maintenance_work_mem for the index builds after a bulk load: sort in memory
_ARROW_FROM_ROWS = 50_000  # whole-layer reads of at least this many (estimated) rows go through ADBC
_CHUNK_ROWS = 100_000  # rows per COPY chunk: Python builds the next chunk while the server parses this one
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # signature, flags, no extension
_COPY_TRAILER = struct.pack(">h", -1)
_POINT = shapely.GeometryType.POINT
_NUMPY_TYPES = {"integer": "int64", "real": "float64", "boolean": "bool"}
_WIRE_TYPES = {"integer": ">i8", "real": ">f8", "boolean": "u1"}  # int8, float8 and bool in binary COPY
_PANDAS_TYPES = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),  # what a page decoded from binary COPY holds
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}
_AS_OF_FIELDS = (
    Field("valid_to", "text", "停用日期", "Valid to"),
    Field("current", "integer", "", ""),
    Field("superseded", "integer", "", ""),
)
_ARROW_TYPES = {"text": pa.string(), "integer": pa.int64(), "real": pa.float64(), "boolean": pa.bool_()}


def driver_url(url: str) -> str:
    """`url` with the psycopg 3 driver (plain postgresql:// and postgres:// URLs are accepted too)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ConfigError(f"not a PostgreSQL URL: {redact(url)!r}")
    return f"postgresql+psycopg://{rest}"


def mark_as_gridmap(cur: psycopg.Cursor[Any]) -> None:
    """Tell the store's triggers (migration 0006) that gridmap writes this transaction.

    gridmap records its own history and derives `grid_code` itself, so the
    triggers that do both for QGIS, ogr2ogr and psql step aside; the setting
    ends with the transaction.
    """
    cur.execute("SELECT set_config(%s, %s, true)", (AUTHOR_SETTING, current_author().name or "gridmap"))


def migrate(engine: sa.Engine) -> None:
    """Upgrade the database to the newest schema; concurrent openers wait for each other."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class _Readers:
    """A few autocommit connections for reads of one statement (an API page, an item by code).

    Through SQLAlchemy's pool a read takes five or six round trips to the
    server (the liveness ping, BEGIN, the statement, ROLLBACK on return); on a
    busy machine each waits for the server process to be scheduled. Here a read
    is its statement alone. A connection found dead (the server restarted) is
    dropped and the statement run once more on a new one: it only reads.
    """

    KEEP = 4

    def __init__(self, url: str, name: str) -> None:
        self._url, self._name = url, name
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()

    def fetch(self, sql: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        """Every row of `sql`; a driver error is a StoreError naming the store's reason."""
        for attempt in (0, 1):
            conn = self._take() if attempt == 0 else None
            fresh = conn is None
            try:
                conn = conn or psycopg.connect(self._url, autocommit=True)
                rows = conn.execute(sql, params).fetchall()
            except psycopg.OperationalError as exc:
                if conn is not None:
                    conn.close()
                if fresh:
                    raise StoreError(f"{self._name}: {driver_reason(exc)}") from None
                continue  # a kept connection the server dropped: once more on a new one
            except psycopg.Error as exc:
                if conn is not None:
                    conn.close()
                raise StoreError(f"{self._name}: {driver_reason(exc)}") from None
            self._give(conn)
            return rows
        raise AssertionError("unreachable")

    def _take(self) -> psycopg.Connection[Any] | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            if len(self._idle) < self.KEEP:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class PostGISStore(PreparingStore):
    """Seven tables with GiST indexes, constraints from the catalogue, and a `gridmap_meta` revision row."""

    def __init__(self, url: str) -> None:
        try:
            self._engine = sa.create_engine(driver_url(url), pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise ConfigError(f"unusable store URL {redact(url)!r}: {redact(str(exc))}") from None
        self.url = self._engine.url.render_as_string(hide_password=True)
        self._listener: psycopg.Connection[Any] | None = None
        self._libpq_url = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._readers = _Readers(self._libpq_url, self.url)
        try:
            migrate(self._engine)
        except DBAPIError as exc:
            self._engine.dispose()
            raise StoreError(f"cannot open {self.url}: {driver_reason(exc)}") from None

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._readers.close()
        self._engine.dispose()

    def wait_for_change(self, seconds: float) -> bool | None:
        """Wait for `NOTIFY gridmap_revision` (migration 0006: every commit that moves the revision).

        One connection of its own, listening from the first call on, so a commit made
        between two calls is reported by the next one. A lost connection answers None
        (poll meanwhile) and is opened again next time.
        """
        try:
            if self._listener is None:
                self._listener = psycopg.connect(self._libpq_url, autocommit=True)
                self._listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            return any(True for _ in self._listener.notifies(timeout=seconds, stop_after=1))
        except psycopg.Error:
            if self._listener is not None:
                self._listener.close()
            self._listener = None
            return None

    def case_book(self) -> CaseBook:
        """The `cases` and `case_events` tables of migration 0003, on this store's engine."""
        from gridmap.stores.cases import CaseBook

        return CaseBook(self._engine, self.url)

    def visit_book(self) -> VisitBook:
        """The `visits` and `household_care` tables (migration 0010) and `patrols` (0011), on this engine."""
        from gridmap.stores.visits import VisitBook

        return VisitBook(self._engine, self.url)

    def book_feed(self) -> BookFeed:
        """The `book_feed` table of migration 0018, on this store's engine."""
        from gridmap.stores.feed import BookFeed

        return BookFeed(self._engine, self.url)

    def party_book(self) -> PartyBook:
        """The party tables of migration 0012, on this store's engine."""
        from gridmap.stores.party import PartyBook

        return PartyBook(self._engine, self.url)

    @contextmanager
    def _cursor(self, write: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        """A psycopg cursor inside one SQLAlchemy transaction (committed only if the block succeeds)."""
        try:
            with self._engine.begin() if write else self._engine.connect() as conn:
                raw = conn.connection.driver_connection
                assert isinstance(raw, psycopg.Connection)
                with raw.cursor() as cur:
                    yield cur
        except (psycopg.Error, DBAPIError) as exc:
            raise StoreError(f"{self.url}: {driver_reason(exc)}") from None

    def native_tile(
        self, layer: str, z: int, x: int, y: int, *, columns: Sequence[str], extent: int, buffer: int
    ) -> bytes | None:
        """`ST_AsMVT` over the features meeting the buffered tile; identifiers come from the catalogue."""
        spec = get_layer(layer)
        selected = ", ".join(name for name in columns if name in spec.field_names)
        sql = f"""
            WITH bounds AS (
                SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS tile,
                       ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326)
                           AS window
            ), features AS (
                SELECT {selected},
                       ST_AsMVTGeom(
                           ST_Transform(t.geometry, 3857), bounds.tile, %(extent)s, %(buffer)s, true
                       ) AS geom
                FROM {spec.name} t, bounds
                WHERE t.geometry && bounds.window AND ST_Intersects(t.geometry, bounds.window)
            )
            SELECT ST_AsMVT(features.*, %(name)s, %(extent)s, 'geom') FROM features WHERE geom IS NOT NULL
        """
        params = {"z": z, "x": x, "y": y, "margin": buffer / extent, "extent": extent, "buffer": buffer}
        with self._cursor() as cur:
            row = cur.execute(sql, {**params, "name": layer}).fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""

    # -- reading -----------------------------------------------------------

    def read(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        codes: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        return self._read(get_layer(layer), bbox=bbox, codes=codes)

    def _read(
        self, spec: Layer, *, bbox: BBox | None = None, codes: Sequence[str] | None = None
    ) -> gpd.GeoDataFrame:
        """`read` in the layout of `spec` (the catalogue's, or the stored one with `revision`)."""
        where, params = _where(bbox, codes, {})
        select = self._select_arrow if codes is None and self._large(spec.name) else self._rows
        return finish(spec, select(spec, where, params, " ORDER BY code"))

    def _large(self, layer: str) -> bool:
        """Whether the planner's row estimate says `layer` is worth ADBC's connection set-up (~0.1 s)."""
        with self._cursor() as cur:
            row = cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (layer,)).fetchone()
        return row is not None and row[0] >= _ARROW_FROM_ROWS

    def query_page(self, layer: str, request: PageRequest) -> Page:
        plan = _page_plan(get_layer(layer), request)
        # The page and its count share one pooled connection: one checkout, one liveness check.
        with self._cursor() as cur:
            frame = _copy_rows(cur, plan.spec, plan.sql, plan.params)
            more = request.limit is not None and len(frame) > request.limit
            frame = frame.iloc[: request.limit] if request.limit is not None else frame
            if request.before is not None:  # read backwards from the cursor
                frame = frame.iloc[::-1].reset_index(drop=True)
            frame = conformed(layer, frame)
            matched = plan.known(len(frame), more)
            if matched is None:
                matched = _count(cur, layer, plan.conditions, plan.params)
        return Page(frame, matched, more)

    def query_records(self, layer: str, request: PageRequest) -> RecordPage:
        """`query`'s page as records, in one statement (the page and its capped count) on an autocommit
        connection: one round trip to PostgreSQL, where the frame path takes five or six."""
        spec = get_layer(layer)
        plan = _page_plan(spec, request)
        rows = self._readers.fetch(plan.with_count(), {**plan.params, "cap": COUNT_LIMIT + 1})
        counted = int(rows[0][-1])
        page = [row[:-1] for row in rows if row[0] is not None]  # an empty page: one row of nulls
        records = _records_of(spec, page)
        more = request.limit is not None and len(records) > request.limit
        records = records.head(request.limit)
        if request.before is not None:  # read backwards from the cursor
            records = records.reversed()
        matched = plan.known(len(records), more)
        if matched is None:
            matched = counted if counted <= COUNT_LIMIT else None
        return RecordPage(records, matched, more)

    def read_records(self, layer: str, codes: Sequence[str]) -> Records:
        spec = get_layer(layer)
        where, params = _where(None, codes, {})
        return _records_of(spec, self._readers.fetch(_select_sql(spec, where) + " ORDER BY code", params))

    def _rows(self, spec: Layer, where: list[str], params: dict[str, object], tail: str) -> gpd.GeoDataFrame:
        """The layer's rows meeting `where`, then `tail` (order, page), through the pooled connection."""
        return self._select(spec, _select_sql(spec, where) + tail, params)

    def _select(self, spec: Layer, sql: str, params: Mapping[str, object]) -> gpd.GeoDataFrame:
        """Rows of `sql` (the spec's fields, then the geometry as WKB) decoded from binary COPY."""
        with self._cursor() as cur:
            return _copy_rows(cur, spec, sql, params)

    def read_columns(self, layer: str, columns: Sequence[str]) -> gpd.GeoDataFrame:
        types = arrow_types(layer, columns)  # also the allow-list of the names put into the SQL
        sql = (
            f"COPY (SELECT {', '.join(columns)}, encode(ST_AsBinary(geometry), 'hex') AS wkb "
            f"FROM {get_layer(layer).name} ORDER BY code) TO STDOUT (FORMAT csv, HEADER)"
        )
        with self._cursor() as cur, cur.copy(sql) as copy:
            data = b"".join(bytes(block) for block in copy)
        table = pacsv.read_csv(
            io.BytesIO(data),
            convert_options=pacsv.ConvertOptions(
                column_types={**types, "wkb": pa.string()},
                true_values=["t"],
                false_values=["f"],
                strings_can_be_null=True,
            ),
        )
        return arrow_frame(layer, table, columns, table["wkb"])  # hex WKB: shapely reads it as it is

    def _select_arrow(
        self, spec: Layer, where: list[str], params: dict[str, object], tail: str
    ) -> gpd.GeoDataFrame:
        """Like `_rows`, for many rows: ADBC's libpq driver reads binary COPY into Arrow in C++.

        psycopg hands COPY output to Python one row at a time, which at a city's
        5 million households costs more than the server's own work.
        """
        sql = f"SELECT {', '.join(spec.field_names)}, ST_AsBinary(geometry) AS wkb FROM {spec.name}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        numbered, values = _numbered(sql + tail, params)
        try:
            with adbc.connect(self._libpq_url) as conn, conn.cursor() as cur:
                cur.execute(numbered, parameters=values)
                table = cur.fetch_arrow_table()
        except adbc.Error as exc:
            raise StoreError(f"{self.url}: {driver_reason(exc)}") from None
        if table.num_rows == 0:
            return empty_frame(spec)
        frame = table.drop_columns(["wkb"]).to_pandas(types_mapper=_PANDAS_TYPES.get)
        return gpd.GeoDataFrame(frame, geometry=geometries(table.column("wkb")), crs=WGS84_CRS)

    def extent(self, layer: str) -> tuple[BBox | None, str | None]:
        """ST_Extent over the layer (its bounding boxes, read from the rows) and the first valid_from."""
        spec = get_layer(layer)
        first = ", min(valid_from)" if "valid_from" in spec.field_names else ", NULL"
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), f FROM "
                f"(SELECT ST_Extent(geometry) AS e{first} AS f FROM {spec.name}) AS s"
            ).fetchone()
        assert row is not None
        box = None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
        return box, row[4]

    def counts(self) -> dict[str, int]:
        sql = " UNION ALL ".join(f"SELECT '{name}', count(*) FROM {name}" for name in LAYER_NAMES)
        with self._cursor() as cur:
            return {name: int(n) for name, n in cur.execute(sql).fetchall()}

    def revision(self) -> str:
        with self._cursor() as cur:
            row = cur.execute("SELECT revision FROM gridmap_meta WHERE key = 'store'").fetchone()
        return str(row[0]) if row else "0"

    def last_modified(self) -> dict[str, dt.datetime | None]:
        with self._cursor() as cur:
            rows = dict(cur.execute("SELECT key, modified_at FROM gridmap_meta").fetchall())
        return {name: rows.get(name) for name in LAYER_NAMES}

    # -- writing -----------------------------------------------------------

    @contextmanager
    def _writers_turn(self) -> Iterator[psycopg.Cursor[Any]]:
        """A write transaction holding the writers' advisory lock; the holder's commit runs in it."""
        with self._cursor(write=True) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITERS_LOCK,))
            mark_as_gridmap(cur)
            yield cur

    @contextmanager
    def triggers_aside(self, layer: str, within: Any = None) -> Iterator[bool]:
        """`Store.triggers_aside`: `within` is a cursor in gridmap's write transaction (`_writers_turn`).

        The triggers are disabled there under a SHARE ROW EXCLUSIVE lock on the layer, which
        every INSERT, UPDATE or DELETE of another session waits for until the commit, by when
        they are enabled again: other sessions never see them disabled (the catalogue is
        transactional). The lock is asked for without waiting: an external writer already
        queued on the layer holds a lock that would wait for our advisory lock, a deadlock
        PostgreSQL would break by failing that writer, so then (and while autovacuum works on
        the layer) the triggers simply stay, and their `WHEN` keeps them out of gridmap's write.
        """
        get_layer(layer)
        if within is not None:
            names = _set_aside(within, layer)
            yield bool(names)
            _restore(within, layer, names)  # on failure the rollback brings them back
            return
        with self._writers_turn() as cur:
            names = _set_aside(cur, layer)
        try:
            yield bool(names)
        finally:
            with self._writers_turn() as cur:
                _restore(cur, layer, names)

    def _counter(self) -> int:
        with self._cursor() as cur:
            row = cur.execute("SELECT revision FROM gridmap_meta WHERE key = 'store'").fetchone()
        return int(row[0]) if row else 0

    def _stored(self, layer: str, codes: Sequence[str] | None) -> gpd.GeoDataFrame:
        return self._read(versioned_spec(layer), codes=codes)

    def _commit(
        self,
        changes: list[LayerChange],
        author: Author,
        *,
        reverts: int | None,
        expected: int,
        turn: Any = None,
        read_back: bool = False,
    ) -> Committed | None:
        """One transaction: history first, then the rows, the revision record and the counter."""
        with nullcontext(turn) if turn is not None else self._writers_turn() as cur:
            row = cur.execute("SELECT revision FROM gridmap_meta WHERE key = 'store' FOR UPDATE").fetchone()
            if row is None or int(row[0]) != expected:
                return None
            revision = expected + 1
            cur.execute(f"SET LOCAL maintenance_work_mem = '{_INDEX_MEMORY}'")
            for change in changes:
                _supersede(cur, change, revision)
                size = (
                    len(change.whole) if change.whole is not None else len(change.rows) + len(change.deleted)
                )
                with (
                    self.triggers_aside(change.layer, cur)
                    if size >= TRIGGERS_ASIDE_FROM_ROWS
                    else nullcontext()
                ):
                    if change.whole is not None:
                        _load_layer(cur, change.layer, stamped(change.whole, revision))
                    else:
                        _apply_rows(cur, change, stamped(change.rows, revision))
            _record(cur, revision, author, {c.layer: c.counts for c in changes}, reverts)
            written: dict[str, gpd.GeoDataFrame] = {}
            for change in changes if read_back else []:
                codes = read_back_codes(change)
                if codes is not None:
                    spec = get_layer(change.layer)
                    where, params = _where(None, codes, {})
                    sql = f"SELECT {', '.join(spec.field_names)}, ST_AsBinary(geometry) FROM {spec.name}"
                    sql += " WHERE " + " AND ".join(where) + " ORDER BY code"
                    written[change.layer] = finish(spec, _copy_rows(cur, spec, sql, params))
        return revision, written

    def codes(self, layer: str) -> pa.Array:
        """The code column alone, through binary COPY into Arrow (no geometry read)."""
        spec = get_layer(layer)
        sql = f"SELECT code FROM {spec.name}"
        try:
            with adbc.connect(self._libpq_url) as conn, conn.cursor() as cur:
                cur.execute(sql)
                table = cur.fetch_arrow_table()
        except adbc.Error as exc:
            raise StoreError(f"{self.url}: {driver_reason(exc)}") from None
        return table.column("code").combine_chunks().cast(pa.large_string())

    def replace_chunks(self, layer: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        """One transaction holding the writers' turn: each chunk compared with the stored rows of its
        codes (their old versions moved to history) and COPYed; a populated layer is loaded into a
        temporary table first and swapped in at the end, after the codes no chunk held are retired.
        Indexes are rebuilt once. Boundary layers (validity dates span the layer) replace whole."""
        spec = get_layer(layer)
        if spec.versioned:
            return super().replace_chunks(layer, chunks)
        stored = versioned_spec(layer)
        author = current_author()
        try:
            with self._writers_turn() as cur:
                row = cur.execute(
                    "SELECT revision FROM gridmap_meta WHERE key = 'store' FOR UPDATE"
                ).fetchone()
                revision = int(row[0]) + 1 if row else 1
                cur.execute(f"SET LOCAL maintenance_work_mem = '{_INDEX_MEMORY}'")
                populated = bool(cur.execute(f"SELECT EXISTS (SELECT 1 FROM {layer})").fetchone()[0])  # type: ignore[index]
                drop, rebuild = _indexes(cur, layer)
                target = "gridmap_load" if populated else layer
                if populated:
                    cur.execute(
                        f"CREATE TEMP TABLE gridmap_load (LIKE {layer} INCLUDING DEFAULTS) ON COMMIT DROP"
                    )
                else:
                    for statement in drop:
                        cur.execute(statement)
                counts = {"inserted": 0, "updated": 0, "deleted": 0}
                written = 0
                for chunk in chunks:
                    data = prepare(layer, chunk)
                    before = empty_frame(stored)
                    if populated and len(data):
                        where, params = _where(None, data["code"].astype(str).tolist(), {})
                        sql = _select_sql(stored, where) + " ORDER BY code"
                        before = finish(stored, _copy_rows(cur, stored, sql, params))
                    change = change_set(layer, before, data, whole=True)
                    _supersede(cur, change, revision)
                    assert change.whole is not None
                    _copy(cur, target, stored, stamped(change.whole, revision))
                    counts["inserted"] += change.inserted
                    counts["updated"] += change.updated
                    written += len(data)
                if populated:
                    columns = ", ".join([*stored.field_names, "geometry"])
                    cur.execute(
                        f"INSERT INTO {layer}_history ({columns}, superseded, closed_on) "
                        f"SELECT {columns}, %s, NULL FROM {layer} AS l "
                        "WHERE NOT EXISTS (SELECT 1 FROM gridmap_load AS n WHERE n.code = l.code)",
                        (revision,),
                    )
                    counts["deleted"] = cur.rowcount
                    cur.execute(f"TRUNCATE {layer}")
                    for statement in drop:
                        cur.execute(statement)
                    cur.execute(f"INSERT INTO {layer} ({columns}) SELECT {columns} FROM gridmap_load")
                for statement in rebuild:
                    cur.execute(statement)
                if not any(counts.values()):
                    raise _Unchanged
                cur.execute(f"ANALYZE {layer}")
                _record(cur, revision, author, {layer: counts})
        except _Unchanged:
            return written
        receipt_revision(revision)
        return written

    def upsert_chunks(self, layer: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        return self._chunks_written(layer, chunks, create_only=False)

    def insert_chunks(self, layer: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        return self._chunks_written(layer, chunks, create_only=True)

    def _chunks_written(self, layer: str, chunks: Iterable[gpd.GeoDataFrame], *, create_only: bool) -> int:
        """One transaction holding the writers' turn: each chunk compared with the stored rows of its
        codes (read in the transaction), their old versions moved to history and its rows applied as
        `_commit` applies an upsert; one revision records them all. Boundary layers upsert whole.
        `create_only`: a stored code raises ConflictError, as `insert`, and nothing is written."""
        upsert = self._chunked_upsert(layer)
        if upsert is None:
            return (super().insert_chunks if create_only else super().upsert_chunks)(layer, chunks)
        try:
            with self._writers_turn() as cur:
                row = cur.execute(
                    "SELECT revision FROM gridmap_meta WHERE key = 'store' FOR UPDATE"
                ).fetchone()
                revision = int(row[0]) + 1 if row else 1
                for chunk in chunks:
                    data = prepare(layer, chunk)
                    if data.empty:
                        continue
                    where, params = _where(None, data["code"].astype(str).tolist(), {})
                    sql = _select_sql(upsert.stored, where) + " ORDER BY code"
                    before = finish(upsert.stored, _copy_rows(cur, upsert.stored, sql, params))
                    if create_only and len(before):
                        raise ConflictError.taken(layer, before["code"].astype(str).tolist())
                    change = change_set(layer, before, data, whole=False)
                    _supersede(cur, change, revision)
                    big = len(change.rows) >= TRIGGERS_ASIDE_FROM_ROWS
                    with self.triggers_aside(layer, cur) if big else nullcontext():
                        _apply_rows(cur, change, stamped(change.rows, revision))
                    upsert.add(change, len(data))
                if not any(upsert.counts.values()):
                    raise _Unchanged
                _record(cur, revision, upsert.author, {layer: upsert.counts})
        except _Unchanged:
            return upsert.written
        receipt_revision(revision)
        return upsert.written

    def _retired(self, layer: str, codes: Sequence[str]) -> gpd.GeoDataFrame:
        spec = get_layer(layer)
        sql = (
            f"SELECT DISTINCT ON (code) {', '.join(spec.field_names)}, ST_AsBinary(geometry) "
            f"FROM {layer}_history WHERE closed_on IS NOT NULL AND code = ANY(%(codes)s) "
            "ORDER BY code, superseded DESC"
        )
        return finish(spec, self._select(spec, sql, {"codes": [str(c) for c in codes]}))

    def _revision_rows(self, layer: str, revision: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        spec = versioned_spec(layer)
        columns = f"{', '.join(spec.field_names)}, ST_AsBinary(geometry)"
        before = self._select(
            spec, f"SELECT {columns} FROM {layer}_history WHERE superseded = %(r)s", {"r": revision}
        )
        after = self._select(
            spec,
            f"SELECT {columns} FROM {layer} WHERE revision = %(r)s "
            f"UNION ALL SELECT {columns} FROM {layer}_history WHERE revision = %(r)s",
            {"r": revision},
        )
        return finish(spec, before), finish(spec, after)

    def _last_touch(self, layer: str, codes: Sequence[str]) -> dict[str, int]:
        get_layer(layer)
        sql = f"""
            SELECT code, max(r) FROM (
                SELECT code, revision AS r FROM {layer} WHERE code = ANY(%(c)s)
                UNION ALL SELECT code, revision FROM {layer}_history WHERE code = ANY(%(c)s)
                UNION ALL SELECT code, superseded FROM {layer}_history WHERE code = ANY(%(c)s)
            ) touched GROUP BY code
        """
        with self._cursor() as cur:
            return {code: int(r) for code, r in cur.execute(sql, {"c": [str(c) for c in codes]}).fetchall()}

    def _revisions(
        self,
        *,
        ids: Sequence[int] | None = None,
        layer: str | None = None,
        code: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[Revision]:
        where: list[str] = ["true"]
        params: dict[str, object] = {}
        if ids is not None:
            where.append("id = ANY(%(ids)s)")
            params["ids"] = [int(i) for i in ids]
        if layer is not None:
            get_layer(layer)
            where.append("layers @> ARRAY[%(layer)s]::text[]")
            params["layer"] = layer
        if since is not None:
            where.append("at >= %(since)s")
            params["since"] = since if since.tzinfo else since.astimezone()
        if layer is not None and code is not None:
            where.append(
                f"id IN (SELECT revision FROM {layer} WHERE code = %(code)s "
                f"UNION SELECT revision FROM {layer}_history WHERE code = %(code)s "
                f"UNION SELECT superseded FROM {layer}_history WHERE code = %(code)s)"
            )
            params["code"] = code
        sql = (
            "SELECT id, at, author, role, command, reverts, counts FROM gridmap_revisions "
            f"WHERE {' AND '.join(where)} ORDER BY id DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [
            Revision(int(i), at, who, role, cmd, rev, counts) for i, at, who, role, cmd, rev, counts in rows
        ]

    def read_as_of(self, layer: str, date: str) -> gpd.GeoDataFrame:
        spec = get_layer(layer)
        if not spec.versioned:
            raise StoreError(f"{layer} keeps no boundary versions; only streets, communities and grids do")
        names = [name for name in spec.field_names if name != "valid_to"]
        wide = dataclasses.replace(
            spec, fields=(*(f for f in spec.fields if f.name != "valid_to"), *_AS_OF_FIELDS)
        )
        valid = "(valid_from IS NULL OR valid_from <= %(d)s)"
        sql = f"""
            SELECT {", ".join(names)}, NULL::text, 1::bigint, 0::bigint, ST_AsBinary(geometry)
                FROM {layer} WHERE {valid}
            UNION ALL
            SELECT {", ".join(names)}, closed_on, 0, superseded, ST_AsBinary(geometry)
                FROM {layer}_history WHERE closed_on > %(d)s AND {valid}
        """
        table = self._select(wide, sql, {"d": parse_date(date)})
        return in_force(spec, table)


class _Unchanged(Exception):
    """A chunked replace that changed nothing: its transaction is rolled back, no revision recorded."""


@dataclasses.dataclass(frozen=True)
class _PagePlan:
    """A page's SQL (one row past its limit, to tell whether more follow) and what counts its selection."""

    spec: Layer
    sql: str
    params: dict[str, object]
    conditions: list[str]
    order: str
    offset: int
    keyset: bool

    def known(self, returned: int, more: bool) -> int | None:
        """`matched` when the page itself tells it (an offset page with nothing after it), else None."""
        return None if self.keyset else matched_from_page(self.offset, returned, more)

    def with_count(self) -> str:
        """The page and the selection's count (capped at `%(cap)s`) in one statement, in page order."""
        count = f"SELECT 1 FROM {self.spec.name}" + (
            " WHERE " + " AND ".join(self.conditions) if self.conditions else ""
        )
        return (
            f"WITH page AS ({self.sql}), matched AS (SELECT count(*) AS n FROM ({count} LIMIT %(cap)s) AS s)"
            f" SELECT page.*, matched.n FROM matched LEFT JOIN page ON true ORDER BY {self.order}"
        )


def _page_plan(spec: Layer, request: PageRequest) -> _PagePlan:
    """The SQL of a `query` page; names come from the catalogue, values are bound."""
    by, cursor, equals = request.checked(spec)
    limit, offset = request.limit, request.offset
    conditions, params = _where(request.bbox, request.codes, equals)
    if request.where is not None:
        sql_condition, bound = to_postgres(request.where)
        conditions.append(f"({sql_condition})")
        params.update(bound)
    page_conditions = list(conditions)
    descending = by.descending
    if cursor is not None:
        # The primary key's B-tree starts at the cursor: no row before it is read.
        page_conditions.append("code < %(cursor)s" if cursor.backwards else "code > %(cursor)s")
        params["cursor"] = cursor.bound
        descending = cursor.backwards
    # Code is never null: plain ORDER BY code walks the primary key either way.
    nulls = "" if by.name == "code" else " NULLS LAST"
    key = f"{by.name} {'DESC' if descending else 'ASC'}{nulls}"
    tail = f" ORDER BY {key}, code LIMIT %(limit)s OFFSET %(offset)s"
    params |= {"limit": None if limit is None else limit + 1, "offset": offset}
    sql = _select_sql(spec, page_conditions) + tail
    return _PagePlan(spec, sql, params, conditions, f"page.{key}, page.code", offset, cursor is not None)


def _select_sql(spec: Layer, where: list[str]) -> str:
    """SELECT of the layer's fields and WKB geometry meeting `where` (names from the catalogue)."""
    sql = f"SELECT {', '.join(spec.field_names)}, ST_AsBinary(geometry) FROM {spec.name}"
    return sql + (" WHERE " + " AND ".join(where) if where else "")


def _count(cur: psycopg.Cursor[Any], layer: str, where: list[str], params: dict[str, object]) -> int | None:
    """How many rows meet `where`, counted no further than COUNT_LIMIT (None beyond)."""
    sql = f"SELECT 1 FROM {layer}" + (" WHERE " + " AND ".join(where) if where else "")
    row = cur.execute(f"SELECT count(*) FROM ({sql} LIMIT %(cap)s) AS s", {**params, "cap": COUNT_LIMIT + 1})
    n = int(row.fetchone()[0])  # type: ignore[index]
    return n if n <= COUNT_LIMIT else None


def _copy_rows(
    cur: psycopg.Cursor[Any], spec: Layer, sql: str, params: Mapping[str, object]
) -> gpd.GeoDataFrame:
    """Rows of `sql` (the spec's fields, then the geometry as WKB) in `cur`'s transaction, by binary COPY."""
    # COPY takes no server-side parameters: psycopg binds these client-side, quoted by the driver.
    with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)", params) as copy:
        blocks = [bytes(block) for block in copy]  # one block per row: the row boundaries come free
    return _frame_from_copy(spec, blocks)


def _records_of(spec: Layer, rows: Sequence[Sequence[Any]]) -> Records:
    """Rows of the spec's fields, then the geometry as WKB, as records: a page's few rows cost their
    values, not a frame's construction."""
    wkb = np.array([row[len(spec.fields)] for row in rows], dtype=object)
    return Records.of_stored(spec, [row[: len(spec.fields)] for row in rows], shapely.from_wkb(wkb))


def _numbered(sql: str, params: dict[str, object]) -> tuple[str, tuple[object, ...]]:
    """`%(name)s` placeholders as libpq's `$n` and their values in that order (each name bound once)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql), tuple(params[name] for name in names)


def _where(
    bbox: BBox | None, codes: Sequence[str] | None, equals: Mapping[str, Value]
) -> tuple[list[str], dict[str, object]]:
    """SQL conditions with bound parameters; column names come from the catalogue, never the caller."""
    where: list[str] = []
    params: dict[str, object] = {}
    if bbox is not None:
        boxes = []
        for i, part in enumerate(bbox_parts(bbox)):  # two across the antimeridian
            envelope = f"ST_MakeEnvelope(%(x0_{i})s, %(y0_{i})s, %(x1_{i})s, %(y1_{i})s, 4326)"
            boxes.append(f"(geometry && {envelope} AND ST_Intersects(geometry, {envelope}))")
            names = (f"x0_{i}", f"y0_{i}", f"x1_{i}", f"y1_{i}")
            params.update(zip(names, (float(v) for v in part), strict=True))
        where.append(boxes[0] if len(boxes) == 1 else f"({' OR '.join(boxes)})")
    if codes is not None:
        where.append("code = ANY(%(codes)s)")
        # PostgreSQL text cannot hold NUL, so no stored code has one: such a code matches nothing.
        params["codes"] = [str(c) for c in codes if "\x00" not in str(c)]
    for i, (name, value) in enumerate(equals.items()):
        if isinstance(value, str) and "\x00" in value:  # nor any stored text: nothing matches
            where.append("FALSE")
            continue
        where.append(f"{name} = %(eq{i})s")
        params[f"eq{i}"] = value
    return where, params


def _indexes(cur: psycopg.Cursor[Any], layer: str) -> tuple[list[str], list[str]]:
    """Statements that drop the layer's indexes and key constraints, and those that rebuild them.

    Read from the catalog rather than written here, so they follow whatever
    the migrations made. Building an index once after the load is much faster
    than maintaining it row by row during COPY.
    """
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
        (layer,),
    )
    constraints = cur.fetchall()
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
        (layer,),
    )
    keys = {name for name, _ in constraints}
    indexes = [(name, definition) for name, definition in cur.fetchall() if name not in keys]
    drop = [f'ALTER TABLE {layer} DROP CONSTRAINT "{name}"' for name, _ in constraints]
    drop += [f'DROP INDEX "{name}"' for name, _ in indexes]
    rebuild = [
        f'ALTER TABLE {layer} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints
    ]
    rebuild += [definition for _, definition in indexes]
    return drop, rebuild


def _copy(cur: psycopg.Cursor[Any], table: str, spec: Layer, frame: gpd.GeoDataFrame) -> None:
    """COPY a prepared frame into `table` in the binary format, built column-wise by Arrow."""
    columns = [*spec.field_names, "geometry"]
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)"
    with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        copy.write(_COPY_HEADER)
        for start in range(0, len(frame), _CHUNK_ROWS):
            copy.write(binary_rows(spec, frame.iloc[start : start + _CHUNK_ROWS]))
        copy.write(_COPY_TRAILER)


def binary_rows(spec: Layer, frame: gpd.GeoDataFrame) -> pa.Buffer:
    """The frame's rows in COPY's binary format, without header or trailer.

    A row is a 16-bit field count, then per field a 32-bit length (-1 for
    null) and the value's bytes (big-endian numbers, UTF-8 text, EWKB). Each
    piece is an Arrow binary column and one element-wise join lays them out
    row after row, so no Python runs per row and the server parses no text.
    """
    parts = [_words(np.full(len(frame), len(spec.fields) + 1, dtype=">i2"))]
    for f in spec.fields:
        if f.type == "text":
            parts += _sized(
                pa.array(frame[f.name], type=pa.large_string(), from_pandas=True).cast(pa.large_binary())
            )
        else:
            column = frame[f.name]
            values = column.to_numpy(dtype=_NUMPY_TYPES[f.type], na_value=0).astype(_WIRE_TYPES[f.type])
            valid = pa.array(column.notna().to_numpy()).buffers()[1]
            width = values.dtype.itemsize
            fixed = pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(width), len(values), [valid, pa.py_buffer(values)]
            )
            parts += _sized(fixed.cast(pa.large_binary()))
    parts += _sized(ewkb(geoms_of(frame)))
    rows = pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.large_binary()))
    if isinstance(rows, pa.ChunkedArray):  # text columns of concatenated frames arrive in chunks
        rows = rows.combine_chunks()
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
    return rows.buffers()[2].slice(int(offsets[0]), int(offsets[len(rows)] - offsets[0]))


def _sized(values: pa.Array) -> list[pa.Array]:
    """A binary column as COPY wants it: each value's length word (-1 for null), then its bytes."""
    lengths = pc.binary_length(values).fill_null(-1).to_numpy(zero_copy_only=False).astype(">i4")
    return [_words(lengths), values.fill_null(b"")]


def _words(values: np.ndarray) -> pa.Array:
    """Fixed-width big-endian numbers as a binary column (one element per row)."""
    width = values.dtype.itemsize
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(values), [None, pa.py_buffer(values)])
    return fixed.cast(pa.large_binary())


def ewkb(geoms: np.ndarray, srid: int = 4326) -> pa.Array:
    """EWKB of each geometry (null stays null), as PostGIS reads it, built in bulk.

    shapely writes little-endian WKB for the whole array at once; the SRID is
    spliced in after the type word (which gets the EWKB SRID flag) by numpy,
    several times faster than asking shapely to set and write SRIDs. Layers
    of 2D points skip WKB altogether: their rows are a fixed header and x, y.
    """
    present = ~shapely.is_missing(geoms)
    kinds = shapely.get_type_id(geoms[present])
    if (kinds == _POINT).all() and not shapely.has_z(geoms[present]).any():
        return _point_ewkb(geoms, present, srid)
    wkb = pa.array(shapely.to_wkb(geoms, byte_order=1), type=pa.large_binary(), from_pandas=True)
    validity, offsets_buffer, data_buffer = wkb.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[: len(wkb) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    present = np.diff(offsets) > 0
    rows = np.flatnonzero(present)
    new_offsets = offsets - offsets[0]
    new_offsets[1:] += 4 * np.cumsum(present)
    out = np.empty(int(new_offsets[-1]), dtype=np.uint8)
    slots = (new_offsets[rows, None] + np.arange(5, 9)).ravel()
    keep = np.ones(len(out), dtype=bool)
    keep[slots] = False
    out[keep] = data[offsets[0] : offsets[-1]]
    out[new_offsets[rows] + 4] |= 0x20
    out[slots] = np.tile(np.frombuffer(struct.pack("<I", srid), dtype=np.uint8), len(rows))
    buffers = [validity, pa.py_buffer(new_offsets), pa.py_buffer(out)]
    return pa.Array.from_buffers(pa.large_binary(), len(wkb), buffers, null_count=wkb.null_count)


def _point_ewkb(geoms: np.ndarray, present: np.ndarray, srid: int) -> pa.Array:
    """EWKB of 2D points (and nulls) straight from their coordinates."""
    xy = shapely.get_coordinates(geoms[present]).astype("<f8")
    rows = np.empty((len(xy), 25), dtype=np.uint8)
    rows[:, :9] = np.frombuffer(struct.pack("<BII", 1, 0x20000001, srid), dtype=np.uint8)
    rows[:, 9:] = xy.view(np.uint8).reshape(-1, 16)
    offsets = np.zeros(len(geoms) + 1, dtype=np.int64)
    np.cumsum(np.where(present, 25, 0), out=offsets[1:])
    validity = None if present.all() else pa.array(present).buffers()[1]
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(rows)]
    return pa.Array.from_buffers(pa.large_binary(), len(geoms), buffers, null_count=int((~present).sum()))


def _frame_from_copy(spec: Layer, blocks: list[bytes]) -> gpd.GeoDataFrame:
    """Decode binary COPY output column by column with numpy (the rows' starts are the blocks' starts)."""
    data = np.frombuffer(b"".join(blocks), dtype=np.uint8)
    starts = np.cumsum([0, *(len(block) for block in blocks[:-1])], dtype=np.int64)
    starts[0] = len(_COPY_HEADER)
    starts = starts[starts + 2 <= len(data)]
    starts = starts[_read_be(data, starts, ">i2") >= 0]  # drop the trailer (field count -1)
    if not len(starts):
        return empty_frame(spec)
    columns: list[list[pa.Array]] = [[] for _ in range(len(spec.fields) + 1)]
    for first in range(0, len(starts), _CHUNK_ROWS):
        position = starts[first : first + _CHUNK_ROWS] + 2
        for i, f in enumerate([*spec.fields, None]):
            lengths = _read_be(data, position, ">i4")
            kind = f.type if f is not None else "geometry"
            columns[i].append(_decode(data, position + 4, lengths, kind))
            position = position + 4 + np.maximum(lengths, 0)
    arrays = [pa.chunked_array(chunks) for chunks in columns]
    table = pa.Table.from_arrays(arrays[:-1], names=spec.field_names)
    frame = table.to_pandas(types_mapper=_PANDAS_TYPES.get)
    return gpd.GeoDataFrame(frame, geometry=geometries(arrays[-1]), crs=WGS84_CRS)


def _read_be(data: np.ndarray, at: np.ndarray, dtype: str) -> np.ndarray:
    """The big-endian number of type `dtype` at each position in `at`."""
    width = np.dtype(dtype).itemsize
    return data[at[:, None] + np.arange(width)].copy().view(dtype).ravel().astype(dtype[1:])


def _decode(data: np.ndarray, at: np.ndarray, lengths: np.ndarray, kind: str) -> pa.Array:
    """One column of a chunk of rows: values of `lengths` bytes (-1: null) at positions `at`."""
    valid = lengths >= 0
    validity = pa.array(valid).buffers()[1] if not valid.all() else None
    if kind in _WIRE_TYPES:
        values = data[at[:, None] + np.arange(np.dtype(_WIRE_TYPES[kind]).itemsize)] if len(at) else data[:0]
        values = values.copy().view(_WIRE_TYPES[kind]).ravel().astype(_NUMPY_TYPES[kind])
        values[~valid] = 0
        return pa.Array.from_buffers(
            _ARROW_TYPES[kind], len(at), [validity, pa.py_buffer(_bits_or_bytes(values))]
        )
    sizes = np.maximum(lengths, 0)
    offsets = np.zeros(len(at) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    gather = np.repeat(at - offsets[:-1], sizes) + np.arange(offsets[-1])
    kind_type = pa.large_binary() if kind == "geometry" else pa.large_string()
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(data[gather])]
    return pa.Array.from_buffers(kind_type, len(at), buffers)


def _bits_or_bytes(values: np.ndarray) -> np.ndarray:
    """Arrow keeps booleans as bits, numbers as themselves."""
    return np.packbits(values, bitorder="little") if values.dtype == np.bool_ else values


def _supersede(cur: psycopg.Cursor[Any], change: LayerChange, revision: int) -> None:
    """Move the stored rows this change replaces or deletes to the layer's history table.

    One statement per closing date (a write has one or two; none outside the
    boundary layers), its codes as one array parameter: no Python per row.
    """
    columns = ", ".join([*versioned_spec(change.layer).field_names, "geometry"])
    sql = (
        f"INSERT INTO {change.layer}_history ({columns}, superseded, closed_on) "
        f"SELECT {columns}, %s, %s FROM {change.layer} WHERE code = ANY(%s)"
    )
    for closed_on, codes in closing_groups(change):
        cur.execute(sql, (revision, closed_on, codes))


def _set_aside(cur: psycopg.Cursor[Any], layer: str) -> list[str]:
    """Disable the layer's enabled change triggers (migration 0006) if its lock is free now; their names."""
    cur.execute("SAVEPOINT gridmap_aside")
    try:
        cur.execute(f"LOCK TABLE {layer} IN SHARE ROW EXCLUSIVE MODE NOWAIT")
    except psycopg.errors.LockNotAvailable:
        cur.execute("ROLLBACK TO SAVEPOINT gridmap_aside")
        return []
    cur.execute("RELEASE SAVEPOINT gridmap_aside")
    names = [
        str(row[0])
        for row in cur.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
            "AND tgname LIKE 'gridmap\\_external\\_%%' AND tgenabled <> 'D' ORDER BY tgname",
            (layer,),
        )
    ]
    for name in names:
        cur.execute(f'ALTER TABLE {layer} DISABLE TRIGGER "{name}"')
    return names


def _restore(cur: psycopg.Cursor[Any], layer: str, names: list[str]) -> None:
    for name in names:
        cur.execute(f'ALTER TABLE {layer} ENABLE TRIGGER "{name}"')


def _load_layer(cur: psycopg.Cursor[Any], layer: str, data: gpd.GeoDataFrame) -> None:
    """Empty the layer and COPY its new content; a big load drops the indexes and rebuilds them after."""
    drop, rebuild = _indexes(cur, layer) if len(data) >= _REBUILD_FROM_ROWS else ([], [])
    cur.execute(f"TRUNCATE {layer}")
    for statement in drop:
        cur.execute(statement)
    _copy(cur, layer, versioned_spec(layer), data)
    for statement in rebuild:
        cur.execute(statement)
    cur.execute(f"ANALYZE {layer}")


def _apply_rows(cur: psycopg.Cursor[Any], change: LayerChange, rows: gpd.GeoDataFrame) -> None:
    """Delete the change's codes, then insert or update its rows through a COPY-filled temporary table."""
    layer = change.layer
    if change.deleted:
        cur.execute(f"DELETE FROM {layer} WHERE code = ANY(%s)", (change.deleted,))
    if not len(rows):
        return
    spec = versioned_spec(layer)
    columns = [*spec.field_names, "geometry"]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "code")
    cur.execute(f"CREATE TEMP TABLE gridmap_upsert (LIKE {layer} INCLUDING DEFAULTS) ON COMMIT DROP")
    _copy(cur, "gridmap_upsert", spec, rows)
    cur.execute(
        f"INSERT INTO {layer} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM gridmap_upsert "
        f"ON CONFLICT (code) DO UPDATE SET {updates}"
    )
    cur.execute("DROP TABLE gridmap_upsert")


def _record(
    cur: psycopg.Cursor[Any],
    revision: int,
    author: Author,
    counts: dict[str, dict[str, int]],
    reverts: int | None = None,
) -> None:
    """Record `revision` (who, what it reverts, its counts per layer) and advance the store to it."""
    cur.execute(
        "INSERT INTO gridmap_revisions (id, author, role, command, reverts, layers, counts) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (revision, author.name, author.role, author.command, reverts, list(counts), json.dumps(counts)),
    )
    _bump(cur, list(counts))


def _bump(cur: psycopg.Cursor[Any], layers: list[str]) -> None:
    """Advance the store revision and stamp the changed layers, inside the writing transaction."""
    cur.execute(
        "UPDATE gridmap_meta SET revision = revision + 1, modified_at = now() "
        "WHERE key = 'store' OR key = ANY(%s)",
        (layers,),
    )
