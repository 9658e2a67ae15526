"""What both stores do to a frame before writing it and after reading it.

Checks that the database would otherwise enforce (or, in a GeoPackage, not
enforce at all) run here first, so both stores accept and refuse the same
frames with the same messages.
"""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from gridmap.catalogue import DATE_FIELDS, Layer, get_layer
from gridmap.changes import LayerChange, change_set, same_rows
from gridmap.errors import (
    ConflictError,
    NotFoundError,
    Problem,
    RevertConflictError,
    StoreError,
    ValidationError,
)
from gridmap.frames import WGS84, conform, empty_frame, is_canonical
from gridmap.history import Author, Revision, acting_as, current_author, feature_changes
from gridmap.stores.base import Store, current_receipt, receipt
from gridmap.stores.constraints import Constraint, constraints
from gridmap.stores.wkb import geometries
from gridmap.texts import Message
from gridmap.versions import stamp_validity

_POLYGON = shapely.GeometryType.POLYGON
_TYPE_NAMES = {t.value: t.name for t in shapely.GeometryType}


def accepted_geometries(spec: Layer) -> tuple[str, ...]:
    """Geometry types a layer stores (buildings keep Polygon and MultiPolygon as given)."""
    return spec.accepted_geometries or (spec.geometry,)


def prepare(layer: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Canonical, checked, ordered by code: the frame exactly as a store will hold it.

    Polygons of a MultiPolygon layer are promoted (a file of simple polygons is
    the common case); empty geometries become null.
    """
    spec = get_layer(layer)
    out = conform(spec, frame)
    geoms = geoms_of(out).copy()
    geoms[shapely.is_empty(geoms)] = None
    if spec.geometry == "MultiPolygon":
        single = shapely.get_type_id(geoms) == _POLYGON
        if single.any():
            geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(int(single.sum())))
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    out = _by_code(out)
    _check(spec, out)
    return out


def _check(spec: Layer, frame: gpd.GeoDataFrame) -> None:
    """Raise a StoreError naming the first offending codes of each kind of problem (frame sorted by code)."""
    problems: list[str] = []
    codes = frame["code"]
    constraints_of: dict[str, list[Constraint]] = {}
    for rule in constraints(spec):
        constraints_of.setdefault(rule.field, []).append(rule)
    for f in spec.fields:
        col = frame[f.name]
        if f.required and col.isna().any():
            problems.append(f"{f.name} is required but empty in {_sample(codes[col.isna()])}")
        for rule in constraints_of.get(f.name, []):
            bad = rule.broken(col)
            if bad.any():
                shown = codes[bad].astype("string").str.replace(r"[\x00-\x1f\x7f]", "?", regex=True)
                problems.append(f"{rule.reason} (see {_sample(shown)})")
        if f.name in DATE_FIELDS:
            bad = col.notna() & pd.to_datetime(col, format="%Y-%m-%d", errors="coerce").isna()
            if bad.any():
                problems.append(f"{f.name} must be a date like 2025-01-31 (see {_sample(codes[bad])})")
        if f.type == "text":
            # SQLite keeps text only up to a NUL and PostgreSQL refuses one: never stored cut short.
            bad = col.astype("string").str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
            if bad.any():
                shown = codes[bad].astype("string").str.replace("\x00", "\\0", regex=False)
                problems.append(f"{f.name} must not contain a NUL character (see {_sample(shown)})")
    ordered = codes.to_numpy(dtype=object, na_value=None)  # sorted by code: duplicates are neighbours
    repeated = np.flatnonzero((ordered[1:] == ordered[:-1]) & (ordered[1:] != None))  # noqa: E711
    if len(repeated):
        problems.append(f"duplicate codes {_sample(codes.iloc[repeated].drop_duplicates())}")
    present = {_TYPE_NAMES[int(t)] for t in np.unique(shapely.get_type_id(geoms_of(frame))) if t >= 0}
    wrong = present - {name.upper() for name in accepted_geometries(spec)}
    if wrong:
        allowed = " or ".join(accepted_geometries(spec))
        problems.append(f"geometry must be {allowed}, not {', '.join(sorted(wrong))}")
    if problems:
        raise StoreError(f"{spec.name}: " + "; ".join(problems))


def _sample(values: pd.Series, limit: int = 5) -> str:
    return ", ".join(str(v) for v in values.iloc[:limit]) or "(none)"


def geoms_of(frame: gpd.GeoDataFrame) -> np.ndarray:
    """The geometry column as a plain numpy object array (what shapely's functions take)."""
    return np.asarray(frame.geometry.values, dtype=object)


def finish(layer: str | Layer, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A frame read back from a store: canonical, ordered by code."""
    return _by_code(conformed(layer, frame))


def conformed(layer: str | Layer, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A frame read back from a store, canonical, in the order the store returned it.

    The store made `frame` for this call alone, so one already canonical is
    returned as it is rather than copied (half the cost of a page of ten).
    """
    if frame.empty:
        return empty_frame(layer)
    spec = get_layer(layer) if isinstance(layer, str) else layer
    return frame if is_canonical(spec, frame) else conform(spec, frame)


def in_force(spec: Layer, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Rows of current and closed versions valid on one date, one per code.

    `table` holds the layer's fields, `geometry`, `current` (1 for the stored
    row) and `superseded`. A reverted redrawing leaves its closed version in
    history while the restored row is current again: the current row wins,
    then the most recently superseded version.
    """
    ordered = table.sort_values(["code", "current", "superseded"], ascending=[True, False, False])
    chosen = ordered.drop_duplicates("code").drop(columns=["current", "superseded"])
    frame = gpd.GeoDataFrame(chosen, geometry="geometry", crs="EPSG:4326")
    return finish(spec, frame)


def _by_code(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if _ascending(frame["code"]):
        return frame
    return frame.sort_values("code", kind="stable", ignore_index=True)


def _ascending(codes: pd.Series) -> bool:
    """Whether `codes` never decrease; Arrow-backed text is compared in Arrow (pandas would box each)."""
    if not isinstance(codes.dtype, pd.StringDtype) or codes.dtype.storage != "pyarrow" or len(codes) < 2:
        return bool(codes.is_monotonic_increasing)
    values = pa.array(codes.array)
    if values.null_count:
        return False
    return bool(pc.all(pc.less_equal(values[:-1], values[1:])).as_py())


class PreparingStore(Store):
    """A store whose writes all go through one path: prepare, compare with what is stored, commit.

    The change set (`gridmap.changes`) and the boundary validity dates
    (`gridmap.versions`) are computed here for both backends; a backend only
    reads its stored rows and commits a list of `LayerChange`s, with their
    history and the revision record, in one transaction of its own. Writers
    are optimistic: a backend refuses the commit when another write landed
    since the rows were read, and the write is computed again.
    """

    def replace(self, layer: str, frame: gpd.GeoDataFrame) -> int:
        data = prepare(layer, frame)
        self._write({layer: data}, whole=True)
        return len(data)

    def replace_many(self, frames: Mapping[str, gpd.GeoDataFrame]) -> None:
        self._write({layer: prepare(layer, frame) for layer, frame in frames.items()}, whole=True)

    def upsert(self, layer: str, frame: gpd.GeoDataFrame) -> int:
        data = prepare(layer, frame)
        if data.empty:
            return 0
        self._write({layer: data}, whole=False)
        return len(data)

    def insert(self, layer: str, frame: gpd.GeoDataFrame) -> int:
        """Create-only: decided on the stored rows read for the write, which the commit checks are
        still the latest (another write in between makes it read again), so of two simultaneous
        creates of one code exactly one succeeds."""
        data = prepare(layer, frame)
        if data.empty:
            return 0
        self._write({layer: data}, whole=False, create_only=True)
        return len(data)

    def delete(self, layer: str, codes: Sequence[str]) -> int:
        get_layer(layer)
        wanted = [str(c) for c in codes]
        done = self._write({layer: empty_frame(layer)}, whole=False, drop={layer: wanted})
        return sum(len(c.deleted) for c in done)

    # -- the shared write path -----------------------------------------------

    def _write(
        self,
        frames: Mapping[str, gpd.GeoDataFrame],
        *,
        whole: bool,
        drop: Mapping[str, list[str]] | None = None,
        reverts: int | None = None,
        create_only: bool = False,
        plan: Plan | None = None,
    ) -> list[LayerChange]:
        """Compute each layer's change set and commit them as one revision (nothing when nothing changed).

        With `plan`, the frames and codes to drop are what `plan()` decides on the
        store as it stands, asked again on every attempt after the revision is
        noted: a commit lands only on the state its decision read (a revert's
        conflict check cannot be overtaken by an edit). A `receipt()` being
        collected gets the written rows as the committing transaction left them.
        """
        author = current_author()
        wanted = current_receipt()
        for attempt in range(_ATTEMPTS):
            # The last attempt holds the writers' turn from reading to commit, so it cannot be overtaken.
            holding = attempt == _ATTEMPTS - 1
            with self._writers_turn() if holding else nullcontext() as turn:
                seen = self._counter()
                if plan is not None:
                    frames, drop = plan()
                changes = [
                    self._change(
                        layer,
                        data,
                        whole=whole,
                        drop=(drop or {}).get(layer),
                        exact=reverts is not None,
                        create_only=create_only,
                    )
                    for layer, data in frames.items()
                ]
                changed = [c for c in changes if not c.empty]
                if not changed:
                    return []
                done = self._commit(
                    changed, author, reverts=reverts, expected=seen, turn=turn, read_back=wanted is not None
                )
                if done is not None:
                    if wanted is not None:
                        wanted.revision, _ = done
                        wanted.rows.update(done[1])
                    return changed
        raise StoreError(
            f"{self.url}: other writes kept landing during this one; nothing was changed, try again"
        )

    def _change(
        self,
        layer: str,
        data: gpd.GeoDataFrame,
        *,
        whole: bool,
        drop: list[str] | None,
        exact: bool,
        create_only: bool = False,
    ) -> LayerChange:
        spec = get_layer(layer)
        codes = None if whole else [*data["code"].astype(str), *(drop or [])]
        before = self._stored(layer, codes)
        if create_only and len(before):
            raise ConflictError.taken(layer, before["code"].astype(str).tolist())
        closed = None
        if spec.versioned and not exact:
            populated = len(before) > 0 or (not whole and self.counts()[layer] > 0)
            new_codes = data["code"].astype(str)
            fresh = new_codes[~new_codes.isin(before["code"].astype(str))].tolist()
            retired = self._retired(layer, fresh) if fresh else before.iloc[:0]
            data, closed = stamp_validity(spec, before, data, populated=populated, retired=retired)
        return change_set(layer, before, data, whole=whole, closed_on=closed, drop=drop)

    def history(
        self,
        *,
        layer: str | None = None,
        code: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[Revision]:
        if layer is not None:
            get_layer(layer)
        if code is not None and layer is None:
            raise StoreError("a history by code needs its layer (--layer)")
        return self._revisions(layer=layer, code=code, since=since, limit=limit)

    def changes(self, revision: int, *, layer: str | None = None, code: str | None = None) -> Revision:
        found = self._revisions(ids=[revision])
        if not found:
            raise NotFoundError(Message("history.no_revision", store=self.url, revision=revision))
        record = found[0]
        for name in record.counts:
            if layer is not None and name != layer:
                continue
            before, after = self._revision_rows(name, revision)
            if code is not None:
                before, after = before[before["code"] == code], after[after["code"] == code]
            record.changes += feature_changes(name, before, after)
        return record

    def log_position(self) -> int | None:
        return int(self._counter())

    def touched_since(self, position: int, *, most: int = 100_000) -> dict[str, list[str]] | None:
        last = int(self._counter())
        if last <= position:
            return {}
        records = self._revisions(ids=list(range(position + 1, last + 1)))
        if len(records) != last - position:
            return None
        if sum(n for record in records for ops in record.counts.values() for n in ops.values()) > most:
            return None
        touched: dict[str, set[str]] = {}
        for record in records:
            for layer in record.counts:
                before, after = self._revision_rows(layer, record.id)
                touched.setdefault(layer, set()).update(before["code"].astype(str), after["code"].astype(str))
        return {layer: sorted(codes) for layer, codes in touched.items()}

    def revert(self, revision: int) -> int:
        """Write back every feature's state before `revision`.

        Refused when a feature's stored state is no longer what the revision
        wrote (a later revision changed it and was not itself reverted): the
        later change would be overwritten silently.
        """
        record = self.changes(revision)
        # What the revision wrote and replaced never changes; only the store's state does.
        rows = {layer: self._revision_rows(layer, revision) for layer in record.counts}

        def plan() -> tuple[dict[str, gpd.GeoDataFrame], dict[str, list[str]]]:
            """Decided on the store as it stands at this attempt (see `_write`)."""
            restore: dict[str, gpd.GeoDataFrame] = {}
            drop: dict[str, list[str]] = {}
            for layer, (before, after) in rows.items():
                codes = sorted({*before["code"].astype(str), *after["code"].astype(str)})
                moved_on = _differs(layer, self._stored(layer, codes), after, codes)
                if moved_on:
                    later = {c: r for c, r in self._last_touch(layer, moved_on).items() if r != revision}
                    shown = ", ".join(f"{c} (revision {later.get(c, '?')})" for c in moved_on[:10])
                    raise RevertConflictError(
                        f"revision {revision} cannot be reverted: {layer} {shown} changed again since; "
                        "revert the later revisions first (newest first)"
                    )
                restore[layer] = prepare(layer, before)
                drop[layer] = sorted(set(after["code"].astype(str)) - set(before["code"].astype(str)))
            _check_parents(self, restore, drop, f"revert of revision {revision}")
            return restore, drop

        with acting_as_revert(revision), receipt() as got:
            done = self._write({}, whole=False, reverts=revision, plan=plan)
        if not done or got.revision is None:
            raise RevertConflictError(Message("history.nothing_to_revert", revision=revision))
        outer = current_receipt()
        if outer is not None:
            outer.revision = got.revision
            outer.rows.update(got.rows)
        return got.revision

    # -- what a backend provides ------------------------------------------------

    @abstractmethod
    def _counter(self) -> int:
        """The number of the last committed revision."""

    @abstractmethod
    def _stored(self, layer: str, codes: Sequence[str] | None) -> gpd.GeoDataFrame:
        """Stored rows (all, or of `codes`) in the canonical layout plus their `revision`."""

    @abstractmethod
    def _retired(self, layer: str, codes: Sequence[str]) -> gpd.GeoDataFrame:
        """The last closed version of each of `codes` that is no longer in the layer."""

    @abstractmethod
    def _writers_turn(self) -> AbstractContextManager[Any]:
        """Exclusive among every writer of this store, in any process, while the block runs.

        Every commit takes it; a writer overtaken too often holds it from reading the
        stored rows to its commit, so a busy store slows writers down but never fails one.
        """

    @abstractmethod
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
        """Apply the changes, their history and the revision record in one transaction.

        `turn` is what `_writers_turn` yielded when the caller holds it; otherwise the
        commit takes the turn itself. Returns None (and changes nothing) when the last
        revision is no longer `expected`, else the new revision and, with `read_back`,
        the rows of every code a change wrote or deleted (not of whole-layer loads)
        as this transaction left them, in the catalogue's layout.
        """

    @abstractmethod
    def _revision_rows(self, layer: str, revision: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """The rows of `layer` that `revision` superseded, and those it wrote (with `revision`)."""

    @abstractmethod
    def _revisions(
        self,
        *,
        ids: Sequence[int] | None = None,
        layer: str | None = None,
        code: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[Revision]:
        """Revision records (without their changes), newest first, filtered as `history` describes."""

    @abstractmethod
    def _last_touch(self, layer: str, codes: Sequence[str]) -> dict[str, int]:
        """The latest revision that wrote or superseded each of `codes`."""


_ATTEMPTS = 3

Plan = Callable[[], tuple[Mapping[str, gpd.GeoDataFrame], Mapping[str, list[str]]]]
"""A write decided on the store as it stands: the frames to write and, per layer, the codes to drop."""

Committed = tuple[int, dict[str, gpd.GeoDataFrame]]
"""A commit's revision and the rows it read back (`PreparingStore._commit`)."""


def read_back_codes(change: LayerChange) -> list[str] | None:
    """The codes whose committed rows a receipt reports for `change` (None: a whole-layer load)."""
    if change.whole is not None:
        return None
    return sorted({*change.rows["code"].astype(str), *change.deleted})


def acting_as_revert(revision: int) -> AbstractContextManager[Author]:
    """The author of a revert: whoever asked for it, with the command naming the reverted revision."""
    author = current_author()
    command = author.command if "revert" in author.command else f"revert {revision}"
    return acting_as(author.name, author.role, command)


def _differs(layer: str, now: gpd.GeoDataFrame, wrote: gpd.GeoDataFrame, codes: list[str]) -> list[str]:
    """Codes whose stored state is no longer what a revision wrote (present, absent or other values)."""
    spec = get_layer(layer)
    now = now.set_index(now["code"].astype(str)).reindex(codes)
    wrote = wrote.set_index(wrote["code"].astype(str)).reindex(codes)
    present_now, present_then = now["code"].notna().to_numpy(), wrote["code"].notna().to_numpy()
    both = present_now & present_then
    same = present_now == present_then
    if both.any():
        same[both] = same_rows(spec, now[both].reset_index(drop=True), wrote[both].reset_index(drop=True))
    return [c for c, ok in zip(codes, same, strict=True) if not ok]


def _check_parents(
    store: Store, restore: Mapping[str, gpd.GeoDataFrame], drop: Mapping[str, list[str]], source: str
) -> None:
    """Features written back must name parents that will exist: the same check as an import."""
    problems: list[Problem] = []
    for layer, frame in restore.items():
        for parent in get_layer(layer).parents:
            wanted = sorted(set(frame[parent.field].dropna().astype(str)))
            if not wanted:
                continue
            found = set(store.read(parent.layer, codes=wanted)["code"].astype(str))
            if parent.layer in restore:
                found |= set(restore[parent.layer]["code"].astype(str))
            found -= set(drop.get(parent.layer, []))
            for code in sorted(set(wanted) - found):
                problems.append(Problem(None, parent.field, f"{parent.layer} {code} no longer exists", code))
    if problems:
        raise ValidationError(source, problems)


_ARROW_TYPES = {"text": pa.string(), "integer": pa.int64(), "real": pa.float64(), "boolean": pa.bool_()}
_PANDAS_TYPES = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def arrow_types(layer: str, columns: Sequence[str]) -> dict[str, pa.DataType]:
    """The Arrow type of each named catalogue field of `layer` (unknown names raise StoreError)."""
    spec = get_layer(layer)
    known = {f.name: f for f in spec.fields}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise StoreError(f"{layer} has no field {', '.join(unknown)}")
    return {c: _ARROW_TYPES[known[c].type] for c in columns}


def arrow_frame(
    layer: str, table: pa.Table, columns: Sequence[str], wkb: pa.Array | pa.ChunkedArray
) -> gpd.GeoDataFrame:
    """`read_columns`' frame from an Arrow table of the fields and a WKB column (binary or hex)."""
    types = arrow_types(layer, columns)
    table = table.select(list(columns)).cast(pa.schema([(c, types[c]) for c in columns]))
    frame = table.to_pandas(types_mapper=_PANDAS_TYPES.get)
    geometry = geometries(wkb)
    out = gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84)
    return _by_code(out) if "code" in out.columns else out
