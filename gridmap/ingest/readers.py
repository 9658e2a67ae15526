"""Reading every accepted file format into one shape: an attribute table plus, for vector formats, geometries.

Tables (CSV, XLSX) keep every value as text so that codes like "007" survive
and bad numbers can be reported by row; vector files keep their own types.
Chinese files come in UTF-8 or GBK, often without saying which, so the
encoding is detected rather than assumed.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyogrio
import pyproj
import shapely
from pyogrio.raw import open_arrow

from gridmap.catalogue import Layer
from gridmap.errors import Problem, ValidationError
from gridmap.formats import ReadKey, read_as, readable_suffixes
from gridmap.formulas import restore
from gridmap.ingest.columns import name_key
from gridmap.ingest.osm import read_osm_roads
from gridmap.ingest.values import TEXT
from gridmap.ingest.workbook import Sheet, open_book, sheet_files, sheet_of, sheet_rows, sheet_tables
from gridmap.texts import Message

Format = ReadKey

FIELDS_SIDECAR = ".gridmap.json"
"""Suffix of the file beside a Shapefile that gridmap exports: its full field names, CRS and encoding."""

_KML_TITLE = "Name"  # LIBKML's column for a placemark's <name>; an ExtendedData `name` then becomes `name2`

# Bookkeeping columns the LIBKML driver adds to every layer; they are not data.
_KML_INTERNAL = {
    "id",
    "description",
    "timestamp",
    "begin",
    "end",
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
    "snippet",
}

GBK = "gb18030"  # a superset of GBK and GB2312 that Python decodes strictly


@dataclass
class Source:
    """What a file held, before any mapping or validation."""

    path: Path
    format: Format
    table: pd.DataFrame
    geometry: gpd.GeoSeries | None
    crs: pyproj.CRS | None
    layer: str | None = None
    encoding: str | None = None
    declared_crs: str | None = None
    """The CRS a gridmap sidecar names (gcj02 and bd09 files are labelled EPSG:4326 inside)."""
    renamed: dict[str, str] | None = None
    """Shapefile columns given back their full names by the sidecar: {short: full}."""

    @property
    def tabular(self) -> bool:
        """CSV, XLSX and attribute tables carry geometry in columns (lon/lat or WKT), not as features."""
        return self.geometry is None


def read_source(
    path: Path, target: Layer, *, source_layer: str | None = None, encoding: str | None = None
) -> Source:
    """Read `path` (format from its suffix) for import into `target`.

    `encoding` is the caller's word on the text encoding of a Shapefile or
    CSV; without it a Shapefile's .cpg is honoured, and otherwise the text is
    read as UTF-8 or else GBK (GB18030), and `Source.encoding` says which.
    """
    found = read_as(path)
    if found is None:
        accepted = ", ".join(readable_suffixes())
        raise _file_error(path, Message("read.unsupported", suffix=repr(path.suffix), accepted=accepted))
    fmt = found.key
    if not path.exists():
        raise _file_error(path, Message("read.not_found"))
    if encoding is not None:
        encoding = _codec(path, encoding)
    if fmt == "csv":
        table, used = _read_csv(path, encoding)
        source = Source(path, fmt, restore(table), None, None, encoding=used)
    elif fmt == "xlsx":
        sheet, table = _read_xlsx(path, target, source_layer)
        source = Source(path, fmt, table, None, None, layer=sheet)
    elif fmt == "osm":
        if target.name != "roads":
            raise _file_error(path, Message("read.osm_roads", layer=target.name))
        frame = read_osm_roads(path)
        attributes = pd.DataFrame(frame.drop(columns="geometry"))
        source = Source(path, fmt, attributes, frame.geometry, frame.crs, layer="highways")
    else:
        source = _read_vector(path, fmt, target, source_layer, encoding)
    source.table.columns = _unique_names(source.table.columns)
    return source


def _codec(path: Path, encoding: str) -> str:
    """The Python codec named by `encoding` (gbk, GB18030, cp936, utf-8 …), or one clear error."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise _file_error(path, Message("read.unknown_encoding", encoding=repr(encoding))) from None
    return GBK if name in ("gbk", "gb2312", "cp936") else name


def _unique_names(names: Iterable[object]) -> list[str]:
    """Column names made unique ("名称", "名称 (2)"), so a repeated header cannot hide a column."""
    seen: dict[str, int] = {}
    out = []
    for name in map(str, names):
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _file_error(path: Path, reason: Message) -> ValidationError:
    return ValidationError(str(path), [Problem(None, None, reason)])


# --- CSV and XLSX ------------------------------------------------------------


class _NotUTF8(Exception):
    """Arrow met bytes that are not UTF-8: the file is read again as GBK."""


def _read_csv(path: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    """All columns as text, read by Arrow's multithreaded parser; UTF-8 (with or without BOM), else GBK.

    With `encoding` the text is decoded as that and nothing is guessed.
    """
    if encoding is not None:
        utf8 = io.BytesIO(_decoded(path, encoding).encode("utf-8"))
        header = utf8.readline().decode("utf-8")
        return _parse_csv(utf8, header, path), encoding
    with path.open("rb") as fh:
        first_line = fh.readline()
    try:
        header = first_line.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        try:
            return _parse_csv(path, header, path), "utf-8"
        except _NotUTF8:
            pass
    try:
        header = first_line.decode(GBK)
    except UnicodeDecodeError as exc:
        raise _file_error(path, Message("read.not_utf8_gbk", byte=exc.start)) from None
    return _parse_csv(io.BytesIO(_decoded(path, GBK).encode("utf-8")), header, path), "gbk (detected)"


def _decoded(path: Path, encoding: str) -> str:
    try:
        return path.read_bytes().decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        if encoding == GBK:
            raise _file_error(path, Message("read.not_utf8_gbk", byte=exc.start)) from None
        raise _file_error(
            path, Message("read.not_encoding", encoding=encoding, byte=exc.start, why=exc.reason)
        ) from None


def _parse_csv(source: Path | io.BytesIO, header: str, path: Path) -> pd.DataFrame:
    """Parse with every column typed as text; quoted line breaks force a second, single-threaded pass."""
    delimiter = _delimiter(header)
    names = next(csv.reader([header.strip("\r\n")], delimiter=delimiter), [])
    if not names:
        raise _file_error(path, Message("read.no_header"))
    convert = _text_columns(names)
    try:
        table = _arrow_csv(source, delimiter, convert, newlines_in_values=False)
    except pa.ArrowInvalid as exc:
        if "utf8" in str(exc).lower() and isinstance(source, Path):
            raise _NotUTF8 from None
        try:
            table = _arrow_csv(source, delimiter, convert, newlines_in_values=True)
        except pa.ArrowInvalid as again:
            raise _file_error(path, Message("read.bad_csv", why=str(again))) from None
    return table.to_pandas(types_mapper={pa.string(): TEXT}.get)


def _arrow_csv(
    source: Path | io.BytesIO, delimiter: str, convert: pacsv.ConvertOptions, *, newlines_in_values: bool
) -> pa.Table:
    if isinstance(source, io.BytesIO):
        source.seek(0)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=newlines_in_values)
    return pacsv.read_csv(source, parse_options=parse, convert_options=convert)


@dataclass(frozen=True)
class CsvRows:
    """A CSV read a chunk at a time: its text encoding, settled by one pass over its bytes, and its lines."""

    path: Path
    codec: str
    """The Python codec its text decodes with."""
    encoding: str
    """As the whole-file read reports it: the caller's codec, "utf-8" or "gbk (detected)"."""
    rows: int
    """Its lines after the header: the data rows, unless quoted cells hold line breaks."""


_SCAN_BYTES = 16 * 1024**2


def csv_rows(path: Path, encoding: str | None = None) -> CsvRows:
    """`path`'s encoding and line count, read in blocks (memory bounded by one block).

    As `_read_csv`: UTF-8 (with or without BOM) unless a byte is not UTF-8, then GBK, or the caller's
    `encoding` alone; text that does not decode is the same clear error.
    """
    if encoding is not None:
        codec = _codec(path, encoding)
        return CsvRows(path, codec, codec, _scan(path, codec))
    try:
        return CsvRows(path, "utf-8", "utf-8", _scan(path, "utf-8-sig"))
    except ValidationError:
        return CsvRows(path, GBK, "gbk (detected)", _scan(path, GBK))


def _scan(path: Path, codec: str) -> int:
    """The data lines of `path`, once every byte is known to decode as `codec`."""
    decoder = codecs.getincrementaldecoder(codec)()
    lines = 0
    done = 0
    last = b"\n"
    with path.open("rb") as fh:
        while block := fh.read(_SCAN_BYTES):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise _decode_error(path, codec, done + exc.start, exc.reason) from None
            lines += block.count(b"\n")
            done += len(block)
            last = block[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _decode_error(path, codec, done + exc.start, exc.reason) from None
    return max(0, lines + (last != b"\n") - 1)


def _decode_error(path: Path, codec: str, byte: int, why: str) -> ValidationError:
    """The error `_decoded` gives for text that is not in `codec`."""
    if codec in (GBK, "utf-8-sig"):
        return _file_error(path, Message("read.not_utf8_gbk", byte=byte))
    return _file_error(path, Message("read.not_encoding", encoding=codec, byte=byte, why=why))


def read_csv_chunks(rows: CsvRows, size: int) -> Iterator[tuple[int, Source]]:
    """The CSV `csv_rows` scanned, `size` rows at a time (the last chunk shorter), each with the 0-based
    position of its first row, as `read_source` reads the whole of it: every column text, formulas'
    guard quotes removed. Arrow decodes and parses it as a stream, one block at a time."""
    with rows.path.open("rb") as fh:
        header = codecs.decode(fh.readline(), "utf-8-sig" if rows.codec == "utf-8" else rows.codec)
    header = header.removeprefix("\ufeff")
    delimiter = _delimiter(header)
    names = next(csv.reader([header.strip("\r\n")], delimiter=delimiter), [])
    if not names:
        raise _file_error(rows.path, Message("read.no_header"))
    start = 0
    try:
        with pacsv.open_csv(
            rows.path,
            read_options=pacsv.ReadOptions(encoding=rows.codec),
            # A stream cannot be read again: line breaks inside quotes are allowed from the start.
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=_text_columns(names),
        ) as reader:
            for table in _rebatched(reader, size):
                frame = restore(table.to_pandas(types_mapper={pa.string(): TEXT}.get))
                frame.columns = _unique_names(frame.columns)
                yield start, Source(rows.path, "csv", frame, None, None, encoding=rows.encoding)
                start += len(frame)
    except pa.ArrowInvalid as exc:
        raise _file_error(rows.path, Message("read.bad_csv", why=str(exc))) from None


def _text_columns(names: list[str]) -> pacsv.ConvertOptions:
    """Every column read as text, an empty cell as null."""
    return pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )


def _delimiter(header: str) -> str:
    """Comma unless the header clearly uses tabs or semicolons (as Excel exports in some locales)."""
    counts = {d: header.count(d) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _read_xlsx(path: Path, target: Layer, source_layer: str | None) -> tuple[str, pd.DataFrame]:
    """The chosen sheet (by name, one named like the layer, else the first) with every cell as text."""
    with _sheet(path, target, source_layer) as sheet:
        tables = [table for _, table in sheet_tables(sheet, target, None)]
    return sheet.name, tables[0] if tables else pd.DataFrame()


@contextmanager
def _sheet(path: Path, target: Layer, source_layer: str | None) -> Iterator[Sheet]:
    """The sheet to import, open for streaming, once the workbook passed `_check_inflation`."""
    _check_inflation(path)
    try:
        book = open_book(path)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise _file_error(path, Message("read.bad_workbook", why=str(exc))) from None
    with closing(book):
        yield sheet_of(book, _sheet_name(path, [str(n) for n in book.sheetnames], target, source_layer))


def _sheet_name(path: Path, names: list[str], target: Layer, source_layer: str | None) -> str:
    """The sheet asked for, else the one named like the layer, else the first."""
    if source_layer is not None:
        return _pick(path, names, target, source_layer, kind="sheet")
    return _match_layer(names, target) or names[0]


@dataclass(frozen=True)
class XlsxRows:
    """A workbook's sheet read a chunk at a time: which sheet, and how many rows its file holds."""

    path: Path
    sheet: str
    rows: int
    """The sheet's rows, header and any title row included (its declared size, else its row elements)."""


def xlsx_rows(path: Path, target: Layer, source_layer: str | None = None) -> XlsxRows:
    """The sheet of `path` to import (chosen as `read_source` chooses it) and its row count, read
    without its cells or the workbook's strings."""
    _check_inflation(path)
    try:
        files = sheet_files(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise _file_error(path, Message("read.bad_workbook", why=str(exc))) from None
    name = _sheet_name(path, list(files), target, source_layer)
    return XlsxRows(path, name, sheet_rows(path, files[name]))


def read_xlsx_chunks(rows: XlsxRows, target: Layer, size: int) -> Iterator[tuple[int, Source]]:
    """The sheet `xlsx_rows` found, about `size` data rows at a time, each with the 0-based position of
    its first data row, as `read_source` reads the whole of it (`gridmap.ingest.workbook`)."""
    with _sheet(rows.path, target, rows.sheet) as sheet:
        for start, table in sheet_tables(sheet, target, size):
            if table.empty:
                continue  # no data rows: the import finds none
            table.columns = _unique_names(table.columns)
            yield start, Source(rows.path, "xlsx", table, None, None, layer=rows.sheet)


XLSX_MAX_INFLATED = 2 * 1024**3
"""The most a workbook may inflate to: a sheet of a million rows of a dozen fields is about 0.5 GB."""
XLSX_MAX_RATIO = 100
"""Workbooks compress 5–20 times; a zip bomb (1.5 MB inflating to 1.84 GB) a thousand."""
_RATIO_FROM = 64 * 1024**2  # small workbooks are cheap whatever their ratio


def _check_inflation(path: Path) -> None:
    """Refuse a workbook whose members declare an absurd size, before anything is inflated.

    Python's zip reader (openpyxl's) stops at the size a member declares, so
    the declared sizes bound the work.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise _file_error(path, Message("read.bad_workbook", why=str(exc))) from None
    inflated = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if inflated > XLSX_MAX_INFLATED or (inflated > _RATIO_FROM and inflated / packed > XLSX_MAX_RATIO):
        raise _file_error(
            path,
            Message("read.zip_bomb", packed=packed, inflated=inflated, times=inflated / packed),
        )


# --- Vector formats ----------------------------------------------------------


@dataclass(frozen=True)
class _Location:
    """Where GDAL reads one layer, whether a .cpg beside it names its encoding, and gridmap's sidecar."""

    source: str
    cpg: bool = False
    sidecar: str | None = None


@dataclass(frozen=True)
class VectorRows:
    """A vector layer read a slice at a time: where it is, and how many features it holds."""

    path: Path
    format: Format
    layer: str
    rows: int


def vector_rows(
    path: Path, target: Layer, *, source_layer: str | None = None, encoding: str | None = None
) -> VectorRows | None:
    """The layer of `path` to import and its feature count, when it can be read in slices.

    None for tables (CSV, XLSX), OSM and KML files, and Shapefiles whose text
    encoding would be guessed from their content (a guess must see every row).
    """
    found = read_as(path)
    if found is None or found.key in ("csv", "xlsx", "osm", "kml") or not path.exists():
        return None
    locations = _layer_locations(path)
    if not locations:
        return None
    layer = _pick(path, list(locations), target, source_layer, kind="layer")
    where = locations[layer]
    if found.key == "shp" and encoding is None and not where.cpg:
        return None
    try:
        info = pyogrio.read_info(where.source, layer=layer)
    except pyogrio.errors.DataSourceError as exc:
        raise _file_error(path, Message("read.bad_layer", layer=repr(layer), why=str(exc))) from None
    count = int(info.get("features", -1))
    return VectorRows(path, found.key, layer, count) if count >= 0 else None


def read_vector_chunks(
    rows: VectorRows, size: int, *, encoding: str | None = None
) -> Iterator[tuple[int, Source]]:
    """The layer `vector_rows` found, `size` features at a time (the last chunk shorter), each with the
    0-based position of its first feature, as `read_source` reads the whole of it.

    One reader streams the layer from its first feature to its last: a chunk far into the file costs
    what the first does (a window read would step over every feature before it again).
    """
    used = _codec(rows.path, encoding) if encoding is not None else None
    # As `_read_vector`: only a Shapefile's text is decoded as told (`vector_rows` took no guess).
    told = used if rows.format == "shp" else None
    named = "per .cpg" if rows.format == "shp" and used is None else used
    where = _layer_locations(rows.path)[rows.layer]
    sidecar = _read_sidecar(rows.path, where.sidecar)
    start = 0
    with (
        _layer_errors(rows.path, rows.layer, told),
        open_arrow(
            where.source,
            layer=rows.layer,
            encoding=told,
            batch_size=size,
            use_pyarrow=True,
            datetime_as_string=True,
        ) as (meta, reader),
    ):
        for table in _rebatched(reader, size):
            frame = _arrow_frame(meta, table)
            _check_text(frame)
            source = _as_source(rows.path, rows.format, frame, rows.layer, named, sidecar)
            source.table.columns = _unique_names(source.table.columns)
            yield start, source
            start += len(frame)


def _rebatched(reader: pa.RecordBatchReader, size: int) -> Iterator[pa.Table]:
    """The reader's batches regrouped into tables of exactly `size` rows (the last one shorter)."""
    waiting: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        waiting.append(batch)
        count += len(batch)
        while count >= size:
            table = pa.Table.from_batches(waiting, schema=reader.schema)
            yield table.slice(0, size).combine_chunks()
            rest = table.slice(size)
            waiting, count = rest.combine_chunks().to_batches(), len(rest)
    if count:
        yield pa.Table.from_batches(waiting, schema=reader.schema).combine_chunks()


def _arrow_frame(meta: dict[str, Any], table: pa.Table) -> pd.DataFrame:
    """A table read from GDAL's Arrow stream as `pyogrio.read_dataframe` makes it: JSON fields decoded,
    geometry from WKB (date-times stay text, as `_read_layer` reads them)."""
    frame = table.to_pandas()
    for subtype, column in zip(meta["ogr_subtypes"], meta["fields"], strict=True):
        if subtype == "OFSTJSON" and pd.api.types.infer_dtype(frame[column]) == "string":
            frame[column] = frame[column].map(json.loads, na_action="ignore")
    geometry = meta["geometry_name"] or "wkb_geometry"
    if geometry not in frame.columns:
        return frame
    wkb = pa.array(frame.pop(geometry).array).to_numpy(zero_copy_only=False)
    return gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs=meta["crs"])


def _read_vector(
    path: Path, fmt: Format, target: Layer, source_layer: str | None, encoding: str | None
) -> Source:
    locations = _layer_locations(path)
    if not locations:
        raise _file_error(path, Message("read.no_layer"))
    layer = _pick(path, list(locations), target, source_layer, kind="layer")
    where = locations[layer]
    used: str | None = encoding
    if fmt != "shp":
        frame = _read_layer(path, where.source, layer, None)
    elif encoding is not None:
        try:
            frame = _read_layer(path, where.source, layer, encoding)
        except _NotUTF8:
            raise _file_error(path, Message("read.shp_not_utf8")) from None
    elif where.cpg:
        used = "per .cpg"
        frame = _read_layer(path, where.source, layer, None)
    else:
        # No .cpg: GDAL would assume Latin-1; Chinese files are UTF-8 or GBK, and only UTF-8 can fail.
        try:
            used = "utf-8"
            frame = _read_layer(path, where.source, layer, "utf-8")
        except _NotUTF8:
            used = "gbk (detected, no .cpg)"
            frame = _read_layer(path, where.source, layer, GBK)
    return _as_source(path, fmt, frame, layer, used, _read_sidecar(path, where.sidecar))


def _as_source(
    path: Path, fmt: Format, frame: pd.DataFrame, layer: str, used: str | None, sidecar: _Sidecar
) -> Source:
    """A layer's frame (or a chunk of it) as a Source: full names given back, attributes apart."""
    renamed = {short: full for short, full in sidecar.fields.items() if short in frame.columns}
    frame = frame.rename(columns=renamed)
    if not isinstance(frame, gpd.GeoDataFrame):
        # A table without geometry (a GeoPackage attribute table): rows are placed by lon/lat or WKT columns.
        return Source(path, fmt, frame, None, None, layer=layer, encoding=used, renamed=renamed or None)
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if fmt == "kml":
        attributes = _kml_attributes(attributes)
    return Source(
        path,
        fmt,
        attributes,
        frame.geometry,
        frame.crs,
        layer=layer,
        encoding=used,
        declared_crs=sidecar.crs,
        renamed=renamed or None,
    )


def _kml_attributes(attributes: pd.DataFrame) -> pd.DataFrame:
    """Drop LIBKML's bookkeeping and its echo of a placemark's title.

    LIBKML reads a placemark's <name> as `Name` and an ExtendedData `name`
    as an empty `name2`: the title is then the name. A title that only
    repeats the code (gridmap's title for features without a name) adds nothing.
    """
    attributes = attributes.drop(columns=[c for c in attributes.columns if c in _KML_INTERNAL])
    if "name2" in attributes.columns and attributes["name2"].isna().all():
        attributes = attributes.drop(columns="name2")
    if _KML_TITLE in attributes.columns and "code" in attributes.columns:
        title = attributes[_KML_TITLE].astype(object)
        if title.equals(attributes["code"].astype(object)):
            attributes = attributes.drop(columns=_KML_TITLE)
    return attributes


@dataclass(frozen=True)
class _Sidecar:
    """What gridmap wrote beside a Shapefile: full field names by short name, and the true CRS."""

    fields: dict[str, str]
    crs: str | None = None


def _read_sidecar(path: Path, sidecar: str | None) -> _Sidecar:
    """gridmap's sidecar of a Shapefile (empty when there is none); a damaged one is a clear error."""
    if sidecar is None:
        return _Sidecar({})
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                text = archive.read(sidecar).decode("utf-8")
        else:
            text = Path(sidecar).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, KeyError, UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise _file_error(path, Message("read.bad_sidecar", sidecar=sidecar, why=str(exc))) from None
    fields = data.get("fields", {}) if isinstance(data, dict) else None
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise _file_error(path, Message("read.not_sidecar", sidecar=sidecar))
    crs = data.get("crs")
    return _Sidecar({str(k): v for k, v in fields.items()}, crs if isinstance(crs, str) else None)


def _layer_locations(path: Path) -> dict[str, _Location]:
    """Each layer by name; a zip's shapefiles may sit in any folder inside it."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile as exc:
            raise _file_error(path, Message("read.bad_zip", why=str(exc))) from None
        lowered = {n.lower(): n for n in names}
        return {
            PurePosixPath(m).stem: _Location(
                f"/vsizip/{path.resolve()}/{m}",
                m[:-4].lower() + ".cpg" in lowered,
                lowered.get(m[:-4].lower() + FIELDS_SIDECAR),
            )
            for m in names
            if m.lower().endswith(".shp")
        }
    try:
        listed = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise _file_error(path, Message("read.cannot_open", why=str(exc))) from None
    siblings = {p.name.lower(): p for p in path.parent.iterdir()} if path.suffix.lower() == ".shp" else {}
    sidecar = siblings.get(f"{path.stem}{FIELDS_SIDECAR}".lower())
    return {
        str(row[0]): _Location(
            str(path), f"{path.stem}.cpg".lower() in siblings, str(sidecar) if sidecar else None
        )
        for row in listed
    }


def _read_layer(path: Path, source: str, layer: str, encoding: str | None) -> gpd.GeoDataFrame:
    """One layer; text that does not decode is one clear error (or `_NotUTF8` while guessing UTF-8).

    Date-times stay the file's ISO 8601 text, offset and all: parsed, a column mixing offsets would
    become UTC, which a chunk of the file (`read_vector_chunks`) cannot know.
    """
    with _layer_errors(path, layer, encoding):
        frame = pyogrio.read_dataframe(
            source, layer=layer, encoding=encoding, use_arrow=True, datetime_as_string=True
        )
        _check_text(frame)
        return frame


@contextmanager
def _layer_errors(path: Path, layer: str, encoding: str | None) -> Iterator[None]:
    """GDAL's, GEOS's and Arrow's failures while reading a layer as the file's own clear errors."""
    try:
        yield
    except shapely.errors.GEOSException as exc:  # e.g. an unclosed ring, a ring of 2 points
        raise ValidationError(
            str(path), [Problem(None, "geometry", Message("read.invalid_geometry", why=str(exc)))]
        ) from None
    except (UnicodeDecodeError, pa.ArrowInvalid) as exc:
        if isinstance(exc, pa.ArrowInvalid) and "utf" not in str(exc).lower():
            raise _file_error(path, Message("read.bad_layer", layer=repr(layer), why=str(exc))) from None
        if encoding == "utf-8":
            raise _NotUTF8 from None
        declared = encoding or Message("read.cpg_encoding")
        raise _file_error(path, Message("read.not_declared", encoding=declared, why=str(exc))) from None
    except pyogrio.errors.DataSourceError as exc:
        raise _file_error(path, Message("read.bad_layer", layer=repr(layer), why=str(exc))) from None


def _check_text(frame: pd.DataFrame) -> None:
    """Arrow hands GDAL's bytes over unchecked: text in another encoding must fail here, not later."""
    for column in frame.columns:
        if pd.api.types.is_string_dtype(frame[column].dtype) and frame[column].dtype != object:
            pa.chunked_array(pa.array(frame[column].array)).validate(full=True)


def _match_layer(names: list[str], target: Layer) -> str | None:
    """The one name that is the target layer's name or label (any case, width or spacing)."""
    wanted = {name_key(target.name), name_key(target.label_zh), name_key(target.label_en)}
    wanted |= {name_key(part) for part in target.label_zh.split("/")}
    hits = [n for n in names if name_key(n) in wanted]
    return hits[0] if len(hits) == 1 else None


def _pick(path: Path, names: list[str], target: Layer, wanted: str | None, *, kind: str) -> str:
    """The layer to import: the one asked for, the only one, or the one named like the target layer."""
    if wanted is not None:
        if wanted in names:
            return wanted
        raise _file_error(path, Message(f"read.no_such_{kind}", wanted=repr(wanted), names=", ".join(names)))
    if len(names) == 1:
        return names[0]
    match = _match_layer(names, target)
    if match is None:
        raise _file_error(
            path,
            Message(f"read.which_{kind}", n=len(names), names=", ".join(names), layer=target.name),
        )
    return match
