"""`import_file`: read, map, validate fully, then write in one atomic store call.

Nothing reaches the store until the whole file has been checked, so a file
with any problem changes nothing; the ValidationError lists every problem.
Rows are numbered from 1: the data row of a CSV or XLSX (header excluded),
or the feature's position in a vector layer. A file with no rows is refused,
so an empty export cannot wipe a layer.
`mode="append"` is an upsert: a code that already exists in the store is
updated in place, a new code is inserted (the report counts both).
`mode="create"` only inserts: a code that already exists is a ConflictError
raised by the store's unique key, and nothing is written.
A big file (a vector layer, a CSV or a workbook's sheet) is read, checked and
written a chunk at a time, in memory bounded by the chunk (`_import_chunked`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from gridmap.catalogue import Layer, get_layer
from gridmap.crs import CRSInput, CRSSpec, parse_crs
from gridmap.errors import ConflictError, CRSError, GridmapError, ImportCancelled, Problem, ValidationError
from gridmap.formats import read_as
from gridmap.frames import WGS84, conform, empty_frame
from gridmap.ingest.area import ServiceArea, service_area
from gridmap.ingest.changes import ChangeSet, change_set, merged_change_sets
from gridmap.ingest.columns import ColumnMapping, map_columns
from gridmap.ingest.derive import SMALL_WRITE, GridDeriver, with_grid_codes
from gridmap.ingest.geometry import (
    GEOMETRY,
    Geoms,
    check_and_transform,
    from_columns,
    has_geometry_columns,
)
from gridmap.ingest.memory import give_back
from gridmap.ingest.readers import (
    CsvRows,
    Source,
    VectorRows,
    XlsxRows,
    csv_rows,
    read_csv_chunks,
    read_source,
    read_vector_chunks,
    read_xlsx_chunks,
    vector_rows,
    xlsx_rows,
)
from gridmap.ingest.rejects import ROW, rejected_rows
from gridmap.ingest.repeats import CodesSeen
from gridmap.ingest.spool import Spool
from gridmap.ingest.spreadsheet import mangled_columns
from gridmap.ingest.values import TEXT, read_fields
from gridmap.stores.base import Store
from gridmap.texts import Message

Mode = Literal["replace", "append", "create"]
CHUNK_ROWS = 200_000
"""Rows per chunk of a big import: about 0.2 GB of frames at a time."""
Progress = Callable[[str], None]
MODES: tuple[Mode, ...] = ("replace", "append", "create")
# Called with the frame exactly as it will be written, before anything is written (may raise).
Check = Callable[[gpd.GeoDataFrame], None]
Slices = VectorRows | CsvRows | XlsxRows
"""A file read a chunk at a time: a vector layer, a CSV or a workbook's sheet."""


@dataclass
class ImportReport:
    """What an import read, how it mapped the columns, what it repaired, refused, would change and wrote."""

    layer: str
    source: str
    format: str
    source_layer: str | None
    encoding: str | None
    crs: str
    mode: Mode
    rows: int
    written: int
    mapping: dict[str, str]
    geometry_columns: dict[str, str]
    ignored: dict[str, str]
    repaired: list[Problem] = field(default_factory=list)
    placed_at_building: int = 0
    inserted: int | None = None
    updated: int | None = None
    seconds: float = 0.0
    changes: ChangeSet | None = None
    rejected: pd.DataFrame | None = None
    """Rows refused under `skip_invalid`: the file's own cells plus `row` and `reasons`."""
    renamed: dict[str, str] = field(default_factory=dict)
    """Shapefile columns given back their full names by gridmap's sidecar."""
    dry_run: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


Confirm = Callable[[ChangeSet], bool]


def import_file(
    store: Store,
    layer: str,
    path: str | Path,
    *,
    crs: CRSInput | None = None,
    mode: Mode = "replace",
    fix: bool = False,
    source_layer: str | None = None,
    progress: Progress | None = None,
    encoding: str | None = None,
    ignore: Collection[str] = (),
    skip_invalid: bool = False,
    dry_run: bool = False,
    preview: Callable[[ImportReport], None] | None = None,
    confirm: Confirm | None = None,
    check: Check | None = None,
    chunk_rows: int | None = None,
) -> ImportReport:
    """Import `path` into `layer` of `store`, or raise ValidationError (and change nothing).

    `crs` says what the coordinates are in (it wins over the file's own CRS;
    CSV/XLSX without it are WGS84); `fix` repairs invalid polygons with
    make_valid and cells with an obvious safe repair (2.5 floors, "3层");
    `source_layer` picks a layer or sheet of a multi-layer file; `encoding`
    overrides the text encoding; columns in `ignore` are left out even when
    they look like a field. With `skip_invalid`, rows with problems are
    refused (listed in `ImportReport.rejected`) and the others loaded.
    `check` sees the validated frame, grid codes derived, before the write
    (the API's write authorisation judges it there).

    The change set is computed before anything is written and handed to
    `preview`; `dry_run` stops there. A write that would remove features (a
    replace) or clear values of a field the file has no column for asks
    `confirm` (when given) and raises ImportCancelled on a no.

    A file of more than `chunk_rows` rows (default `CHUNK_ROWS`) from a vector
    file, a CSV or a workbook runs chunk by chunk, in memory bounded by the
    chunk (`_import_chunked`), with the same result.
    """
    started = time.perf_counter()
    spec = _layer(layer, mode)
    file = Path(path)
    size = chunk_rows or CHUNK_ROWS
    if not spec.versioned:
        slices = _slices(file, spec, source_layer, encoding)
        if slices is not None and slices.rows > size:
            options = _Options(
                mode, crs, fix, progress, encoding, ignore, skip_invalid, dry_run, preview, confirm, check
            )
            return _import_chunked(store, spec, slices, size, options, started)
    (progress or _quiet)(f"reading {file.name}")
    source = read_source(file, spec, source_layer=source_layer, encoding=encoding)
    return import_source(
        store,
        layer,
        source,
        crs=crs,
        mode=mode,
        fix=fix,
        progress=progress,
        ignore=ignore,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        preview=preview,
        confirm=confirm,
        check=check,
        started=started,
    )


def import_source(
    store: Store,
    layer: str,
    source: Source,
    *,
    crs: CRSInput | None = None,
    mode: Mode = "replace",
    fix: bool = False,
    progress: Progress | None = None,
    ignore: Collection[str] = (),
    skip_invalid: bool = False,
    dry_run: bool = False,
    preview: Callable[[ImportReport], None] | None = None,
    confirm: Confirm | None = None,
    check: Check | None = None,
    started: float | None = None,
) -> ImportReport:
    """The one validation and write of every import, whether read from a file or handed over in
    memory (the API's edits: `gridmap.ingest.features`); options as for `import_file`."""
    started = time.perf_counter() if started is None else started
    spec = _layer(layer, mode)
    say = progress or _quiet
    mapping = map_columns(spec, source.table.columns, tabular=source.tabular, ignore=ignore)
    declared = _declared_crs(source, crs)

    say(f"validating {len(source.table):,} rows")
    checked = _validated(store, spec, source, mapping, declared, fix=fix, skip_invalid=skip_invalid)
    frame = with_grid_codes(store, spec, checked.frame)
    if check is not None:
        check(frame)
    say("comparing with the store")
    # A replace compares with the whole layer (what it would remove); other modes only with their codes.
    current = (
        store.read(spec.name)
        if mode == "replace"
        else store.read(spec.name, codes=frame["code"].astype(str).tolist())
    )
    changes = change_set(spec.name, current, frame, mode, provided=mapping.fields.keys())
    report = ImportReport(
        layer=spec.name,
        source=str(source.path),
        format=source.format,
        source_layer=source.layer,
        encoding=source.encoding,
        crs=declared.name,
        mode=mode,
        rows=len(frame),
        written=0,
        mapping={f: mapping.fields[f] for f in spec.field_names if f in mapping.fields},
        geometry_columns=dict(mapping.geometry),
        ignored=dict(mapping.ignored),
        repaired=checked.repaired,
        placed_at_building=checked.placed,
        changes=changes,
        rejected=checked.rejected,
        renamed=dict(source.renamed or {}),
        dry_run=dry_run,
    )
    if preview is not None:
        preview(report)
    if dry_run:
        report.seconds = time.perf_counter() - started
        return report
    if changes.loses_data and confirm is not None and not confirm(changes):
        raise ImportCancelled(Message("import.not_confirmed", file=source.path))
    say(f"writing {len(frame):,} {spec.name}")
    if mode == "replace":
        report.written = store.replace(spec.name, frame)
    elif mode == "create":
        report.written = report.inserted = store.insert(spec.name, frame)
        report.updated = 0
    else:
        report.written = store.upsert(spec.name, frame)
        report.inserted = changes.added
        report.updated = report.written - changes.added
    report.seconds = time.perf_counter() - started
    return report


def _slices(file: Path, spec: Layer, source_layer: str | None, encoding: str | None) -> Slices | None:
    """How `file` reads a chunk at a time (None when only whole)."""
    found = read_as(file)
    if found is not None and found.key == "csv" and file.is_file():
        return csv_rows(file, encoding)
    if found is not None and found.key == "xlsx" and file.is_file():
        return xlsx_rows(file, spec, source_layer)
    return vector_rows(file, spec, source_layer=source_layer, encoding=encoding)


def _quiet(_message: str) -> None:
    """No progress shown."""


def _layer(layer: str, mode: str) -> Layer:
    spec = get_layer(layer)
    if mode not in MODES:
        raise GridmapError(f"unknown import mode {mode!r}; expected one of: {', '.join(MODES)}")
    return spec


@dataclass
class _Checked:
    """The canonical frame to write, and what validation repaired, placed and refused on the way."""

    frame: gpd.GeoDataFrame
    repaired: list[Problem]
    placed: int
    rejected: pd.DataFrame | None


@dataclass
class _Context:
    """What every row of one import is checked against, read from the store once (not per chunk)."""

    store: Store
    area: ServiceArea
    parents: dict[str, gpd.GeoDataFrame]
    whole: bool
    """Whether `parents` are the entire parent layers (not only the rows the values name)."""
    _register: gpd.GeoDataFrame | None = None

    def register(self) -> gpd.GeoDataFrame:
        """Every building: read when some row must be placed by its address, then kept."""
        if self._register is None:
            self._register = self.store.read("buildings")
        return self._register


def _context(store: Store, spec: Layer, declared: CRSSpec, values: pd.DataFrame | None) -> _Context:
    """The import's context; `values` None reads every parent layer whole (a chunked import)."""
    area = service_area(store, spec.name, declared)
    parents = {
        parent.layer: (
            store.read(parent.layer)
            if values is None
            else _parents(store, parent.layer, values, parent.field)
        )
        for parent in spec.parents
    }
    return _Context(store, area, parents, values is None or len(values) > SMALL_WRITE)


@dataclass
class _Found:
    """One table's values and geometries as checked, with its problems (rows numbered within it)."""

    values: pd.DataFrame
    geoms: Geoms
    problems: list[Problem]
    repaired: list[Problem]
    placed: int


def _check_rows(
    spec: Layer,
    source: Source,
    mapping: ColumnMapping,
    declared: CRSSpec,
    *,
    fix: bool,
    context: _Context | None,
    store: Store,
    offset: int = 0,
) -> _Found:
    """Every per-row check of `source.table` (duplicate codes aside: they span the file).

    `offset` is the number of rows before this table in the file (a chunk's), for
    the whole-file problems that name a row.
    """
    problems = [
        Problem(None, column, Message("import.unmapped", why=why, column=column))
        for column, why in mapping.unmapped.items()
    ]
    mangled = mangled_columns(spec, source.table, mapping, offset=offset)
    if mangled:  # every row would fail on its code: say why once instead
        raise ValidationError(str(source.path), mangled)
    read = read_fields(spec, source.table, mapping, fix=fix)
    values = read.values
    problems += read.problems
    geoms, geometry_problems = _source_geometries(source, mapping)
    problems += geometry_problems
    if context is None:
        context = _context(store, spec, declared, values)
    checked = check_and_transform(spec, geoms, declared, fix=fix, area=context.area)
    problems += checked.problems
    for parent in spec.parents:
        problems += _unknown_parents(
            store, values, parent.field, parent.layer, context.parents[parent.layer], whole=context.whole
        )
    reported = np.zeros(len(values), dtype=bool)
    reported[[p.row - 1 for p in geometry_problems if p.row]] = True
    placed, unplaced = _fill_missing(
        spec, source, mapping, values, checked.geoms, context.parents.get("buildings"), reported, context
    )
    problems += unplaced
    return _Found(values, checked.geoms, problems, read.repaired + checked.repaired, placed)


def _validated(
    store: Store,
    spec: Layer,
    source: Source,
    mapping: ColumnMapping,
    declared: CRSSpec,
    *,
    fix: bool,
    skip_invalid: bool,
) -> _Checked:
    """The canonical frame to write, or a ValidationError listing every problem of the file.

    Every check runs over the whole file before anything is raised. With
    `skip_invalid` the rows with problems are set aside instead (problems of
    the file as a whole still refuse it).
    """
    if source.table.empty:
        raise ValidationError(str(source.path), [Problem(None, None, Message("import.no_rows"))])
    found = _check_rows(spec, source, mapping, declared, fix=fix, context=None, store=store)
    values = found.values
    problems = found.problems + _duplicate_codes(values)
    repaired = found.repaired
    rejected: pd.DataFrame | None = None
    keep = np.ones(len(values), dtype=bool)
    if problems:
        problems = sorted(_with_codes(problems, values), key=_problem_order(spec))
        whole_file = [p for p in problems if p.row is None]
        if not skip_invalid or whole_file:
            raise ValidationError(str(source.path), whole_file if skip_invalid else problems)
        rejected = rejected_rows(source.table, problems)
        keep[rejected["row"].to_numpy() - 1] = False
        if not keep.any():
            raise ValidationError(
                str(source.path), [Problem(None, None, Message("import.every_row", n=len(keep)))]
            )
        repaired = [p for p in repaired if p.row is None or keep[p.row - 1]]
    frame = _canonical(spec, values, found.geoms, keep)
    return _Checked(frame, repaired, found.placed, rejected)


def _canonical(
    spec: Layer, values: pd.DataFrame, geoms: Geoms, keep: npt.NDArray[np.bool_]
) -> gpd.GeoDataFrame:
    """The rows kept, as the layer's canonical frame."""
    return conform(
        spec,
        gpd.GeoDataFrame(
            values[keep].reset_index(drop=True),
            geometry=gpd.GeoSeries(geoms[keep]),
            crs=WGS84,
        ),
    )


def _declared_crs(source: Source, crs: CRSInput | None) -> CRSSpec:
    """The CRS the coordinates are in: the caller's word, else the file's, else WGS84 for tables."""
    if crs is not None:
        return parse_crs(crs)
    if source.declared_crs is not None:
        return parse_crs(source.declared_crs)
    if source.crs is not None:
        return parse_crs(source.crs)
    if source.tabular:
        return parse_crs("wgs84")
    raise CRSError(Message("import.no_crs", file=source.path))


def _source_geometries(source: Source, mapping: ColumnMapping) -> tuple[Geoms, list[Problem]]:
    if source.geometry is not None:
        return shapely.force_2d(np.asarray(source.geometry.values, dtype=object)), []
    return from_columns(source.table, mapping)


def _duplicate_codes(values: pd.DataFrame) -> list[Problem]:
    """Each repeat of a code names the row it first appeared in."""
    if "code" not in values:
        return []
    codes = values["code"]
    repeated = codes.duplicated(keep="first") & codes.notna()
    if not repeated.any():
        return []
    first_rows = pd.Series(np.arange(len(codes)) + 1, index=codes.to_numpy()).groupby(level=0).min()
    return [
        Problem(
            int(i) + 1,
            "code",
            Message("import.duplicate", code=repr(code), first=int(first_rows[code])),
            str(code),
        )
        for i, code in zip(np.flatnonzero(repeated.to_numpy()), codes[repeated], strict=True)
    ]


def _parents(store: Store, layer: str, values: pd.DataFrame, name: str) -> gpd.GeoDataFrame:
    """The parent features `values` name: only those for a small write (a one-feature edit reads its
    own parents, not the layer), the whole layer for a bulk import (one scan beats a long code list)."""
    if name in values and len(values) <= SMALL_WRITE:
        return store.read(layer, codes=values[name].dropna().astype(str).unique().tolist())
    return store.read(layer)


def _unknown_parents(
    store: Store, values: pd.DataFrame, name: str, layer: str, known: gpd.GeoDataFrame, *, whole: bool
) -> list[Problem]:
    """A problem per reference to a parent not in `known` (`whole`: the entire parent layer, so the
    store is not asked again whether that layer is empty; a chunked import's write holds it)."""
    if name not in values:
        return []
    refs = values[name]
    # Arrow's hash lookup: a million references against the parent codes in milliseconds.
    found = pc.is_in(pa.array(refs.astype(TEXT).array), value_set=pa.array(known["code"].astype(TEXT).array))
    unknown = refs.notna().to_numpy() & ~np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    if not unknown.any():
        return []
    empty = known.empty if whole else store.counts().get(layer, 0) == 0
    hint = Message("import.parent_empty", layer=layer) if empty else ""
    return [
        Problem(
            int(i) + 1,
            name,
            Message("import.unknown_parent", field=name, ref=repr(ref), layer=layer, hint=hint),
        )
        for i, ref in zip(np.flatnonzero(unknown), refs[unknown], strict=True)
    ]


def _address_key(addresses: pd.Series) -> pd.Series:
    """Addresses compared ignoring width and spacing (全角/半角, stray blanks)."""
    return addresses.astype(TEXT).str.normalize("NFKC").str.replace(r"\s+", "", regex=True)


def _fill_missing(
    spec: Layer,
    source: Source,
    mapping: ColumnMapping,
    values: pd.DataFrame,
    geoms: Geoms,
    buildings: gpd.GeoDataFrame | None,
    reported: npt.NDArray[np.bool_],
    context: _Context,
) -> tuple[int, list[Problem]]:
    """Rows without geometry: households take their building's point (by code, else address); others fail.

    `buildings` are those the rows name by code; the whole register is read only when some row must
    be placed by its address. Returns how many households were placed, and a problem for each row
    left without a geometry (except the `reported` rows, whose coordinates were already found
    unreadable).
    """
    missing = shapely.is_missing(geoms) & ~reported
    if not missing.any():
        return 0, []
    if spec.name != "households":
        if source.tabular and not has_geometry_columns(mapping):
            return 0, [Problem(None, GEOMETRY, _NO_GEOMETRY_COLUMNS)]
        return 0, [
            Problem(int(i) + 1, GEOMETRY, Message("import.no_geometry")) for i in np.flatnonzero(missing)
        ]
    rows = np.flatnonzero(missing)
    found = np.zeros(len(rows), dtype=bool)
    if buildings is not None and not buildings.empty and "building_code" in values:
        at = pd.Index(buildings["code"]).get_indexer(values["building_code"].iloc[rows])
        found = _place(geoms, rows, at, buildings)
    if "address" in values and not found.all():
        everyone = context.register()
        keys = _address_key(everyone["address"])
        unique = keys[keys.notna() & ~keys.duplicated(keep=False)]
        by_address = pd.Index(unique).get_indexer(_address_key(values["address"].iloc[rows[~found]]))
        at = np.where(by_address >= 0, unique.index.to_numpy()[by_address], -1)
        found[~found] = _place(geoms, rows[~found], at, everyone)
    reason = Message("import.no_building")
    return int(found.sum()), [Problem(int(i) + 1, GEOMETRY, reason) for i in rows[~found]]


def _place(
    geoms: Geoms, rows: npt.NDArray[np.intp], at: npt.NDArray[np.intp], buildings: gpd.GeoDataFrame
) -> npt.NDArray[np.bool_]:
    """Rows given the point of the building at their position in `buildings` (-1: none); which were."""
    placed = at >= 0
    if placed.any():
        points = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object)[at[placed]])
        geoms[rows[placed]] = points
    return placed


_NO_GEOMETRY_COLUMNS = Message("import.no_geometry_columns")


def _with_codes(problems: list[Problem], values: pd.DataFrame) -> list[Problem]:
    """Name each row's code beside its number, so a problem can be found in the file either way."""
    if "code" not in values:
        return problems
    codes = values["code"].astype(object).where(values["code"].notna(), None).to_numpy()
    return [
        replace(p, code=str(codes[p.row - 1])) if p.row and p.code is None and codes[p.row - 1] else p
        for p in problems
    ]


def _problem_order(spec: Layer) -> Callable[[Problem], tuple[int, int]]:
    """File-level problems first, then by row, and within a row in the layer's field order."""
    order = {name: i for i, name in enumerate(spec.columns)}
    return lambda p: (p.row or 0, order.get(p.field or "", -1))


# --- chunked imports ----------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    """The caller's options of `import_file`, carried into a chunked import."""

    mode: Mode
    crs: CRSInput | None
    fix: bool
    progress: Progress | None
    encoding: str | None
    ignore: Collection[str]
    skip_invalid: bool
    dry_run: bool
    preview: Callable[[ImportReport], None] | None
    confirm: Confirm | None
    check: Check | None


@dataclass
class _FirstPass:
    """What the validating pass keeps of a file read chunk by chunk: no rows, only what decides."""

    source: Source
    mapping: ColumnMapping
    declared: CRSSpec
    context: _Context
    spool: Spool
    problems: list[Problem] = field(default_factory=list)
    repaired: list[Problem] = field(default_factory=list)
    placed: int = 0
    kept: int = 0
    rejected: list[pd.DataFrame] = field(default_factory=list)
    refused_rows: list[npt.NDArray[np.int64]] = field(default_factory=list)
    codes: CodesSeen = field(default_factory=CodesSeen)
    """Every row's code, chunk by chunk, for repeats across chunks and the codes a replace removes."""
    changes: list[ChangeSet] = field(default_factory=list)


def _import_chunked(
    store: Store, spec: Layer, slices: Slices, size: int, options: _Options, started: float
) -> ImportReport:
    """An import read, validated, derived and written `size` rows at a time, in two passes.

    The first pass checks every chunk and keeps only what decides the import:
    the problems, every code (for repeats across chunks) and the change set's
    counts; the checked rows wait on disk (`Spool`). Nothing is written unless
    the whole file passed (or, with `skip_invalid`, which rows are refused).
    The second pass takes the chunks back from the spool, derives `grid_code`
    against grids and buildings read once, and hands them to
    `Store.replace_chunks` (`Store.upsert_chunks` for an append,
    `Store.insert_chunks` for a create), which writes them in one transaction:
    a failure anywhere still changes nothing.
    """
    say = options.progress or _quiet

    def chunks() -> Iterator[tuple[int, Source]]:
        read = (
            read_csv_chunks(slices, size)
            if isinstance(slices, CsvRows)
            else read_xlsx_chunks(slices, spec, size)
            if isinstance(slices, XlsxRows)
            else read_vector_chunks(slices, size, encoding=options.encoding)
        )
        for start, source in read:
            end = start + len(source.table)
            say(f"read rows {start + 1:,}–{end:,} of {slices.rows:,}")
            yield start, source

    with Spool(spec) as spool:
        return _written(store, spec, slices, size, options, started, chunks(), spool)


def _written(
    store: Store,
    spec: Layer,
    slices: Slices,
    size: int,
    options: _Options,
    started: float,
    chunks: Iterator[tuple[int, Source]],
    spool: Spool,
) -> ImportReport:
    """`_import_chunked` with its spool: validate into it, report, then write from it."""
    say = options.progress or _quiet
    stored = store.codes(spec.name)
    seen = _first_pass(store, spec, slices, chunks, options, stored, spool)
    path = str(seen.source.path)
    whole_file = [p for p in seen.problems if p.row is None]
    if seen.problems and (not options.skip_invalid or whole_file):
        raise ValidationError(path, whole_file if options.skip_invalid else seen.problems)
    if seen.kept == 0:
        read = sum(len(codes) for codes in seen.codes.chunks)
        raise ValidationError(path, [Problem(None, None, Message("import.every_row", n=read))])
    say("comparing with the store")
    refused = np.concatenate(seen.refused_rows) if seen.refused_rows else np.empty(0, np.int64)
    every = pa.chunked_array(seen.codes.chunks, pa.large_string())
    kept = np.ones(len(every), dtype=bool)
    kept[refused - 1] = False
    incoming = every.filter(pa.array(kept))
    changes = merged_change_sets(spec.name, options.mode, seen.changes, stored, incoming)
    taken = _taken(incoming, stored) if options.mode == "create" else []
    del every, incoming, stored
    source = seen.source
    report = ImportReport(
        layer=spec.name,
        source=path,
        format=source.format,
        source_layer=source.layer,
        encoding=source.encoding,
        crs=seen.declared.name,
        mode=options.mode,
        rows=seen.kept,
        written=0,
        mapping={f: seen.mapping.fields[f] for f in spec.field_names if f in seen.mapping.fields},
        geometry_columns=dict(seen.mapping.geometry),
        ignored=dict(seen.mapping.ignored),
        repaired=seen.repaired,
        placed_at_building=seen.placed,
        changes=changes,
        rejected=pd.concat(seen.rejected, ignore_index=True) if seen.rejected else None,
        renamed=dict(source.renamed or {}),
        dry_run=options.dry_run,
    )
    if options.preview is not None:
        options.preview(report)
    if options.dry_run:
        report.seconds = time.perf_counter() - started
        return report
    if changes.loses_data and options.confirm is not None and not options.confirm(changes):
        raise ImportCancelled(Message("import.not_confirmed", file=source.path))
    if taken:  # as the store's key refuses a whole create, before a chunk is written
        raise ConflictError.taken(spec.name, taken)
    derive = GridDeriver(store, spec, buildings=seen.context.parents.get("buildings"))

    def frames() -> Iterator[gpd.GeoDataFrame]:
        for number, frame in enumerate(seen.spool.frames()):
            derived = derive(frame)
            if options.check is not None:
                options.check(derived)
            say(f"writing chunk {number + 1:,} of {-(-slices.rows // size):,}")
            yield derived
            give_back()

    if options.mode == "replace":
        report.written = store.replace_chunks(spec.name, frames())
    elif options.mode == "create":
        report.written = report.inserted = store.insert_chunks(spec.name, frames())
        report.updated = 0
    else:
        report.written = store.upsert_chunks(spec.name, frames())
        report.inserted = changes.added
        report.updated = report.written - changes.added
    report.seconds = time.perf_counter() - started
    return report


def _first_pass(
    store: Store,
    spec: Layer,
    slices: Slices,
    chunks: Iterator[tuple[int, Source]],
    options: _Options,
    stored: pa.Array,
    spool: Spool,
) -> _FirstPass:
    """Check every chunk, keeping its problems (rows numbered in the file) and its codes, not its rows."""
    seen: _FirstPass | None = None
    for start, source in chunks:
        if seen is None:
            mapping = map_columns(spec, source.table.columns, tabular=source.tabular, ignore=options.ignore)
            declared = _declared_crs(source, options.crs)
            context = _context(store, spec, declared, None)
            # What the report says of the file, without the first chunk's rows.
            named = replace(source, table=source.table.iloc[:0], geometry=None)
            seen = _FirstPass(named, mapping, declared, context, spool)
        _take_chunk(seen, store, spec, options, stored, start, source)
        del source  # the chunk goes before the next is read, and its pages back to the system
        give_back()
    if seen is None:
        raise ValidationError(str(slices.path), [Problem(None, None, Message("import.no_rows"))])
    return seen


def _take_chunk(
    seen: _FirstPass,
    store: Store,
    spec: Layer,
    options: _Options,
    stored: pa.Array,
    start: int,
    source: Source,
) -> None:
    """One chunk of the first pass: its problems and codes kept, its checked rows spooled while the file
    is still acceptable, its change set against the stored rows of its codes."""
    found = _check_rows(
        spec,
        source,
        seen.mapping,
        seen.declared,
        fix=options.fix,
        context=seen.context,
        store=store,
        offset=start,
    )
    codes = _code_array(found.values)
    local = found.problems + seen.codes.add(codes, start)
    local = sorted(_with_codes(local, found.values), key=_problem_order(spec))
    rows = [p for p in local if p.row is not None]
    if start == 0:
        seen.problems += [p for p in local if p.row is None]
    seen.problems += [_shifted(p, start) for p in rows]
    keep = np.ones(len(found.values), dtype=bool)
    if rows and options.skip_invalid:
        refused = rejected_rows(source.table, rows)
        keep[refused[ROW].to_numpy() - 1] = False
        seen.refused_rows.append(refused[ROW].to_numpy(dtype=np.int64) + start)
        refused[ROW] += start
        seen.rejected.append(refused)
    seen.repaired += [
        _shifted(p, start)
        for p in found.repaired
        if (p.row is None and start == 0) or (p.row is not None and keep[p.row - 1])
    ]
    seen.placed += found.placed
    seen.kept += int(keep.sum())
    if seen.problems and not options.skip_invalid:
        return  # the import is refused: only the rest of its problems are still wanted
    frame = _canonical(spec, found.values, found.geoms, keep)
    seen.spool.add(frame)
    current = _stored_rows(store, spec, frame, stored)
    provided = seen.mapping.fields.keys()
    seen.changes.append(change_set(spec.name, current, frame, options.mode, provided=provided))


def _stored_rows(store: Store, spec: Layer, frame: gpd.GeoDataFrame, stored: pa.Array) -> gpd.GeoDataFrame:
    """The stored rows of the chunk's codes, read only for the codes the layer holds (none when empty)."""
    if not len(stored):
        return empty_frame(spec)
    codes = pa.array(frame["code"].astype(str).to_numpy(dtype=object), pa.large_string())
    held = codes.filter(pc.is_in(codes, value_set=stored))
    return store.read(spec.name, codes=held.to_pylist()) if len(held) else empty_frame(spec)


def _taken(codes: pa.ChunkedArray, stored: pa.Array) -> list[str]:
    """The file's codes the layer already holds, in order (a create's conflicts)."""
    held = codes.filter(pc.is_in(codes, value_set=stored))
    return sorted(held.to_pylist()) if len(held) else []


def _shifted(problem: Problem, offset: int) -> Problem:
    """`problem` with its row numbered in the whole file rather than in its chunk."""
    return problem if problem.row is None else replace(problem, row=problem.row + offset)


def _code_array(values: pd.DataFrame) -> pa.Array:
    """A chunk's codes (null where a row has none) as Arrow text."""
    if "code" not in values:
        return pa.nulls(len(values), pa.large_string())
    codes = values["code"]
    return pa.array(codes.astype(object).where(codes.notna(), None).to_numpy(), pa.large_string())
