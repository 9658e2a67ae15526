"""Writes an `Analysis` for people and tools: CSV tables, a GeoJSON gap layer, an Excel workbook.

CSV files keep the English field names (for scripts and GIS joins); the
workbook, for officials, has one sheet per level with Chinese headers.
Personal fields (the catalogue's `personal`, e.g. the grid worker's phone)
are left out of every file: reports travel by e-mail and get printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from gridmap.analysis import Analysis
from gridmap.catalogue import LAYERS
from gridmap.formulas import neutralise
from gridmap.frames import WGS84
from gridmap.measures import computations
from gridmap.topology import KIND_LABELS_ZH
from gridmap.vocabulary import CASE_RATES, GRADE_COLORS, GRADES, column_terms, gap_label

HOUSEHOLD_COLUMNS = [
    "code",
    "grid_code",
    *(name for c in computations().values() for name in c.columns),
]
"""households.csv: each household's figures, every measure's household columns in registry order."""

HEADERS_ZH: dict[str, str] = {code: term.zh for code, term in column_terms().items()}
"""Chinese headers of the workbook columns (from the registry)."""

_SHEETS = (("grids", "网格"), ("communities", "社区"), ("streets", "街道"))
_PERSONAL = {name for layer in LAYERS.values() for name in layer.personal_fields}


def write_outputs(
    analysis: Analysis, out_dir: str | Path, extra_sheets: Sequence[tuple[str, pd.DataFrame]] = ()
) -> dict[str, Path]:
    """Write grids/communities/streets/households CSV, gaps.geojson and analysis.xlsx into `out_dir`.

    `extra_sheets` (name, table) are appended to the workbook as they are, e.g. the case statistics.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outputs") as pool:
        # The big files are Arrow's work, which lets go of the interpreter: they are written
        # on the second core while the workbook, Python through and through, is written here.
        households = pool.submit(
            _csv,
            pd.DataFrame(analysis.households[[c for c in HOUSEHOLD_COLUMNS if c in analysis.households]]),
            out / "households.csv",
        )
        gaps = pool.submit(write_gaps, analysis.gaps, out / "gaps.geojson")
        tables = {level: _table(getattr(analysis, level)) for level, _ in _SHEETS}
        for level, table in tables.items():
            written[level] = _csv(table, out / f"{level}.csv")
        workbook = write_workbook(analysis, out / "analysis.xlsx", tables, extra_sheets)
        written["households"], written["gaps"] = households.result(), gaps.result()
    written["workbook"] = workbook
    return written


def _table(frame: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """A level's figures without geometry or personal fields; shares to 4 places, areas to 0.1 m²."""
    drop = [c for c in frame.columns if c == "geometry" or c in _PERSONAL]
    out = pd.DataFrame(frame.drop(columns=drop))
    for name in out.columns:
        if name.endswith("_share"):
            out[name] = out[name].round(4)
        elif name.endswith("_m2"):
            out[name] = out[name].round(1)
    return out


def _csv(table: pd.DataFrame, path: Path) -> Path:
    """UTF-8 CSV through Arrow (a million rows in a fraction of a second); nulls are empty cells."""
    pacsv.write_csv(pa.Table.from_pandas(neutralise(table), preserve_index=False), path)
    return path


def write_gaps(gaps: gpd.GeoDataFrame, path: str | Path) -> Path:
    """The gap layer as RFC 7946 GeoJSON (EPSG:4326, 7 decimals), with the Chinese label of each kind.

    Geometries are written by Arrow (the millions of household points of a
    city's gap MultiPoints) or GEOS (`shapely.to_geojson`, everything else)
    and properties by pandas' JSON writer, all in C: several times faster
    than through GDAL.
    """
    frame = gaps.assign(kind_zh=gaps["kind"].astype(str).map(gap_label).astype("string"))
    properties = pd.DataFrame(frame[["kind", "kind_zh", "grid_code", "description_zh", "description_en"]])
    geoms = np.asarray(gaps.to_crs(WGS84).geometry.values, dtype=object)
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for start in range(0, len(geoms), _GAP_CHUNK):  # a chunk at a time: memory stays small
            rows = slice(start, start + _GAP_CHUNK)
            shapes = _geojson_geometries(geoms[rows], 7)
            chunk = properties.iloc[rows]
            records = chunk.to_json(orient="records", lines=True, force_ascii=False).splitlines()
            features = [
                f'{{"type": "Feature", "properties": {props}, "geometry": {shape}}}'
                for props, shape in zip(records, shapes, strict=True)
            ]
            out.write((",\n" if start else "") + ",\n".join(features))
        out.write("\n]}\n")
    return path


_GAP_CHUNK = 2_000


def _geojson_geometries(geoms: np.ndarray, decimals: int) -> np.ndarray:
    """GeoJSON text of each geometry, coordinates rounded to `decimals` places ("null" for None).

    Points and MultiPoints are spelled by Arrow's number formatting straight
    from their coordinate arrays: GEOS would first copy every point to round it.
    """
    out = np.full(len(geoms), "null", dtype=object)
    kind = shapely.get_type_id(geoms)
    flat = np.isin(kind, (_POINT, _MULTIPOINT)) & ~shapely.is_empty(geoms)
    xy, row = shapely.get_coordinates(geoms[flat], return_index=True)
    odd = np.flatnonzero(flat)[np.unique(row[~np.isfinite(xy).all(axis=1)])]
    if len(odd):  # NaN or infinite coordinates: left to GEOS
        flat[odd] = False
        xy, row = shapely.get_coordinates(geoms[flat], return_index=True)
    other = (kind >= 0) & ~flat
    rounded = shapely.transform(geoms[other], lambda xy: np.round(xy, decimals))
    out[other] = shapely.to_geojson(rounded).astype(object)
    xy = np.round(xy, decimals)
    pairs = pc.binary_join_element_wise(
        "[", pc.cast(pa.array(xy[:, 0]), pa.string()), ",", pc.cast(pa.array(xy[:, 1]), pa.string()), "]", ""
    )
    starts = np.searchsorted(row, np.arange(int(flat.sum()) + 1))
    listed = pc.binary_join(pa.ListArray.from_arrays(pa.array(starts, pa.int32()), pairs), ",")
    texts = np.asarray(listed.to_numpy(zero_copy_only=False), dtype=object)
    multi = kind[flat] == _MULTIPOINT
    out[np.flatnonzero(flat)[multi]] = '{"type":"MultiPoint","coordinates":[' + texts[multi] + "]}"
    out[np.flatnonzero(flat)[~multi]] = '{"type":"Point","coordinates":' + texts[~multi] + "}"
    return out


_POINT, _MULTIPOINT = shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT


def write_workbook(
    analysis: Analysis,
    path: str | Path,
    tables: dict[str, pd.DataFrame] | None = None,
    extra_sheets: Sequence[tuple[str, pd.DataFrame]] = (),
) -> Path:
    """One sheet per level (网格, 社区, 街道), then the gaps (问题清单) and topology findings (拓扑问题)."""
    tables = tables or {level: _table(getattr(analysis, level)) for level, _ in _SHEETS}
    sheets = [(label, tables[level]) for level, label in _SHEETS]
    gaps = _table(analysis.gaps).assign(kind=lambda t: t["kind"].astype(str).map(gap_label))
    sheets.append(("问题清单", gaps[["kind", "grid_code", "description_zh"]]))
    findings = _table(analysis.findings)
    findings = findings.assign(kind=findings["kind"].astype(str).map(KIND_LABELS_ZH))
    columns = ["kind", "severity", "codes", "community_code", "area_m2", "location", "message_zh"]
    sheets.append(("拓扑问题", findings[[c for c in columns if c in findings.columns]]))
    sheets.extend(extra_sheets)
    path = Path(path)
    with xlsxwriter.Workbook(path) as book:
        percent = book.add_format({"num_format": "0.0%"})
        header = book.add_format({"bold": True})
        for label, table in sheets:
            sheet = book.add_worksheet(label)
            shown = _for_people(table)
            sheet.write_row(0, 0, list(shown.columns), header)
            for i, name in enumerate(shown.columns):  # a column at a time, no per-row Python of ours
                sheet.write_column(1, i, shown[name].tolist())
            _format(sheet, table, percent)
            _grade_rates(book, sheet, list(shown.columns), len(shown))
    return path


def _grade_rates(book: xlsxwriter.Workbook, sheet: Worksheet, headers: list[str], rows: int) -> None:
    """The three case rates (三率) as percentages coloured by grade, with the vocabulary's thresholds."""
    for rate in CASE_RATES.values():
        if rate.zh not in headers or rate.thresholds is None or rows == 0:
            continue
        column = headers.index(rate.zh)
        sheet.set_column(column, column, 12, book.add_format({"num_format": "0.0%"}))
        # Excel applies the first rule that holds: no colour for an empty cell, then A, B, C, D.
        sheet.conditional_format(1, column, rows, column, {"type": "blanks", "stop_if_true": True})
        bounds = [*rate.thresholds, -1.0]
        for grade, lowest in zip(GRADES, bounds, strict=True):
            fill = book.add_format({"bg_color": GRADE_COLORS[grade], "num_format": "0.0%"})
            rule = {"type": "cell", "criteria": ">=", "value": lowest, "format": fill, "stop_if_true": True}
            sheet.conditional_format(1, column, rows, column, rule)


def _for_people(table: pd.DataFrame) -> pd.DataFrame:
    """Chinese headers, 是/否 for flags, empty cells for nulls."""
    out = pd.DataFrame(index=table.index)
    for name in table.columns:
        col = table[name]
        if pd.api.types.is_bool_dtype(col):
            out[name] = np.where(col.fillna(False).to_numpy(dtype=bool), "是", "否")
        else:
            out[name] = col.astype(object).where(col.notna(), None)
    return out.rename(columns=lambda c: HEADERS_ZH.get(c, c))


def _format(sheet: Worksheet, table: pd.DataFrame, percent: Format) -> None:
    """Percent format for shares, a frozen header row and readable column widths (whole columns)."""
    sheet.freeze_panes(1, 0)
    for i, name in enumerate(table.columns):
        wide = name in ("name", "description_zh", "message_zh")
        sheet.set_column(i, i, 40 if wide else 14, percent if name.endswith("_share") else None)
