"""The embedded store: one GeoPackage file, one table per catalogue layer.

Every write copies the file aside (same directory), changes the copy, fsyncs it
and renames it over the original, so readers and a crash only ever see the old
file or the new one. Whole-layer writes go through GDAL (pyogrio); upserts and
deletes edit the copy with sqlite3 directly, writing GeoPackage geometry blobs
and serving the few ST_ functions the GeoPackage R-tree triggers call, so a
one-feature edit does not rewrite a million-row layer.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from gridmap.catalogue import LAYER_NAMES, Layer, get_layer
from gridmap.errors import ConflictError, StoreError
from gridmap.frames import empty_frame
from gridmap.stores._frames import (
    PreparingStore,
    accepted_geometries,
    conformed,
    finish,
    geoms_of,
    prepare,
)
from gridmap.stores.base import BBox
from gridmap.stores.query import (
    COUNT_LIMIT,
    Page,
    Value,
    check_equals,
    check_window,
    matched_from_page,
    parse_order,
)

META = "gridmap_meta"
GEOMETRY_COLUMN = "geom"
SRS_ID = 4326
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
_POINT = shapely.GeometryType.POINT
_SYNC_OPTION = "OGR_SQLITE_SYNCHRONOUS"
_BATCH = 2_048  # candidates of a bbox page tested per round


def _ogr_geometry_type(spec: Layer) -> str:
    """The declared GeoPackage geometry type: generic GEOMETRY where several types are accepted."""
    return spec.geometry if len(accepted_geometries(spec)) == 1 else "Unknown"


class GeoPackageStore(PreparingStore):
    """A GeoPackage file; created with all seven (empty) layers when it does not exist."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(os.path.abspath(path))
        self.url = str(self.path)
        if not self.path.parent.is_dir():
            raise StoreError(f"cannot create store {self.url}: directory {self.path.parent} does not exist")
        self._remove_stale_copies()
        missing = self._missing_tables()
        if missing:
            with self._aside() as tmp:
                for name in missing:
                    if name != META:
                        _write_layer(tmp, name, empty_frame(name))
                with _sqlite(tmp) as conn:
                    _initialise(conn)

    def _remove_stale_copies(self) -> None:
        """Delete private copies left beside the store by a writer killed mid-write (kill -9, power loss).

        A writer holds the directory lock for as long as its copy exists, so a
        copy found while holding the lock has no writer left. When a writer is
        busy the lock is not waited for: the next open cleans up instead.
        """
        stale = re.compile(rf"\.{re.escape(self.path.stem)}\.[a-z0-9_]{{8}}\.tmp\.gpkg(-journal|-wal|-shm)?")
        with _locked(self.path.parent, wait=False) as held:
            if not held:
                return
            for entry in self.path.parent.iterdir():
                if stale.fullmatch(entry.name):
                    entry.unlink(missing_ok=True)

    def _missing_tables(self) -> list[str]:
        if not self.path.exists():
            return list(LAYER_NAMES)
        try:
            with _sqlite(self.path, readonly=True) as conn:
                tables = {row[0] for row in conn.execute("SELECT table_name FROM gpkg_contents")}
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
        get_layer(layer)
        try:
            if codes is None:
                frame = pyogrio.read_dataframe(self.path, layer=layer, bbox=bbox, use_arrow=True)
            else:
                fids = self._fids(layer, codes)
                if not fids:
                    return empty_frame(layer)
                frame = pyogrio.read_dataframe(self.path, layer=layer, fids=fids, use_arrow=True)
                # A writer may have renamed a new file in since the ids were looked up: keep only `codes`.
                frame = frame[frame["code"].isin([str(c) for c in codes])]
        except (DataSourceError, DataLayerError) as exc:
            raise StoreError(f"cannot read {layer} from {self.url}: {exc}") from None
        if bbox is not None:
            # The R-tree narrowed the read; this exact test also drops null geometries GDAL lets through.
            frame = frame[shapely.intersects(geoms_of(frame), shapely.box(*bbox))]
        return finish(layer, frame)

    def query(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        codes: Sequence[str] | None = None,
        equals: Mapping[str, Value] | None = None,
        limit: int | None = None,
        offset: int = 0,
        order: str = "code",
    ) -> Page:
        spec = get_layer(layer)
        by = parse_order(spec, order)
        check_window(limit, offset)
        where, params = _where(layer, bbox, codes, check_equals(spec, equals))
        column = f't."{by.name}"'
        # Nulls last in both directions, as in PostGIS (SQLite sorts them first when ascending).
        key = f"{column} DESC" if by.descending else column
        if by.name != "code":
            key = (key if by.descending else f"{column} IS NULL, {column}") + ", t.code"
        selected = "t.fid" if bbox is None else f't.fid, t."{GEOMETRY_COLUMN}"'
        sql = f'SELECT {selected} FROM "{layer}" t'
        sql += (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY {key}"
        with _sqlite(self.path, readonly=True) as conn:
            if bbox is None:
                fids, matched, more = _window(conn, layer, sql, where, params, limit, offset)
            else:
                fids, matched, more = _window_exact(conn.execute(sql, params), bbox, limit, offset)
        return Page(self._by_fids(layer, fids), matched, more)

    def _by_fids(self, layer: str, fids: list[int]) -> gpd.GeoDataFrame:
        """The features with these ids, in this order (a page: a few rows read through GDAL)."""
        if not fids:
            return empty_frame(layer)
        try:
            frame = pyogrio.read_dataframe(
                self.path, layer=layer, fids=fids, use_arrow=True, fid_as_index=True
            )
        except (DataSourceError, DataLayerError) as exc:
            raise StoreError(f"cannot read {layer} from {self.url}: {exc}") from None
        # A writer may have renamed a new file in since the ids were chosen: keep the ids still present.
        return conformed(layer, frame.reindex([f for f in fids if f in frame.index]))

    def _fids(self, layer: str, codes: Sequence[str]) -> list[int]:
        """Feature ids of `codes`, looked up with one bound JSON parameter (no SQL built from values)."""
        with _sqlite(self.path, readonly=True) as conn:
            rows = conn.execute(
                f'SELECT fid FROM "{layer}" WHERE code IN (SELECT value FROM json_each(?))',
                (_json_list(codes),),
            )
            return [row[0] for row in rows]

    def counts(self) -> dict[str, int]:
        with _sqlite(self.path, readonly=True) as conn:
            return {
                name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in LAYER_NAMES
            }

    def revision(self) -> str:
        """The write counter, plus the file's mtime and size so edits made by QGIS also count."""
        with _sqlite(self.path, readonly=True) as conn:
            counter = conn.execute(f"SELECT value FROM {META} WHERE key = 'revision'").fetchone()[0]
        stat = self.path.stat()
        return f"{counter}.{stat.st_mtime_ns}.{stat.st_size}"

    def last_modified(self) -> dict[str, dt.datetime | None]:
        with _sqlite(self.path, readonly=True) as conn:
            rows = dict(conn.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall())
        return {name: _parse_time(rows.get(name)) for name in LAYER_NAMES}

    # -- writing -----------------------------------------------------------

    def _replace_prepared(self, frames: Mapping[str, gpd.GeoDataFrame]) -> None:
        with self._aside() as tmp:
            for layer, data in frames.items():
                _write_layer(tmp, layer, data)
            with _sqlite(tmp) as conn:
                for layer in frames:
                    _index_codes(conn, layer)
                _touch(conn, list(frames))

    def upsert(self, layer: str, frame: gpd.GeoDataFrame) -> int:
        return self._write_rows(layer, frame, update=True)

    def insert(self, layer: str, frame: gpd.GeoDataFrame) -> int:
        return self._write_rows(layer, frame, update=False)

    def _write_rows(self, layer: str, frame: gpd.GeoDataFrame, *, update: bool) -> int:
        """INSERT the rows, updating existing codes or (not `update`) refusing them by the unique index.

        Writers hold the directory lock and copy the current file, so a code
        inserted by another process a moment earlier is already in the copy.
        """
        spec = get_layer(layer)
        data = prepare(layer, frame)
        if data.empty:
            return 0
        columns = [GEOMETRY_COLUMN, *spec.field_names]
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT INTO "{layer}" ({names}) VALUES ({", ".join("?" * len(columns))})'
        if update:
            updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "code")
            sql += f" ON CONFLICT (code) DO UPDATE SET {updates}"
        values = [_gpkg_blobs(geoms_of(data))]
        values += [data[f].astype(object).where(data[f].notna(), None).tolist() for f in spec.field_names]
        with self._aside() as tmp, _sqlite(tmp) as conn:
            try:
                conn.executemany(sql, zip(*values, strict=True))
            except sqlite3.IntegrityError:
                conn.rollback()  # drop the rows inserted before the refused one, then say which codes exist
                query = f'SELECT code FROM "{layer}" WHERE code IN (SELECT value FROM json_each(?))'
                taken = conn.execute(query, (_json_list(data["code"].tolist()),)).fetchall()
                if not taken:
                    raise  # some other constraint: a StoreError from `_sqlite`
                raise ConflictError.taken(layer, [row[0] for row in taken]) from None
            _touch(conn, [layer], bounds=data.total_bounds)
        return len(data)

    def delete(self, layer: str, codes: Sequence[str]) -> int:
        get_layer(layer)
        if not self._fids(layer, codes):
            return 0
        with self._aside() as tmp, _sqlite(tmp) as conn:
            sql = f'DELETE FROM "{layer}" WHERE code IN (SELECT value FROM json_each(?))'
            deleted = conn.execute(sql, (_json_list(codes),)).rowcount
            _touch(conn, [layer])
        return deleted

    @contextmanager
    def _aside(self) -> Iterator[Path]:
        """A private copy of the store to change; renamed over the store only if the block succeeds."""
        directory = self.path.parent
        with _locked(directory):
            fd, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".tmp.gpkg", dir=directory)
            os.close(fd)
            tmp = Path(name)
            try:
                if self.path.exists():
                    shutil.copyfile(self.path, tmp)
                    shutil.copymode(self.path, tmp)
                else:
                    tmp.unlink()  # GDAL creates the new file itself
                yield tmp
                _fsync(tmp)
                os.replace(tmp, self.path)
                _fsync(directory)
            except BaseException:
                for leftover in (tmp, *(Path(f"{tmp}{s}") for s in ("-journal", "-wal", "-shm"))):
                    leftover.unlink(missing_ok=True)
                raise


def _where(
    layer: str, bbox: BBox | None, codes: Sequence[str] | None, equals: Mapping[str, Value]
) -> tuple[list[str], dict[str, object]]:
    """SQL conditions with named parameters; the bbox narrows through the R-tree (exact test later)."""
    where: list[str] = []
    params: dict[str, object] = {}
    if bbox is not None:
        where.append(
            f't.fid IN (SELECT id FROM "rtree_{layer}_{GEOMETRY_COLUMN}" '
            "WHERE maxx >= :x0 AND minx <= :x1 AND maxy >= :y0 AND miny <= :y1)"
        )
        params.update(zip(("x0", "y0", "x1", "y1"), (float(v) for v in bbox), strict=True))
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
) -> tuple[list[int], int | None, bool]:
    """Ids of one page cut by SQL, the capped count of all matches, and whether more follow."""
    rows = conn.execute(
        f"{sql} LIMIT :limit OFFSET :offset", {**params, "limit": _sql_limit(limit), "offset": offset}
    )
    fids = [row[0] for row in rows]
    more = limit is not None and len(fids) > limit
    fids = fids[:limit] if limit is not None else fids
    matched = matched_from_page(offset, len(fids), more)
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
    box = shapely.box(*bbox)
    wanted = None if limit is None else offset + limit + 1
    found: list[int] = []
    total = 0
    while batch := rows.fetchmany(_BATCH):
        fids = np.array([row[0] for row in batch], dtype=np.int64)
        geoms = _geometries_of_blobs([row[1] for row in batch])
        hits = fids[shapely.intersects(geoms, box)]
        total += len(hits)
        if wanted is None or len(found) < wanted:
            found += hits[: None if wanted is None else wanted - len(found)].tolist()
        if wanted is not None and len(found) >= wanted and total > COUNT_LIMIT:
            break
    page = found[offset:] if limit is None else found[offset : offset + limit]
    more = limit is not None and len(found) > offset + limit
    return page, total if total <= COUNT_LIMIT else None, more


def _sql_limit(limit: int | None) -> int:
    """SQLite's LIMIT for a page (one row more, to tell whether another page follows); -1: no limit."""
    return -1 if limit is None else limit + 1


def _geometries_of_blobs(blobs: list[bytes | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage blobs: the WKB after the header and its envelope."""
    sizes = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
    wkb = [None if b is None else b[8 + sizes.get((b[3] >> 1) & 0b111, 0) :] for b in blobs]
    return shapely.from_wkb(np.array(wkb, dtype=object))


def _write_layer(path: Path, layer: str, frame: gpd.GeoDataFrame) -> None:
    """(Re)create one layer of the file at `path` from a prepared frame, R-tree included."""
    spec = get_layer(layer)
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
            )
    except (DataSourceError, DataLayerError) as exc:
        raise StoreError(f"cannot write {layer} to {path}: {exc}") from None


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
    """Create gridmap's own metadata table (registered as a GeoPackage attributes table)."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    conn.execute(f"INSERT OR IGNORE INTO {META} (key, value) VALUES ('revision', 0)")
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        f"VALUES ('{META}', 'attributes', '{META}', 'gridmap store revision')"
    )
    for name in LAYER_NAMES:
        _index_codes(conn, name)
    _touch(conn, [])


def _index_codes(conn: sqlite3.Connection, layer: str) -> None:
    """The unique index that makes code lookups fast and upserts possible (GDAL drops it on overwrite)."""
    conn.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS "{layer}_code" ON "{layer}" (code)')


def _touch(conn: sqlite3.Connection, layers: list[str], bounds: np.ndarray | None = None) -> None:
    """Bump the revision and stamp the changed layers (and widen their extent after an upsert)."""
    conn.execute(f"UPDATE {META} SET value = value + 1 WHERE key = 'revision'")
    for layer in layers:
        conn.execute(f"UPDATE gpkg_contents SET last_change = {_NOW} WHERE table_name = ?", (layer,))
        if bounds is not None and np.isfinite(bounds).all():
            x0, y0, x1, y1 = (float(b) for b in bounds)
            conn.execute(
                "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, :x0), :x0),"
                " min_y = min(coalesce(min_y, :y0), :y0), max_x = max(coalesce(max_x, :x1), :x1),"
                " max_y = max(coalesce(max_y, :y1), :y1) WHERE table_name = :layer",
                {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "layer": layer},
            )


@contextmanager
def _sqlite(path: Path, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection that commits on success and is always closed; the R-tree functions registered."""
    uri = path.as_uri() + ("?mode=ro" if readonly else "")
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.OperationalError as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    try:
        if not readonly:
            conn.execute("PRAGMA synchronous = OFF")  # only ever the private copy, fsynced before the rename
            conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
            for name, position in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
                conn.create_function(name, 1, _envelope_part(position), deterministic=True)
        yield conn
        conn.commit()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {exc}") from None
    finally:
        conn.close()


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
        minx, miny, maxx, maxy = shapely.from_wkb(blob[8:]).bounds
        return float((minx, maxx, miny, maxy)[position])

    return part


def _json_list(codes: Sequence[str]) -> str:
    return json.dumps([str(c) for c in codes], ensure_ascii=False)


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
    """Serialise writers: each copies the file, so two at once would lose one's change.

    Yields whether the lock is held (always, unless `wait` is False and another process holds it).
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
