"""The embedded store: one GeoPackage file, one table per catalogue layer.

Writes edit the file in place inside one SQLite transaction (write-ahead log,
synchronous commits), so an edit costs what it touches, readers keep reading
the last committed state, and a crash (even kill -9) leaves the old or the
new state, never a mix. Rows are written with sqlite3 directly as GeoPackage
geometry blobs, serving the few ST_ functions the R-tree triggers call; a
whole-layer replace sets the triggers aside and fills the R-tree in bulk.
Each layer has a `<layer>_history` table beside it (rows superseded by a
revision) and `gridmap_revisions` records who wrote what. Only a new file (or
missing layers) is created through GDAL, on a copy renamed into place.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from gridmap.catalogue import LAYER_NAMES, Layer, get_layer
from gridmap.changes import REVISION, LayerChange, change_set, closing_groups, stamped, versioned_spec
from gridmap.errors import ConflictError, StoreError
from gridmap.frames import WGS84_CRS, empty_frame
from gridmap.history import Author, Revision, current_author
from gridmap.stores import gpkg_triggers, gpkg_version, party_checks
from gridmap.stores._frames import (
    Committed,
    PreparingStore,
    accepted_geometries,
    arrow_frame,
    arrow_types,
    finish,
    geoms_of,
    in_force,
    prepare,
    read_back_codes,
)
from gridmap.stores._gate import gate
from gridmap.stores.base import TRIGGERS_ASIDE_FROM_ROWS, BBox, receipt_revision
from gridmap.stores.conditions import to_sqlite
from gridmap.stores.gpkg_watch import Watch
from gridmap.stores.query import (
    COUNT_LIMIT,
    Page,
    PageRequest,
    RecordPage,
    Records,
    Value,
    bbox_parts,
    bbox_shape,
    matched_from_page,
)
from gridmap.stores.settling import settled_grids
from gridmap.stores.wkb import gpkg_geometries
from gridmap.versions import parse_date

if TYPE_CHECKING:
    from gridmap.stores.cases import CaseBook
    from gridmap.stores.feed import BookFeed
    from gridmap.stores.party import PartyBook
    from gridmap.stores.visits import VisitBook

log = logging.getLogger(__name__)

META = "gridmap_meta"
GEOMETRY_COLUMN = "geom"
SRS_ID = 4326
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
_POINT = shapely.GeometryType.POINT
_SYNC_OPTION = "OGR_SQLITE_SYNCHRONOUS"
_READ_THREADS_OPTION = "OGR_GPKG_NUM_THREADS"
_BATCH = 2_048  # candidates of a bbox page tested per round
REVISIONS = "gridmap_revisions"
BOOK_TABLES = (
    "cases",
    "case_events",
    "case_requests",
    "visits",
    "patrols",
    "case_keys",
    "household_care",
    "party_orgs",
    "party_units",
    "party_members",
    "party_links",
    "party_point_rules",
    "party_points",
    "party_funds",
    "party_units_history",
    "party_members_history",
    "party_links_history",
    "party_points_history",
    "party_funds_history",
    "book_feed",
)
"""The books' attribute tables (`gridmap.stores.cases`, `.visits`, `.party`, `.feed`): writing to them
moves no layer revision."""
_NOT_LAYERS = ", ".join(f"'{name}'" for name in BOOK_TABLES)
_SCRATCH = {name: f"load_{i}" for i, name in enumerate(LAYER_NAMES)}  # schema names of attached loads
_BUSY_SECONDS = 60.0  # how long a writer waits for another's transaction before giving up
_SQLITE_TYPES = {"text": "TEXT", "integer": "INTEGER", "real": "REAL", "boolean": "BOOLEAN"}


def _read_on_every_core() -> None:
    """Let GDAL read a layer's Arrow batches on up to four threads (its opt-in; unless set already).

    A whole 5-million-household layer reads in 1.1 s instead of 2.0 s on two cores. GDAL
    falls back to one thread by itself where feature ids have holes.
    """
    if pyogrio.get_gdal_config_option(_READ_THREADS_OPTION) is None:
        pyogrio.set_gdal_config_options({_READ_THREADS_OPTION: str(min(4, os.cpu_count() or 1))})


_read_on_every_core()


def _ogr_geometry_type(spec: Layer) -> str:
    """The declared GeoPackage geometry type: generic GEOMETRY where several types are accepted."""
    return spec.geometry if len(accepted_geometries(spec)) == 1 else "Unknown"


SMALL_READ = 2_000
"""Up to this many rows, a bbox read goes through SQLite and the R-tree (no GDAL open)."""


class GeoPackageStore(PreparingStore):
    """A GeoPackage file; created with all seven (empty) layers when it does not exist."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(os.path.abspath(path))
        self.url = str(self.path)
        self._case_book: CaseBook | None = None
        self._visit_book: VisitBook | None = None
        self._party_book: PartyBook | None = None
        self._book_feed: BookFeed | None = None
        self._watch = Watch(self.path)  # revision, feed and settling asked of the file only when it moved
        if not self.path.parent.is_dir():
            raise StoreError(f"cannot create store {self.url}: directory {self.path.parent} does not exist")
        self._remove_stale_copies()
        if self._missing_tables():
            self._create()
        with _sqlite(self.path, readonly=True) as conn:
            ready = _schema_ready(conn)
        if not ready:
            with _sqlite(self.path, transaction=True) as conn:
                _upgrade(conn)
        self.settle()  # before anything reads the store: external edits get their derived fields

    def _remove_stale_copies(self) -> None:
        """Delete private copies left beside the store by a writer killed mid-write (kill -9, power loss).

        A writer holds the directory lock for as long as its copy exists, so a
        copy found while holding the lock has no writer left. When a writer is
        busy the lock is not waited for: the next open cleans up instead.
        """
        stale = re.compile(
            rf"\.{re.escape(self.path.stem)}\.[a-z0-9_]{{8}}\.(tmp|load)\.gpkg(-journal|-wal|-shm)?"
        )
        with _locked(self.path.parent, wait=False) as held:
            if not held:
                return
            for entry in self.path.parent.iterdir():
                if stale.fullmatch(entry.name):
                    entry.unlink(missing_ok=True)

    def case_book(self) -> CaseBook:
        """The file's case tables (created on first use), written the way every write of this store is."""
        if self._case_book is None:
            from gridmap.stores.cases import CaseBook  # SQLAlchemy: only a store's cases need it

            self._case_book = CaseBook.for_geopackage(self.path, self.writing)
        return self._case_book

    def visit_book(self) -> VisitBook:
        """The file's visit tables (created on first use), written the way every write of this store is."""
        if self._visit_book is None:
            from gridmap.stores.visits import VisitBook

            self._visit_book = VisitBook.for_geopackage(self.path, self.writing)
        return self._visit_book

    def book_feed(self) -> BookFeed:
        """The file's book feed (made by the first write of a visit or party book; empty until then)."""
        if self._book_feed is None:
            from gridmap.stores.feed import BookFeed

            self._book_feed = BookFeed.for_geopackage(self.path, self._watch)
        return self._book_feed

    def party_book(self) -> PartyBook:
        """The file's party tables (created on first use), written the way every write of this store is."""
        if self._party_book is None:
            from gridmap.stores.party import PartyBook

            self._party_book = PartyBook.for_geopackage(self.path, self.writing)
        return self._party_book

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the store itself, as every write of this store makes it."""
        with _sqlite(self.path, transaction=True) as conn:
            yield conn

    def _missing_tables(self) -> list[str]:
        if not self.path.exists():
            return list(LAYER_NAMES)
        try:
            with _sqlite(self.path, readonly=True) as conn:
                tables = {row[0] for row in conn.execute("SELECT table_name FROM gpkg_contents")}
                tables |= {
                    row[0] for row in conn.execute(f"SELECT name FROM sqlite_master WHERE name = '{META}'")
                }
        except StoreError as exc:
            raise StoreError(f"{self.url} is not a GeoPackage ({exc})") from None
        return [name for name in (*LAYER_NAMES, META) if name not in tables]

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
        layer = spec.name
        if codes is None and bbox is not None:
            near = self._rows_near(spec, bbox)
            if near is not None:
                return near
        try:
            if codes is None:
                parts = [None] if bbox is None else bbox_parts(bbox)  # two across the antimeridian
                with gate(self.path).held("other"):
                    frames = [
                        pyogrio.read_dataframe(self.path, layer=layer, bbox=box, use_arrow=True)
                        for box in parts
                    ]
                frame = frames[0] if len(frames) == 1 else pd.concat(frames).drop_duplicates("code")
            else:
                # Through SQLite, never GDAL: a read-only GDAL open that finds no write-ahead log
                # (a writer just folded it back) falls back to an immutable open, which can read a
                # stale file, and a write deciding on stale rows would overwrite silently.
                return self._rows(spec, codes, bbox)
        except (DataSourceError, DataLayerError) as exc:
            raise StoreError(f"cannot read {layer} from {self.url}: {exc}") from None
        if bbox is not None:
            # The R-tree narrowed the read; this exact test also drops null geometries GDAL lets through.
            frame = frame[shapely.intersects(geoms_of(frame), bbox_shape(bbox))]
        return finish(spec, frame)

    def read_columns(self, layer: str, columns: Sequence[str]) -> gpd.GeoDataFrame:
        arrow_types(layer, columns)
        try:
            with gate(self.path).held("other"):
                meta, table = pyogrio.read_arrow(self.path, layer=layer, columns=list(columns))
        except (DataSourceError, DataLayerError) as exc:
            raise StoreError(f"cannot read {layer} from {self.url}: {exc}") from None
        return arrow_frame(layer, table, columns, table[meta["geometry_name"] or "wkb_geometry"])

    def query_page(self, layer: str, request: PageRequest) -> Page:
        spec = get_layer(layer)
        with self._paged(spec, request) as (conn, fids, matched, more):
            # The rows in the same transaction as their ids: one open of the file, every id still there.
            return Page(_by_fids(conn, spec, fids), matched, more)

    def query_records(self, layer: str, request: PageRequest) -> RecordPage:
        spec = get_layer(layer)
        with self._paged(spec, request) as (conn, fids, matched, more):
            return RecordPage(_records_by_fids(conn, spec, fids), matched, more)

    def read_records(self, layer: str, codes: Sequence[str]) -> Records:
        spec = get_layer(layer)
        columns = ", ".join(f'"{c}"' for c in [*spec.field_names, GEOMETRY_COLUMN])
        wanted = [str(c) for c in codes]
        with _sqlite(self.path, readonly=True) as conn:
            rows = conn.execute(
                f'SELECT {columns} FROM "{spec.name}" WHERE code IN (SELECT value FROM json_each(?))'
                " ORDER BY code",
                (_json_list(codes),),
            ).fetchall()
        code = spec.field_names.index("code")
        rows = [row for row in rows if row[code] in wanted]  # SQLite compares text up to a NUL
        return Records.of_stored(spec, [row[:-1] for row in rows], gpkg_geometries([row[-1] for row in rows]))

    @contextmanager
    def _paged(
        self, spec: Layer, request: PageRequest
    ) -> Iterator[tuple[sqlite3.Connection, list[int], int | None, bool]]:
        """A page's feature ids in order, matched and more, and the read transaction they were found in
        (its rows are read in the same snapshot)."""
        layer, bbox, limit, offset = spec.name, request.bbox, request.limit, request.offset
        by, cursor, equals = request.checked(spec)
        conditions, params = _where(layer, bbox, request.codes, equals)
        if request.where is not None:
            sql_condition, bound = to_sqlite(request.where)
            conditions.append(f"({sql_condition})")
            params.update(bound)
        column = f't."{by.name}"'
        # Nulls last in both directions, as in PostGIS (SQLite sorts them first when ascending).
        key = f"{column} DESC" if by.descending else column
        if by.name != "code":
            key = (key if by.descending else f"{column} IS NULL, {column}") + ", t.code"
        page_conditions = list(conditions)
        if cursor is not None:
            # The code index starts at the cursor: no row before it is read.
            page_conditions.append("t.code < :cursor" if cursor.backwards else "t.code > :cursor")
            params["cursor"] = cursor.bound
            key = f"{column} DESC" if cursor.backwards else column
        selected = "t.fid" if bbox is None else f't.fid, t."{GEOMETRY_COLUMN}"'
        sql = f'SELECT {selected} FROM "{layer}" t'
        sql += (" WHERE " + " AND ".join(page_conditions) if page_conditions else "") + f" ORDER BY {key}"
        with _sqlite(self.path, readonly=True) as conn:
            conn.execute("BEGIN")  # one read transaction: the page's ids and its rows from one snapshot
            if bbox is None:
                fids, matched, more = _window(
                    conn, layer, sql, conditions, params, limit, offset, count=cursor is not None
                )
            else:
                fids, matched, more = _window_exact(conn.execute(sql, params), bbox, limit, offset)
                if cursor is not None:  # the whole selection's count, not the rows past the cursor
                    whole = f'SELECT t.fid, t."{GEOMETRY_COLUMN}" FROM "{layer}" t WHERE ' + " AND ".join(
                        conditions
                    )
                    matched = _window_exact(conn.execute(whole, params), bbox, 0, 0)[1]
            if cursor is not None and cursor.backwards:
                fids = fids[::-1]
            yield conn, fids, matched, more

    def _rows(self, spec: Layer, codes: Sequence[str], bbox: BBox | None) -> gpd.GeoDataFrame:
        """The stored rows of `codes` (within `bbox`), read in one SQLite snapshot."""
        with _sqlite(self.path, readonly=True) as conn:
            frame = _rows_in(conn, spec, codes)
        if bbox is not None:
            frame = frame[shapely.intersects(geoms_of(frame), bbox_shape(bbox))]
        return frame.reset_index(drop=True)

    def _rows_near(self, spec: Layer, bbox: BBox) -> gpd.GeoDataFrame | None:
        """The rows meeting `bbox` through SQLite and the R-tree, in one snapshot, when there are at most
        `SMALL_READ` (a write's grids, a map's few features); None for more (GDAL's Arrow reader is
        faster in bulk)."""
        where, params = _where(spec.name, bbox, None, {})
        condition = " AND ".join(where)
        columns = ", ".join(f't."{c}"' for c in [*spec.field_names, GEOMETRY_COLUMN])
        with _sqlite(self.path, readonly=True) as conn:
            found = conn.execute(f'SELECT count(*) FROM "{spec.name}" t WHERE {condition}', params).fetchone()
            if found[0] > SMALL_READ:
                return None
            rows = conn.execute(
                f'SELECT {columns} FROM "{spec.name}" t WHERE {condition} ORDER BY t.code', params
            ).fetchall()
        frame = _frame_of_rows(spec, rows)
        return frame[shapely.intersects(geoms_of(frame), bbox_shape(bbox))].reset_index(drop=True)

    def extent(self, layer: str) -> tuple[BBox | None, str | None]:
        """From the R-tree (boxes rounded outwards: they cover the layer) and the validity dates."""
        spec = get_layer(layer)
        with _sqlite(self.path, readonly=True) as conn:
            row = conn.execute(
                f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_{layer}_{GEOMETRY_COLUMN}"'
            ).fetchone()
            first = None
            if "valid_from" in spec.field_names:
                first = conn.execute(f'SELECT min(valid_from) FROM "{layer}"').fetchone()[0]
        box = None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
        return box, first

    def counts(self) -> dict[str, int]:
        with _sqlite(self.path, readonly=True) as conn:
            return {
                name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in LAYER_NAMES
            }

    def revision(self) -> str:
        """The write counter, plus when each table last changed (GDAL, so QGIS, stamps its edits there).

        Only the file's content counts, never its layout: a reader that closes last folds the
        write-ahead log back into the file, which moves its mtime and size but changes nothing.
        The case, visit, patrol and party tables are not layers: registering or writing them moves no
        revision. Asked again only when the file may have changed (`gpkg_watch`): servers ask
        many times a second.
        """
        return self._watch.answer("revision", self._revision)

    def _revision(self) -> str:
        with _sqlite(self.path, readonly=True) as conn:
            counter = conn.execute(f"SELECT value FROM {META} WHERE key = 'revision'").fetchone()[0]
            stamps = conn.execute(
                "SELECT table_name, last_change FROM gpkg_contents "
                f"WHERE table_name NOT IN ({_NOT_LAYERS}) ORDER BY table_name"
            )
            digest = hashlib.blake2b(repr(stamps.fetchall()).encode(), digest_size=6).hexdigest()
        return f"{int(counter)}.{digest}"

    def last_modified(self) -> dict[str, dt.datetime | None]:
        with _sqlite(self.path, readonly=True) as conn:
            rows = dict(conn.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall())
        return {name: _parse_time(rows.get(name)) for name in LAYER_NAMES}

    # -- writing -----------------------------------------------------------

    @contextmanager
    def _writers_turn(self) -> Iterator[bool]:
        """The directory lock: it also keeps an opener from taking a commit's scratch files for litter."""
        with _locked(self.path.parent) as held:
            yield held

    def _counter(self) -> int:
        with _sqlite(self.path, readonly=True) as conn:
            return int(conn.execute(f"SELECT value FROM {META} WHERE key = 'revision'").fetchone()[0])

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
        loads = [c for c in changes if c.whole is not None]
        with (
            nullcontext() if turn is not None else self._writers_turn(),
            self._scratch(loads) as scratch,
            _sqlite(self.path, transaction=True, attach=scratch) as conn,
        ):
            if conn.execute(f"SELECT value FROM {META} WHERE key = 'revision'").fetchone()[0] != expected:
                conn.execute("ROLLBACK")
                return None
            revision = expected + 1
            conn.execute(f"DELETE FROM {gpkg_triggers.EXTERNAL}")  # later external edits open their own
            for change in changes:
                _supersede(conn, change, revision)
                if change.whole is not None:
                    _load_layer(conn, change.layer, _SCRATCH[change.layer], revision)
                else:
                    _apply_rows(self, conn, change, revision)
            _record(conn, revision, {c.layer: c.counts for c in changes}, author, reverts)
            for change in changes:
                content = change.whole if change.whole is not None else change.rows
                bounds = content.total_bounds if len(content) else None
                _touch(conn, [change.layer], bounds=bounds, whole=change.whole is not None)
            _touch(conn, [])
            written: dict[str, gpd.GeoDataFrame] = {}
            for change in changes if read_back else []:
                codes = read_back_codes(change)
                if codes is not None:
                    written[change.layer] = _rows_in(conn, get_layer(change.layer), codes)
        return revision, written

    def codes(self, layer: str) -> pa.Array:
        """The code column alone, read through SQLite (no geometry)."""
        spec = get_layer(layer)
        with _sqlite(self.path, readonly=True) as conn:
            rows = conn.execute(f'SELECT code FROM "{spec.name}"').fetchall()
        return pa.array([r[0] for r in rows], pa.large_string())

    def replace_chunks(self, layer: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        """GDAL streams the chunks into a scratch file (rows, then the R-tree in bulk), each compared
        on the way with the stored rows of its codes; then one transaction moves the old versions of
        changed and vanished codes to history and copies the scratch layer in, as a whole-layer
        replace does. Boundary layers (validity dates span the layer) replace whole."""
        spec = get_layer(layer)
        if spec.versioned:
            return super().replace_chunks(layer, chunks)
        stored = versioned_spec(layer)
        author = current_author()
        tally = _Tally()

        def compared() -> Iterator[gpd.GeoDataFrame]:
            for chunk in chunks:
                data = prepare(layer, chunk)
                before = self._stored(layer, data["code"].astype(str).tolist()) if tally.populated else None
                change = change_set(
                    layer, before if before is not None else empty_frame(stored), data, whole=True
                )
                assert change.whole is not None
                tally.add(change)
                yield change.whole

        with self._writers_turn():
            expected = self._counter()
            revision = expected + 1
            with _sqlite(self.path, readonly=True) as conn:
                tally.populated = conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{layer}")').fetchone()[0] == 1
            with self._scratch_stream(layer, compared()) as scratch:
                schema = _SCRATCH[layer]
                with _sqlite(self.path, transaction=True, attach={schema: scratch}) as conn:
                    if (
                        conn.execute(f"SELECT value FROM {META} WHERE key = 'revision'").fetchone()[0]
                        != expected
                    ):
                        raise StoreError(f"{self.url}: the store changed under a writer holding its lock")
                    conn.execute(f"DELETE FROM {gpkg_triggers.EXTERNAL}")
                    columns = ", ".join(f'"{c}"' for c in [*stored.field_names, GEOMETRY_COLUMN])
                    for codes in tally.superseded:
                        conn.execute(
                            f'INSERT INTO "{_history(layer)}" ({columns}, superseded, closed_on) '
                            f'SELECT {columns}, ?, NULL FROM "{layer}" '
                            "WHERE code IN (SELECT value FROM json_each(?))",
                            (revision, _json_list(codes)),
                        )
                    deleted = conn.execute(
                        f'INSERT INTO "{_history(layer)}" ({columns}, superseded, closed_on) '
                        f'SELECT {columns}, ?, NULL FROM "{layer}" '
                        f'WHERE code NOT IN (SELECT code FROM {schema}."{layer}")',
                        (revision,),
                    ).rowcount
                    counts = {"inserted": tally.inserted, "updated": tally.updated, "deleted": deleted}
                    if not any(counts.values()):
                        conn.execute("ROLLBACK")
                        return tally.written
                    _load_layer(conn, layer, schema, revision)
                    _record(conn, revision, {layer: counts}, author, None)
                    _touch(conn, [layer], bounds=tally.bounds(), whole=True)
                    _touch(conn, [])
        receipt_revision(revision)
        return tally.written

    def upsert_chunks(self, layer: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        return self._chunks_written(layer, chunks, create_only=False)

    def insert_chunks(self, layer: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        return self._chunks_written(layer, chunks, create_only=True)

    def _chunks_written(self, layer: str, chunks: Iterable[gpd.GeoDataFrame], *, create_only: bool) -> int:
        """One transaction holding the writers' turn: each chunk compared with the stored rows of its
        codes (as the transaction sees them), their old versions moved to history and its rows applied
        as `_commit` applies an upsert; one revision records them all. Boundary layers upsert whole.
        `create_only`: a stored code raises ConflictError, as `insert`, and nothing is written."""
        upsert = self._chunked_upsert(layer)
        if upsert is None:
            return (super().insert_chunks if create_only else super().upsert_chunks)(layer, chunks)
        box: list[npt.NDArray[np.float64]] = []
        with self._writers_turn():
            expected = self._counter()
            revision = expected + 1
            with _sqlite(self.path, transaction=True) as conn:
                if conn.execute(f"SELECT value FROM {META} WHERE key = 'revision'").fetchone()[0] != expected:
                    raise StoreError(f"{self.url}: the store changed under a writer holding its lock")
                conn.execute(f"DELETE FROM {gpkg_triggers.EXTERNAL}")
                for chunk in chunks:
                    data = prepare(layer, chunk)
                    if data.empty:
                        continue
                    before = _rows_in(conn, upsert.stored, data["code"].astype(str).tolist())
                    if create_only and len(before):
                        raise ConflictError.taken(layer, before["code"].astype(str).tolist())
                    change = change_set(layer, before, data, whole=False)
                    _supersede(conn, change, revision)
                    _apply_rows(self, conn, change, revision)
                    upsert.add(change, len(data))
                    if len(change.rows) and not change.rows.geometry.isna().all():
                        box.append(np.asarray(change.rows.total_bounds, dtype=float))
                if not any(upsert.counts.values()):
                    conn.execute("ROLLBACK")
                    return upsert.written
                _record(conn, revision, {layer: upsert.counts}, upsert.author, None)
                _touch(conn, [layer], bounds=_extent(box))
                _touch(conn, [])
        receipt_revision(revision)
        return upsert.written

    @contextmanager
    def _scratch_stream(self, layer: str, frames: Iterator[gpd.GeoDataFrame]) -> Iterator[Path]:
        """`_scratch` for one layer whose content arrives as a stream of frames."""
        fd, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".load.gpkg", dir=self.path.parent)
        os.close(fd)
        path = Path(name)
        path.unlink()
        try:
            _write_layer_stream(path, layer, frames)
            yield path
        finally:
            for leftover in (path, *(Path(f"{path}{s}") for s in ("-journal", "-wal", "-shm"))):
                leftover.unlink(missing_ok=True)

    def settle(self) -> bool:
        """Derive `grid_code` for the rows QGIS or GDAL changed since gridmap last looked.

        One gridmap revision ("derive grid_code after external edits") writes the
        rows whose grid changes, with their history; the changes log is marked
        settled in the same transaction. Returns whether anything was pending. While the file
        stays as it was, nothing is opened (`gpkg_watch`): the settler thread asks five times a second.
        """
        if not self._watch.answer("pending", self._pending):
            return False
        with self._writers_turn(), _sqlite(self.path, transaction=True) as conn:
            logged = conn.execute(
                f"SELECT id, layer, code FROM {gpkg_triggers.CHANGES} WHERE settled = 0"
            ).fetchall()
            if not logged:
                return False
            touched: dict[str, set[str]] = {}
            for _id, layer, code in logged:
                if layer in LAYER_NAMES and code is not None:
                    touched.setdefault(layer, set()).add(str(code))
            found = settled_grids(conn, {k: sorted(v) for k, v in touched.items()})
            conn.execute(f"DELETE FROM {gpkg_triggers.EXTERNAL}")
            if found:
                counter = conn.execute(f"SELECT value FROM {META} WHERE key = 'revision'").fetchone()[0]
                _settle_rows(conn, found, int(counter) + 1)
            conn.execute(
                f"UPDATE {gpkg_triggers.CHANGES} SET settled = 1 WHERE settled = 0 AND id <= ?",
                (max(row[0] for row in logged),),
            )
        return True

    def _pending(self) -> bool:
        """Whether the changes log holds rows not settled yet (asked again only when the file moved)."""
        with _sqlite(self.path, readonly=True) as conn:
            found = conn.execute(
                f"SELECT 1 FROM {gpkg_triggers.CHANGES} WHERE settled = 0 LIMIT 1"
            ).fetchone()
        return found is not None

    @contextmanager
    def triggers_aside(self, layer: str, within: Any = None) -> Iterator[bool]:
        """`Store.triggers_aside`: `within` is a `BEGIN IMMEDIATE` connection to the store, whose write
        lock keeps QGIS and GDAL waiting (busy timeout) until the triggers are back and committed."""
        get_layer(layer)
        if within is not None:
            triggers = _set_aside(within, layer)
            yield bool(triggers)
            for _name, sql in triggers:  # on failure the rollback brings them back
                within.execute(sql)
            return
        with self._writers_turn(), _sqlite(self.path, transaction=True) as conn:
            triggers = _set_aside(conn, layer)
        try:
            yield bool(triggers)
        finally:
            with self._writers_turn(), _sqlite(self.path, transaction=True) as conn:
                for _name, sql in triggers:
                    conn.execute(sql)

    @contextmanager
    def _scratch(self, changes: list[LayerChange]) -> Iterator[dict[str, Path]]:
        """Each whole-layer change written by GDAL (rows and R-tree, fast) to a file of its own.

        The transaction then copies rows and R-tree pages into the store; the
        files are removed afterwards, whatever happens. Only a commit makes them,
        and it holds the writers' turn (the directory lock) meanwhile, so an
        opener never takes them for a killed writer's.
        """
        made: dict[str, Path] = {}
        try:
            for change in changes:
                assert change.whole is not None
                fd, name = tempfile.mkstemp(
                    prefix=f".{self.path.stem}.", suffix=".load.gpkg", dir=self.path.parent
                )
                os.close(fd)
                made[_SCRATCH[change.layer]] = Path(name)
                Path(name).unlink()
                _write_layer(Path(name), change.layer, change.whole, spec=versioned_spec(change.layer))
            yield made
        finally:
            for path in made.values():
                for leftover in (path, *(Path(f"{path}{s}") for s in ("-journal", "-wal", "-shm"))):
                    leftover.unlink(missing_ok=True)

    def _retired(self, layer: str, codes: Sequence[str]) -> gpd.GeoDataFrame:
        sql = (
            f'SELECT code, {GEOMETRY_COLUMN} FROM "{_history(layer)}" WHERE closed_on IS NOT NULL '
            "AND code IN (SELECT value FROM json_each(?)) ORDER BY superseded"
        )
        with _sqlite(self.path, readonly=True) as conn:
            rows = conn.execute(sql, (_json_list(codes),)).fetchall()
        frame = gpd.GeoDataFrame(
            {"code": [r[0] for r in rows]}, geometry=gpkg_geometries([r[1] for r in rows]), crs="EPSG:4326"
        )
        return frame.drop_duplicates("code", keep="last").reset_index(drop=True)

    def _revision_rows(self, layer: str, revision: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        spec = versioned_spec(layer)
        columns = ", ".join(f'"{c}"' for c in [*spec.field_names, GEOMETRY_COLUMN])
        with _sqlite(self.path, readonly=True) as conn:
            before = conn.execute(
                f'SELECT {columns} FROM "{_history(layer)}" WHERE superseded = ?', (revision,)
            ).fetchall()
            after = conn.execute(
                f'SELECT {columns} FROM "{layer}" WHERE revision = :r '
                f'UNION ALL SELECT {columns} FROM "{_history(layer)}" WHERE revision = :r',
                {"r": revision},
            ).fetchall()
        return _frame_of_rows(spec, before), _frame_of_rows(spec, after)

    def _last_touch(self, layer: str, codes: Sequence[str]) -> dict[str, int]:
        sql = f"""
            SELECT code, max(r) FROM (
                SELECT code, revision AS r FROM "{layer}" WHERE code IN (SELECT value FROM json_each(:c))
                UNION ALL SELECT code, revision FROM "{_history(layer)}"
                    WHERE code IN (SELECT value FROM json_each(:c))
                UNION ALL SELECT code, superseded FROM "{_history(layer)}"
                    WHERE code IN (SELECT value FROM json_each(:c))
            ) GROUP BY code
        """
        with _sqlite(self.path, readonly=True) as conn:
            return {code: int(r) for code, r in conn.execute(sql, {"c": _json_list(codes)})}

    def _revisions(
        self,
        *,
        ids: Sequence[int] | None = None,
        layer: str | None = None,
        code: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[Revision]:
        where: list[str] = ["1 = 1"]
        params: dict[str, object] = {}
        if ids is not None:
            where.append("id IN (SELECT value FROM json_each(:ids))")
            params["ids"] = json.dumps([int(i) for i in ids])
        if layer is not None:
            where.append("layers LIKE :layer")
            params["layer"] = f"%,{layer},%"
        if since is not None:
            where.append("at >= :since")
            params["since"] = _utc_text(since)
        if layer is not None and code is not None:
            get_layer(layer)
            where.append(
                f'id IN (SELECT revision FROM "{layer}" WHERE code = :code '
                f'UNION SELECT revision FROM "{_history(layer)}" WHERE code = :code '
                f'UNION SELECT superseded FROM "{_history(layer)}" WHERE code = :code)'
            )
            params["code"] = code
        sql = (
            f"SELECT id, at, author, role, command, reverts, counts FROM {REVISIONS} "
            f"WHERE {' AND '.join(where)} ORDER BY id DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with _sqlite(self.path, readonly=True) as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            Revision(
                int(i), _parse_time(at) or dt.datetime.now(dt.UTC), who, role, cmd, rev, json.loads(counts)
            )
            for i, at, who, role, cmd, rev, counts in rows
        ]

    def read_as_of(self, layer: str, date: str) -> gpd.GeoDataFrame:
        spec = get_layer(layer)
        if not spec.versioned:
            raise StoreError(f"{layer} keeps no boundary versions; only streets, communities and grids do")
        day = parse_date(date)
        columns = ", ".join(f'"{c}"' for c in [*spec.field_names, GEOMETRY_COLUMN] if c != "valid_to")
        sql = f"""
            SELECT {columns}, NULL AS valid_to, 1 AS current, 0 AS superseded FROM "{layer}"
                WHERE valid_from IS NULL OR valid_from <= :d
            UNION ALL
            SELECT {columns}, closed_on, 0, superseded FROM "{_history(layer)}"
                WHERE closed_on > :d AND (valid_from IS NULL OR valid_from <= :d)
        """
        with _sqlite(self.path, readonly=True) as conn:
            rows = conn.execute(sql, {"d": day}).fetchall()
        names = [c for c in spec.field_names if c != "valid_to"]
        table = pd.DataFrame(rows, columns=[*names, "geometry", "valid_to", "current", "superseded"])
        return _in_force(spec, table)

    def _create(self) -> None:
        """Make the layers and tables the file lacks (all of them for a new file) in a private copy,
        renamed over the store only if every one was made.

        Openers can race for a new file (two API workers starting at once): the tables are looked
        for again under the directory lock, so only the first opener makes them. A file another
        opener completed is never renamed over, which would pair its live connections' write-ahead
        log with another file.
        """
        directory = self.path.parent
        with _locked(directory):
            missing = self._missing_tables()
            if not missing:
                return
            fd, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".tmp.gpkg", dir=directory)
            os.close(fd)
            tmp = Path(name)
            try:
                if self.path.exists():
                    with gate(self.path).held("other"):  # a plain open and close of the store's file
                        shutil.copyfile(self.path, tmp)
                    shutil.copymode(self.path, tmp)
                else:
                    tmp.unlink()  # GDAL creates the new file itself
                for layer in missing:
                    if layer != META:
                        _write_layer(tmp, layer, empty_frame(layer))
                with _sqlite(tmp) as conn:
                    _initialise(conn)
                _fsync(tmp)
                os.replace(tmp, self.path)
                _fsync(directory)
            except BaseException:
                for leftover in (tmp, *(Path(f"{tmp}{s}") for s in ("-journal", "-wal", "-shm"))):
                    leftover.unlink(missing_ok=True)
                raise


def _by_fids(conn: sqlite3.Connection, spec: Layer, fids: list[int]) -> gpd.GeoDataFrame:
    """The features with these ids, in this order (a page: a few rows, read through SQLite)."""
    columns = ", ".join(f'"{c}"' for c in ["fid", *spec.field_names, GEOMETRY_COLUMN])
    rows = conn.execute(
        f'SELECT {columns} FROM "{spec.name}" WHERE fid IN (SELECT value FROM json_each(?))',
        (json.dumps(fids),),
    ).fetchall()
    at = {row[0]: i for i, row in enumerate(rows)}
    ordered = [rows[at[f]][1:] for f in fids if f in at]
    frame = _frame_of_rows(spec, ordered)  # in code order: put back in the page's
    code = spec.field_names.index("code")
    position = pd.Index(frame["code"].astype(str)).get_indexer([str(row[code]) for row in ordered])
    return frame.iloc[position].reset_index(drop=True)


def _records_by_fids(conn: sqlite3.Connection, spec: Layer, fids: list[int]) -> Records:
    """`_by_fids` as records: the page's rows in its order, without a frame."""
    columns = ", ".join(f'"{c}"' for c in ["fid", *spec.field_names, GEOMETRY_COLUMN])
    rows = conn.execute(
        f'SELECT {columns} FROM "{spec.name}" WHERE fid IN (SELECT value FROM json_each(?))',
        (json.dumps(fids),),
    ).fetchall()
    at = {row[0]: row for row in rows}
    ordered = [at[f] for f in fids if f in at]
    blobs = gpkg_geometries([row[-1] for row in ordered])
    return Records.of_stored(spec, [row[1:-1] for row in ordered], blobs)


def _rows_in(conn: sqlite3.Connection, spec: Layer, codes: Sequence[str]) -> gpd.GeoDataFrame:
    """The rows of `codes` as `conn`'s transaction sees them, in the layout of `spec`, by code."""
    columns = ", ".join(f'"{c}"' for c in [*spec.field_names, GEOMETRY_COLUMN])
    rows = conn.execute(
        f'SELECT {columns} FROM "{spec.name}" WHERE code IN (SELECT value FROM json_each(?)) ORDER BY code',
        (_json_list(codes),),
    ).fetchall()
    frame = _frame_of_rows(spec, rows)
    # SQLite compares text up to a NUL: "H2\x00" finds H2. Only the codes asked for, exactly.
    return frame[frame["code"].isin([str(c) for c in codes]).to_numpy(dtype=bool)].reset_index(drop=True)


def _where(
    layer: str, bbox: BBox | None, codes: Sequence[str] | None, equals: Mapping[str, Value]
) -> tuple[list[str], dict[str, object]]:
    """SQL conditions with named parameters; the bbox narrows through the R-tree (exact test later)."""
    where: list[str] = []
    params: dict[str, object] = {}
    if bbox is not None:
        boxes = []
        for i, part in enumerate(bbox_parts(bbox)):  # two across the antimeridian
            boxes.append(f"(maxx >= :x0_{i} AND minx <= :x1_{i} AND maxy >= :y0_{i} AND miny <= :y1_{i})")
            names = (f"x0_{i}", f"y0_{i}", f"x1_{i}", f"y1_{i}")
            params.update(zip(names, (float(v) for v in part), strict=True))
        rtree = f'"rtree_{layer}_{GEOMETRY_COLUMN}"'
        where.append(f"t.fid IN (SELECT id FROM {rtree} WHERE {' OR '.join(boxes)})")
    if codes is not None:
        where.append("t.code IN (SELECT value FROM json_each(:codes))")
        params["codes"] = _json_list(codes)
    for i, (name, value) in enumerate(equals.items()):
        where.append(f't."{name}" = :eq{i}')
        params[f"eq{i}"] = int(value) if isinstance(value, bool) else value  # GDAL keeps booleans as 0/1
    return where, params


def _window(
    conn: sqlite3.Connection,
    layer: str,
    sql: str,
    where: list[str],
    params: dict[str, object],
    limit: int | None,
    offset: int,
    *,
    count: bool = False,
) -> tuple[list[int], int | None, bool]:
    """Ids of one page cut by SQL, the capped count of all matches (`where`), and whether more follow.

    `count`: count even when the page could tell (a cursor page does not know its offset).
    """
    rows = conn.execute(
        f"{sql} LIMIT :limit OFFSET :offset", {**params, "limit": _sql_limit(limit), "offset": offset}
    )
    fids = [row[0] for row in rows]
    more = limit is not None and len(fids) > limit
    fids = fids[:limit] if limit is not None else fids
    matched = None if count else matched_from_page(offset, len(fids), more)
    if matched is None:
        counted = f'SELECT 1 FROM "{layer}" t' + (" WHERE " + " AND ".join(where) if where else "")
        n = conn.execute(f"SELECT count(*) FROM ({counted} LIMIT {COUNT_LIMIT + 1})", params).fetchone()[0]
        matched = n if n <= COUNT_LIMIT else None
    return fids, matched, more


def _window_exact(
    rows: sqlite3.Cursor, bbox: BBox, limit: int | None, offset: int
) -> tuple[list[int], int | None, bool]:
    """One page of the R-tree's candidates that truly meet `bbox`, tested a batch at a time.

    The R-tree keeps boxes rounded outwards to 32-bit floats, so every
    candidate's geometry is tested exactly; reading stops once the page, the
    row after it and the capped count are known.
    """
    box = bbox_shape(bbox)
    wanted = None if limit is None else offset + limit + 1
    found: list[int] = []
    total = 0
    while batch := rows.fetchmany(_BATCH):
        fids = np.array([row[0] for row in batch], dtype=np.int64)
        geoms = gpkg_geometries([row[1] for row in batch])
        hits = fids[shapely.intersects(geoms, box)]
        total += len(hits)
        if wanted is None or len(found) < wanted:
            found += hits[: None if wanted is None else wanted - len(found)].tolist()
        if wanted is not None and len(found) >= wanted and total > COUNT_LIMIT:
            break
    page = found[offset:] if limit is None else found[offset : offset + limit]
    more = limit is not None and len(found) > offset + limit
    matched = matched_from_page(offset, len(page), more)
    if matched is None and total <= COUNT_LIMIT:
        matched = total
    return page, matched, more


def _sql_limit(limit: int | None) -> int:
    """SQLite's LIMIT for a page (one row more, to tell whether another page follows); -1: no limit."""
    return -1 if limit is None else limit + 1


def _write_layer(path: Path, layer: str, frame: gpd.GeoDataFrame, spec: Layer | None = None) -> None:
    """(Re)create one layer of the file at `path` from a prepared frame, R-tree included."""
    spec = spec or get_layer(layer)
    try:
        with _unsynced():
            pyogrio.write_dataframe(
                frame,
                path,
                layer=layer,
                driver="GPKG",
                geometry_type=_ogr_geometry_type(spec),
                promote_to_multi=False,
                use_arrow=True,
                # 1.3: the newest version GDAL 3.6 and QGIS 3.22 (Debian 12) open without a warning and
                # GDAL's validate_gpkg.py checks; its R-tree triggers are the ones they know.
                dataset_options=None if path.exists() else {"VERSION": "1.3"},
            )
    except (DataSourceError, DataLayerError) as exc:
        raise StoreError(f"cannot write {layer} to {path}: {exc}") from None


def _write_layer_stream(path: Path, layer: str, frames: Iterator[gpd.GeoDataFrame]) -> None:
    """`_write_layer` of a stored-layout layer arriving as frames: GDAL reads them as one Arrow stream,
    so only one frame is in memory at a time and the R-tree is still built once, in bulk."""
    spec = versioned_spec(layer)
    failed: list[BaseException] = []

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for frame in frames:
                yield _arrow_batch(spec, frame)
        except BaseException as exc:  # GDAL sees only that the stream broke; the cause is kept here
            failed.append(exc)
            raise

    schema = _arrow_schema(spec)
    reader = pa.RecordBatchReader.from_batches(schema, batches())
    try:
        with _unsynced():
            pyogrio.write_arrow(
                reader,
                path,
                layer=layer,
                driver="GPKG",
                geometry_name=GEOMETRY_COLUMN,
                geometry_type=_ogr_geometry_type(spec),
                crs="EPSG:4326",
                dataset_options={"VERSION": "1.3"},
            )
    except Exception as exc:
        if failed:
            raise failed[0] from None
        raise StoreError(f"cannot write {layer} to {path}: {exc}") from None
    if failed:
        raise failed[0]


_ARROW_OF = {"text": pa.string(), "integer": pa.int64(), "real": pa.float64(), "boolean": pa.bool_()}


def _arrow_schema(spec: Layer) -> pa.Schema:
    """The Arrow layout of a stored layer's rows: its fields, then the geometry as WKB."""
    fields = [pa.field(f.name, _ARROW_OF[f.type]) for f in spec.fields]
    return pa.schema([*fields, pa.field(GEOMETRY_COLUMN, pa.binary())])


def _arrow_batch(spec: Layer, frame: gpd.GeoDataFrame) -> pa.RecordBatch:
    """One frame as a batch of `_arrow_schema(spec)`."""
    arrays = [pa.array(frame[f.name], type=_ARROW_OF[f.type], from_pandas=True) for f in spec.fields]
    arrays.append(pa.array(shapely.to_wkb(geoms_of(frame)), type=pa.binary(), from_pandas=True))
    return pa.RecordBatch.from_arrays(arrays, schema=_arrow_schema(spec))


@contextmanager
def _unsynced() -> Iterator[None]:
    """GDAL writes the private copy without an fsync per commit; it is fsynced once, before the rename."""
    previous = pyogrio.get_gdal_config_option(_SYNC_OPTION)
    pyogrio.set_gdal_config_options({_SYNC_OPTION: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({_SYNC_OPTION: previous})


def _initialise(conn: sqlite3.Connection) -> None:
    """Create gridmap's own metadata table.

    Not registered in gpkg_contents: an attributes table there needs an INTEGER
    primary key (GeoPackage 1.3, requirement 119), and this one is keyed by name.
    """
    conn.execute(f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    conn.execute(f"INSERT OR IGNORE INTO {META} (key, value) VALUES ('revision', 0)")
    for name in LAYER_NAMES:
        _index_codes(conn, name)
    _index_parents(conn)
    _touch(conn, [])


def _schema_ready(conn: sqlite3.Connection) -> bool:
    """Whether the file already has this version's columns and tables (so opening writes nothing)."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if REVISIONS not in tables or any(_history(name) not in tables for name in LAYER_NAMES):
        return False
    for name in LAYER_NAMES:
        present = {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')}
        if not set(versioned_spec(name).field_names) <= present:
            return False
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    if not all(f"{name}_{REVISION}" in indexes for name in LAYER_NAMES):
        return False
    if not all(f"{table}_{column}" in indexes for table, column in PARENT_INDEXES):
        return False
    if {gpkg_triggers.WRITING, gpkg_triggers.CHANGES, gpkg_triggers.EXTERNAL} - tables:
        return False
    made = {row[0] for row in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")}
    wanted = {sql for name in LAYER_NAMES for sql in gpkg_triggers.triggers(name)}
    registered = conn.execute(f"SELECT 1 FROM gpkg_contents WHERE table_name = '{META}'").fetchone()
    if not party_checks.sqlite_ready(tables, made, _columns(conn, party_checks.ADDED_COLUMNS)):
        return False
    if "party_orgs" in tables and not set(BOOK_TABLES[BOOK_TABLES.index("party_orgs") :]) <= tables:
        return False  # party tables of a version before their history
    return (
        wanted <= made
        and not registered
        and not any(_required_revision(conn, n) for n in LAYER_NAMES)
        and not gpkg_version.is_1_4(conn)
        and not _text_keyed(conn)
    )


def _text_keyed(conn: sqlite3.Connection) -> list[str]:
    """The book tables registered as attributes tables but not keyed by one INTEGER column (files made
    before they took an `fid`: GeoPackage requirement 119, `gridmap.stores.gpkg_attributes`)."""
    registered = {
        row[0] for row in conn.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'attributes'")
    }
    out = []
    for name in BOOK_TABLES:
        columns = conn.execute(f'PRAGMA table_info("{name}")').fetchall() if name in registered else []
        if columns and [row[2].upper() for row in columns if row[5]] != ["INTEGER"]:
            out.append(name)
    return out


def _required_revision(conn: sqlite3.Connection, layer: str) -> bool:
    """Whether `revision` is still NOT NULL (older files): a plain GDAL insert, naming it NULL, fails."""
    return any(row[1] == REVISION and row[3] for row in conn.execute(f'PRAGMA table_info("{layer}")'))


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring an older file up to this schema: catalogue columns, row revisions, history tables, WAL,
    GeoPackage 1.3 and integer-keyed book tables."""
    for name in LAYER_NAMES:
        spec = versioned_spec(name)
        present = {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')}
        for f in spec.fields:
            if f.name not in present:
                default = " DEFAULT 0" if f.name == REVISION else ""
                conn.execute(f'ALTER TABLE "{name}" ADD COLUMN "{f.name}" {_SQLITE_TYPES[f.type]}{default}')
        fields = ", ".join(f'"{f.name}" {_SQLITE_TYPES[f.type]}' for f in spec.fields)
        history = _history(name)
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{history}" ({fields}, {GEOMETRY_COLUMN} BLOB, '
            "superseded INTEGER NOT NULL, closed_on TEXT)"
        )
        for column in ("code", "superseded", "revision"):
            conn.execute(f'CREATE INDEX IF NOT EXISTS "{history}_{column}" ON "{history}" ({column})')
        # What a write touched, found without reading the layer (`Store.touched_since`).
        conn.execute(f'CREATE INDEX IF NOT EXISTS "{name}_{REVISION}" ON "{name}" ({REVISION})')
    _index_parents(conn)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {REVISIONS} (id INTEGER PRIMARY KEY, at TEXT NOT NULL, author TEXT, "
        "role TEXT, command TEXT, reverts INTEGER, layers TEXT NOT NULL, counts TEXT NOT NULL)"
    )
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        f"VALUES ('{REVISIONS}', 'attributes', '{REVISIONS}', 'gridmap revisions: who changed what, when')"
    )
    # Files made before 2026-12 registered the metadata table, which GeoPackage validators refuse.
    conn.execute(f"DELETE FROM gpkg_contents WHERE table_name = '{META}'")
    _keep_truths(conn)
    # ... and were GeoPackage 1.4, their book tables keyed by text.
    if gpkg_version.is_1_4(conn):
        gpkg_version.to_1_3(conn)
    text_keyed = _text_keyed(conn)
    if text_keyed:
        from gridmap.stores.gpkg_attributes import book_tables, rebuild  # SQLAlchemy: only for the books

        tables = book_tables()
        for name in text_keyed:
            rebuild(conn, tables[name])


def _keep_truths(conn: sqlite3.Connection) -> None:
    """The change log, the optional revision stamp and the triggers of `gridmap.stores.gpkg_triggers`.

    Files written before had `revision INTEGER NOT NULL`; SQLite cannot alter a
    column, so the NOT NULL is taken out of the stored table definition (a
    change SQLite documents as safe: no row's format depends on it). The
    triggers are dropped and made again, so a file always has this version's.
    """
    for statement in gpkg_triggers.tables():
        conn.execute(statement)
    loose = [name for name in LAYER_NAMES if _required_revision(conn, name)]
    if loose:
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        conn.execute("PRAGMA writable_schema = ON")
        for name in loose:
            conn.execute(
                "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?",
                (f'"{REVISION}" INTEGER NOT NULL DEFAULT 0', f'"{REVISION}" INTEGER DEFAULT 0', name),
            )
        conn.execute(f"PRAGMA schema_version = {int(version) + 1}")
        conn.execute("PRAGMA writable_schema = OFF")
    for name in LAYER_NAMES:
        for trigger in gpkg_triggers.trigger_names(name):
            conn.execute(f'DROP TRIGGER IF EXISTS "{trigger}"')
        for statement in gpkg_triggers.triggers(name):
            conn.execute(statement)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    columns = _columns(conn, party_checks.ADDED_COLUMNS)
    for statement in party_checks.sqlite_statements(tables, columns):  # party tables of an older version
        conn.execute(statement)
    if "party_orgs" in tables:  # ... and the tables they gained since (their registers' history)
        from gridmap.stores.gpkg_attributes import book_tables, create_statements

        for name in BOOK_TABLES[BOOK_TABLES.index("party_orgs") :]:
            if name not in tables:
                for statement in create_statements(book_tables()[name]):
                    conn.execute(statement)


def _columns(conn: sqlite3.Connection, tables: Iterable[str]) -> dict[str, set[str]]:
    """Each table's columns (none for a table the file lacks)."""
    return {name: {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')} for name in tables}


@dataclass
class _Tally:
    """What a chunked replace's chunks amounted to, kept while GDAL writes them."""

    populated: bool = False
    inserted: int = 0
    updated: int = 0
    written: int = 0
    superseded: list[list[str]] = field(default_factory=list)
    box: list[npt.NDArray[np.float64]] = field(default_factory=list)

    def add(self, change: LayerChange) -> None:
        assert change.whole is not None
        self.inserted += change.inserted
        self.updated += change.updated
        self.written += len(change.whole)
        if len(change.superseded):
            self.superseded.append(change.superseded["code"].astype(str).tolist())
        if len(change.whole) and not change.whole.geometry.isna().all():
            self.box.append(np.asarray(change.whole.total_bounds, dtype=float))

    def bounds(self) -> npt.NDArray[np.float64] | None:
        """The extent of every chunk (None when none had a geometry)."""
        return _extent(self.box)


def _extent(boxes: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64] | None:
    """The box holding every one of `boxes` (None when there are none)."""
    if not boxes:
        return None
    stacked = np.vstack(boxes)
    return np.array([*stacked[:, :2].min(axis=0), *stacked[:, 2:].max(axis=0)])


def _history(layer: str) -> str:
    return f"{layer}_history"


def _supersede(conn: sqlite3.Connection, change: LayerChange, revision: int) -> None:
    """Move the stored rows this change replaces or deletes to the layer's history table.

    One statement per closing date (a write has one or two; none outside the
    boundary layers), its codes as one JSON parameter: no Python per row.
    """
    spec = versioned_spec(change.layer)
    columns = ", ".join(f'"{c}"' for c in [*spec.field_names, GEOMETRY_COLUMN])
    sql = (
        f'INSERT INTO "{_history(change.layer)}" ({columns}, superseded, closed_on) '
        f'SELECT {columns}, ?, ? FROM "{change.layer}" WHERE code IN (SELECT value FROM json_each(?))'
    )
    for closed_on, codes in closing_groups(change):
        conn.execute(sql, (revision, closed_on, _json_list(codes)))


def _settle_rows(
    conn: sqlite3.Connection, found: Mapping[str, list[tuple[str, str | None]]], revision: int
) -> None:
    """Write derived grid codes as one revision: the old rows to history, then the new grid in place.

    Only `grid_code` and `revision` change, so no geometry (and no R-tree entry) is written; the
    derived layers keep no validity dates, so nothing closes.
    """
    for layer, rows in found.items():
        spec = versioned_spec(layer)
        columns = ", ".join(f'"{c}"' for c in [*spec.field_names, GEOMETRY_COLUMN])
        conn.execute(
            f'INSERT INTO "{_history(layer)}" ({columns}, superseded, closed_on) '
            f'SELECT {columns}, ?, NULL FROM "{layer}" WHERE code IN (SELECT value FROM json_each(?))',
            (revision, _json_list([code for code, _grid in rows])),
        )
        conn.executemany(
            f'UPDATE "{layer}" SET grid_code = ?, revision = ? WHERE code = ?',
            [(grid, revision, code) for code, grid in rows],
        )
    author = Author("gridmap", None, "derive grid_code after external edits")
    counts = {layer: {"inserted": 0, "updated": len(rows), "deleted": 0} for layer, rows in found.items()}
    _record(conn, revision, counts, author, None)
    for layer in found:
        _touch(conn, [layer])
    _touch(conn, [])


def _row_values(layer: str, frame: gpd.GeoDataFrame) -> list[list[object]]:
    """The columns of a stored-layout frame as Python lists, geometry first as GeoPackage blobs."""
    spec = versioned_spec(layer)
    values: list[list[object]] = [list(_gpkg_blobs(geoms_of(frame)))]
    values += [frame[f].astype(object).where(frame[f].notna(), None).tolist() for f in spec.field_names]
    return values


def _upsert_rows(conn: sqlite3.Connection, layer: str, frame: gpd.GeoDataFrame) -> None:
    """Update the rows whose code exists, insert the others; the R-tree triggers keep the spatial index.

    Two plain statements, not an UPSERT: GeoPackage 1.3's R-tree triggers (`INSERT OR REPLACE`
    into the R-tree) fail under an UPSERT's conflict handling.
    """
    if not len(frame):
        return
    spec = versioned_spec(layer)
    columns = [GEOMETRY_COLUMN, *spec.field_names]
    codes = frame["code"].astype(str).tolist()
    stored = {
        row[0]
        for row in conn.execute(
            f'SELECT code FROM "{layer}" WHERE code IN (SELECT value FROM json_each(?))', (_json_list(codes),)
        )
    }
    rows = list(zip(*_row_values(layer, frame), strict=True))
    code_at = columns.index("code")
    changed = [row for row in rows if row[code_at] in stored]
    added = [row for row in rows if row[code_at] not in stored]
    if changed:
        sets = ", ".join(f'"{c}" = ?' for c in columns if c != "code")
        conn.executemany(
            f'UPDATE "{layer}" SET {sets} WHERE code = ?',
            ([*row[:code_at], *row[code_at + 1 :], row[code_at]] for row in changed),
        )
    if added:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        conn.executemany(f'INSERT INTO "{layer}" ({names}) VALUES ({marks})', added)


def _apply_rows(store: GeoPackageStore, conn: sqlite3.Connection, change: LayerChange, revision: int) -> None:
    """Delete the change's codes and upsert its rows; a big change with the change triggers set aside."""
    big = len(change.rows) + len(change.deleted) >= TRIGGERS_ASIDE_FROM_ROWS
    with store.triggers_aside(change.layer, within=conn) if big else nullcontext():
        _delete_codes(conn, change.layer, change.deleted)
        _upsert_rows(conn, change.layer, stamped(change.rows, revision))


def _set_aside(conn: sqlite3.Connection, layer: str) -> list[tuple[str, str]]:
    """Drop the layer's change-log triggers (`gridmap.stores.gpkg_triggers`); their statements, to make
    them again. The check triggers and GeoPackage's R-tree triggers stay."""
    names = [n for n in gpkg_triggers.trigger_names(layer) if "_check_" not in n]
    marks = ", ".join("?" * len(names))
    triggers: list[tuple[str, str]] = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})", names
    ).fetchall()
    for name, _sql in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    return triggers


def _delete_codes(conn: sqlite3.Connection, layer: str, codes: list[str]) -> None:
    if codes:
        conn.execute(
            f'DELETE FROM "{layer}" WHERE code IN (SELECT value FROM json_each(?))', (_json_list(codes),)
        )


def _load_layer(conn: sqlite3.Connection, layer: str, schema: str, revision: int) -> None:
    """Make the layer exactly the attached scratch copy: triggers set aside, rows and R-tree copied whole.

    The R-tree is copied as its node tables (GDAL built it in bulk in the
    scratch file), which is what GDAL's own bulk loader writes too.
    """
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (layer,)
    ).fetchall()
    for name, _sql in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    spec = versioned_spec(layer)
    fields = [f'"{c}"' for c in spec.field_names if c != REVISION]
    columns = ", ".join(["fid", GEOMETRY_COLUMN, *fields])
    conn.execute(f'DELETE FROM "{layer}"')
    conn.execute(
        f'INSERT INTO "{layer}" ({columns}, revision) '
        f'SELECT {columns}, coalesce(revision, ?) FROM {schema}."{layer}"',
        (revision,),
    )
    rtree = f"rtree_{layer}_{GEOMETRY_COLUMN}"
    for part in ("node", "rowid", "parent"):
        conn.execute(f'DELETE FROM "{rtree}_{part}"')
        conn.execute(f'INSERT INTO "{rtree}_{part}" SELECT * FROM {schema}."{rtree}_{part}"')
    for _name, sql in triggers:
        conn.execute(sql)
    count = conn.execute(f'SELECT count(*) FROM "{layer}"').fetchone()[0]
    conn.execute(
        "UPDATE gpkg_ogr_contents SET feature_count = ? WHERE lower(table_name) = lower(?)", (count, layer)
    )


def _record(
    conn: sqlite3.Connection,
    revision: int,
    counts: Mapping[str, Mapping[str, int]],
    author: Author,
    reverts: int | None,
) -> None:
    """The revision's own row: when, who, the command, and per layer how many features changed how."""
    conn.execute(
        f"INSERT INTO {REVISIONS} (id, at, author, role, command, reverts, layers, counts) "
        f"VALUES (?, {_NOW}, ?, ?, ?, ?, ?, ?)",
        (
            revision,
            author.name,
            author.role,
            author.command,
            reverts,
            "," + ",".join(counts) + ",",
            json.dumps(counts),
        ),
    )


def _index_codes(conn: sqlite3.Connection, layer: str) -> None:
    """The unique index that makes code lookups fast and upserts possible (GDAL drops it on overwrite)."""
    conn.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS "{layer}_code" ON "{layer}" (code)')


PARENT_INDEXES = (
    ("communities", "street_code"),
    ("grids", "community_code"),
    ("buildings", "grid_code"),
    ("households", "grid_code"),
    ("households", "building_code"),
    ("service_points", "grid_code"),
    ("speakers", "grid_code"),
)
"""The parent codes features are filtered by (a grid's households for its visit list, `?grid_code=`
pages): answered from an index, not a scan of a city's layer (PostGIS: migration 0004)."""


def _index_parents(conn: sqlite3.Connection) -> None:
    for table, column in PARENT_INDEXES:
        conn.execute(f'CREATE INDEX IF NOT EXISTS "{table}_{column}" ON "{table}" ({column})')


def _touch(
    conn: sqlite3.Connection, layers: list[str], bounds: np.ndarray | None = None, whole: bool = False
) -> None:
    """Bump the revision (when no layer is named) or stamp the changed layers and their extent.

    An upsert widens the extent; a whole-layer write sets it.
    """
    if not layers:
        conn.execute(f"UPDATE {META} SET value = value + 1 WHERE key = 'revision'")
    for layer in layers:
        conn.execute(f"UPDATE gpkg_contents SET last_change = {_NOW} WHERE table_name = ?", (layer,))
        if bounds is not None and np.isfinite(bounds).all():
            x0, y0, x1, y1 = (float(b) for b in bounds)
            widen = (
                "min_x = min(coalesce(min_x, :x0), :x0), min_y = min(coalesce(min_y, :y0), :y0), "
                "max_x = max(coalesce(max_x, :x1), :x1), max_y = max(coalesce(max_y, :y1), :y1)"
            )
            exact = "min_x = :x0, min_y = :y0, max_x = :x1, max_y = :y1"
            conn.execute(
                f"UPDATE gpkg_contents SET {exact if whole else widen} WHERE table_name = :layer",
                {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "layer": layer},
            )


@contextmanager
def _sqlite(
    path: Path, readonly: bool = False, transaction: bool = False, attach: Mapping[str, Path] | None = None
) -> Iterator[sqlite3.Connection]:
    """A connection that commits on success and is always closed; the R-tree functions registered.

    `transaction` is a write to the store itself: write-ahead log, synchronous
    commits, one `BEGIN IMMEDIATE` transaction (writers queue for it). Without
    it, a writable connection is to a private copy (no fsync per commit).
    """
    # Never while GDAL has the file open in this process (`gridmap.stores._gate`).
    with gate(path).held("sqlite"), _connection(path, readonly, transaction, attach) as conn:
        yield conn


@contextmanager
def _connection(
    path: Path, readonly: bool, transaction: bool, attach: Mapping[str, Path] | None
) -> Iterator[sqlite3.Connection]:
    """`_sqlite`'s connection, once the file's gate is held."""
    # Readers open read-write but query-only: the last connection to close then folds the
    # write-ahead log back into the file and removes it (a read-only one cannot).
    uri = path.as_uri() + ("" if path.exists() else "?mode=rw")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=_BUSY_SECONDS, isolation_level=None)
    except sqlite3.OperationalError as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    try:
        if readonly:
            conn.execute("PRAGMA query_only = ON")
        if not readonly:
            conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
            for name, position in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
                conn.create_function(name, 1, _envelope_part(position), deterministic=True)
        for schema, other in (attach or {}).items():
            conn.execute(f"ATTACH DATABASE ? AS {schema}", (str(other),))
        marked = False
        if transaction:
            conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: big loads keep their index pages in memory
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("BEGIN IMMEDIATE")
            marked = _mark_writing(conn)
        elif not readonly:
            conn.execute("PRAGMA synchronous = OFF")  # only ever the private copy, fsynced before the rename
            conn.execute("BEGIN")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if conn.in_transaction:
            if marked:
                conn.execute(f"DELETE FROM {gpkg_triggers.WRITING}")
            conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {exc}") from None
    else:
        if transaction:
            _fold_log(conn, path)
    finally:
        conn.close()


def _fold_log(conn: sqlite3.Connection, path: Path) -> None:
    """Fold the write-ahead log into the file, so the .gpkg alone holds every committed write.

    Only after the commit, and never its failure: the write it follows is committed and
    must be acknowledged. Without waiting: a truncating checkpoint holds the write lock
    while it waits for readers, and QGIS's commit, reading before it writes, would be
    refused at once meanwhile. A reader in the way leaves the rest of the log to the next
    commit or the last connection closed.
    """
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error as exc:
        log.info("%s: write-ahead log not folded back yet (%s)", path, exc)


def _mark_writing(conn: sqlite3.Connection) -> bool:
    """Tell the triggers this transaction is gridmap's (it keeps its own history); no other
    connection ever sees the mark, which is removed before the commit."""
    known = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (gpkg_triggers.WRITING,)
    ).fetchone()
    if known is None:
        return False
    conn.execute(f"INSERT INTO {gpkg_triggers.WRITING} (id) VALUES (1)")
    return True


def _gpkg_blobs(geoms: np.ndarray) -> list[bytes | None]:
    """GeoPackage geometry blobs: the 'GP' header (SRS, envelope except for points) + little-endian WKB."""
    wkb = shapely.to_wkb(geoms, byte_order=1)
    points = shapely.get_type_id(geoms) == _POINT
    header = np.zeros(
        len(geoms),
        dtype=[("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs", "<i4"), ("env", "<f8", 4)],
    )
    header["magic"] = b"GP"
    header["flags"] = np.where(points, 0b01, 0b11)  # little-endian; envelope [minx, maxx, miny, maxy] or none
    header["srs"] = SRS_ID
    header["env"] = shapely.bounds(geoms)[:, [0, 2, 1, 3]]
    raw = header.tobytes()
    size = header.itemsize
    return [
        None if body is None else raw[i * size : i * size + (8 if point else size)] + body
        for i, (body, point) in enumerate(zip(wkb, points, strict=True))
    ]


def _is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(bool(blob[3] & 0b10000))


def _envelope_part(position: int) -> Callable[[bytes | None], float | None]:
    """ST_MinX/MaxX/MinY/MaxY of a GeoPackage blob: from its header envelope, else from its WKB."""

    def part(blob: bytes | None) -> float | None:
        if blob is None:
            return None
        flags = blob[3]
        envelope = (flags >> 1) & 0b111
        if envelope:
            order = "<" if flags & 1 else ">"
            return float(struct.unpack_from(f"{order}4d", blob, 8)[position])
        point = _point_xy(blob)  # a point carries no envelope: the R-tree triggers ask of every one
        if point is not None:
            return point[position // 2]
        minx, miny, maxx, maxy = shapely.from_wkb(blob[8:]).bounds
        return float((minx, maxx, miny, maxy)[position])

    return part


def _point_xy(blob: bytes) -> tuple[float, float] | None:
    """x and y of a 2D WKB point after an 8-byte header, read in place (None: another geometry).

    The R-tree triggers call ST_MinX … ST_MaxY for every row written: four geometry parses per
    household were most of an append's Python time.
    """
    if len(blob) != 8 + 21:
        return None
    order = "<" if blob[8] == 1 else ">"
    kind, x, y = struct.unpack_from(f"{order}I2d", blob, 9)
    return (x, y) if kind == 1 else None


def _frame_of_rows(spec: Layer, rows: list[tuple[object, ...]]) -> gpd.GeoDataFrame:
    """A stored-layout frame from sqlite rows of the spec's fields followed by the geometry blob."""
    table = pd.DataFrame(rows, columns=[*spec.field_names, GEOMETRY_COLUMN])
    geometry = gpkg_geometries(table.pop(GEOMETRY_COLUMN).tolist())
    return finish(spec, gpd.GeoDataFrame(table, geometry=geometry, crs=WGS84_CRS))


def _in_force(spec: Layer, table: pd.DataFrame) -> gpd.GeoDataFrame:
    table = table.copy()
    table["geometry"] = gpkg_geometries(table["geometry"].tolist())
    return in_force(spec, table)


def _utc_text(moment: dt.datetime) -> str:
    """A time as the revisions table stores it (UTC, ISO with a Z)."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def _json_list(codes: Sequence[str]) -> str:
    """Codes as one bound JSON parameter. A code holding a NUL is left out: SQLite compares text
    only up to one, so "H2\x00" would find (or delete) H2, and no stored code holds one."""
    return json.dumps([str(c) for c in codes if "\x00" not in str(c)], ensure_ascii=False)


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _locked(directory: Path, wait: bool = True) -> Iterator[bool]:
    """Serialise writers on the store's directory, in any process or thread.

    Yields whether the lock is held (always, unless `wait` is False and another holder has it).
    """
    fd = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
