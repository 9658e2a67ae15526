"""A workbook's sheet streamed as tables of text, a bounded number of rows at a time.

openpyxl's read-only mode parses the sheet's XML as it goes, so a sheet of a
million households is read in memory bounded by one chunk (and the
workbook's table of shared strings, which openpyxl holds whole). The whole-file
import reads the same stream as one chunk, so both give the same cells.

Cells become what pandas' Excel reader made of them before: an integral
number is an integer (`12.0` reads "12"), an empty cell, an Excel error
(#N/A, #DIV/0! …) or one of pandas' missing-value words ("NA", "null" …) is
no value, and everything is then text. Blank rows after the last row with a
value are dropped; blank rows between rows are kept (and fail validation).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from gridmap.catalogue import Layer
from gridmap.ingest.columns import map_columns
from gridmap.ingest.values import TEXT

HEADER_SCAN_ROWS = 10
"""The header is the row naming the most fields among the first ones (a title row may come first)."""

_NO_VALUE = frozenset(
    {
        *ERROR_CODES,
        # pandas' default missing-value words, which the whole-file read honoured before it streamed.
        *("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"),
        *("<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"),
    }
)
_SCAN_BYTES = 16 * 1024**2
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]*\d*:?[A-Z]*(\d+)"')
"""The sheet's declared size, before its rows (openpyxl looks for it after parsing them when it is absent)."""


@dataclass
class Sheet:
    """One open sheet of a workbook."""

    name: str
    worksheet: ReadOnlyWorksheet


def open_book(path: Path) -> Workbook:
    """The workbook, read only: its sheets are parsed as they are iterated.

    Raises OSError, ValueError or zipfile.BadZipFile for a file that is not a workbook.
    """
    return load_workbook(path, read_only=True, data_only=True, keep_links=False)


def sheet_of(book: Workbook, name: str) -> Sheet:
    """The sheet `name` of `book`, ready to stream."""
    worksheet = book[name]
    assert isinstance(worksheet, ReadOnlyWorksheet)
    # The declared size can be wrong: rows and cells are taken as the sheet's XML holds them.
    worksheet.reset_dimensions()
    return Sheet(name, worksheet)


def sheet_files(path: Path) -> dict[str, str]:
    """Each sheet's name and its XML's place in the workbook, in order, read without a cell or a string.

    Opening a workbook reads its whole table of shared strings (minutes for a million households'
    codes, addresses and phones); choosing a sheet and counting its rows needs none of it.
    Raises OSError, ValueError, KeyError or zipfile.BadZipFile for a file that is not a workbook.
    """
    reader = ExcelReader(str(path), read_only=True, keep_links=False)
    try:
        reader.read_manifest()
        reader.read_workbook()
        return {str(sheet.name): str(rel.target) for sheet, rel in reader.parser.find_sheets()}
    finally:
        reader.archive.close()


def sheet_rows(path: Path, xml: str) -> int:
    """The rows a sheet's XML holds: its declared size, else (GDAL declares none) its row elements
    counted in blocks (a second a million rows)."""
    rows = 0
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open(xml) as source:
        while block := source.read(_SCAN_BYTES):
            if not rows and not tail:
                head = block[: block.find(b"sheetData")]
                declared = _DIMENSION.search(head)
                if declared is not None:
                    return int(declared.group(1))
            joined = tail + block
            rows += joined.count(b"<row ") + joined.count(b"<row>")
            tail = joined[-5:]
            rows -= tail.count(b"<row ") + tail.count(b"<row>")
    return rows + tail.count(b"<row ") + tail.count(b"<row>")


def sheet_tables(sheet: Sheet, target: Layer, size: int | None) -> Iterator[tuple[int, pd.DataFrame]]:
    """The sheet's data rows, `size` at a time (None: all at once), as text under the header's names,
    each with the 0-based position of its first row among the data rows (one empty table when the
    sheet has a header and no data rows, none when it has no rows at all).

    Blank rows are held back until a row with a value follows them (blank rows at the end are
    dropped), so a chunk may run past `size` by the blank rows carried over from the one before.
    A cell right of the header's last names its column "column N", as a blank header cell does.
    """
    rows = sheet.worksheet.iter_rows(values_only=True)
    top = list(islice(rows, HEADER_SCAN_ROWS))
    if not top:
        return
    cells = _cells(top)
    header = _header_row(cells, target)
    names = [None if pd.isna(c) else c for c in cells.iloc[header]]
    start = 0
    blank = 0  # blank rows after the last row with a value so far
    for batch in _batches(top[header + 1 :], rows, size):
        cells = _cells(batch)
        filled = np.flatnonzero(cells.notna().any(axis=1).to_numpy())
        if not len(filled):
            blank += len(cells)
            continue
        last = int(filled[-1]) + 1
        table = cells.iloc[:last]
        if blank:
            table = pd.concat([pd.DataFrame(index=range(blank), columns=table.columns), table])
        blank = len(cells) - last
        yield start, _named(table.reset_index(drop=True), names)
        start += len(table)
    if start == 0:  # no data rows: the header's names alone
        yield 0, _named(pd.DataFrame(), names)


def _batches(
    first: list[tuple[Any, ...]], rows: Iterator[tuple[Any, ...]], size: int | None
) -> Iterator[list[tuple[Any, ...]]]:
    """The data rows in lists of `size` (None: one list), starting with the rows read after the header."""
    if size is None:
        yield [*first, *rows]
        return
    batch = [*first, *islice(rows, max(0, size - len(first)))]
    while batch:
        yield batch
        batch = list(islice(rows, size))


def _cells(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows of cell values as read, made what the whole-file read made of them (module docstring),
    as wide as the rightmost cell holding anything (a formatted but empty cell holds nothing)."""
    values = pd.DataFrame(list(rows), dtype=object).to_numpy(dtype=object)
    if values.size == 0:
        return pd.DataFrame(index=range(len(rows)))
    held = np.flatnonzero((~pd.isna(values) & (values != "")).any(axis=0))
    width = int(held[-1]) + 1 if len(held) else 0
    return pd.DataFrame(_as_read(values[:, :width]), dtype=object)


def _read_one(value: Any) -> Any:
    """One cell's value as the whole-file read took it."""
    if value.__class__ is float:
        return int(value) if value.is_integer() else value
    if value.__class__ is str and value in _NO_VALUE:
        return None
    return value


_as_read = np.frompyfunc(_read_one, 1, 1)


def _named(cells: pd.DataFrame, names: list[Any]) -> pd.DataFrame:
    """`cells` as text under the header's names (blank or missing ones "column N")."""
    width = max(len(names), cells.shape[1])
    cells = cells.reindex(columns=range(width))
    given = [*names, *[None] * (width - len(names))]
    cells.columns = [f"column {i + 1}" if name is None else str(name) for i, name in enumerate(given)]
    return cells.astype(TEXT)


def _header_row(top: pd.DataFrame, target: Layer) -> int:
    """The row naming the most fields: Chinese workbooks often open with a title row (某社区住户信息表)."""
    hits = [
        len(mapping.fields) + len(mapping.geometry)
        for mapping in (map_columns(target, row.dropna().tolist(), tabular=True) for _, row in top.iterrows())
    ]
    return max(range(len(hits)), key=lambda i: (hits[i], -i))
