"""A big workbook imported chunk by chunk gives what the whole-file import gives, on both stores; so does
a big create (`--mode create`), from a workbook or a CSV.

The sample district's first households go into a workbook's sheet under a
title row, with Chinese headers, numbers as Excel stores them (the size a
number, a few points missing, placed at their building) and blank rows left
below the data; importing it with a chunk of a few hundred rows must leave the
same layer, report and revision as reading it whole. A bad row or a repeated
code in a later chunk names its row of the sheet and changes nothing.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook

from gridmap.catalogue import get_layer
from gridmap.errors import ConflictError, ValidationError
from gridmap.frames import empty_frame
from gridmap.ingest import ImportReport, import_file
from gridmap.ingest.readers import xlsx_rows
from gridmap.stores import Store
from tests.ingest.chunked import CHUNK, ROWS, WHOLE, assert_skipped_alike, imported_both, reported

SHEET = "住户"
HEADERS = {"code": "户编码", "address": "地址", "building_code": "楼栋编码", "size": "人口", "lon": "经度"}


def _table(sample: dict[str, gpd.GeoDataFrame], rows: slice = slice(0, ROWS)) -> pd.DataFrame:
    """Households as a grid administrator's workbook holds them: lon/lat, every 50th row without a point."""
    frame = sample["households"].sort_values("code").iloc[rows].reset_index(drop=True)
    points = frame.geometry.to_numpy()
    table = pd.DataFrame(frame.drop(columns=["grid_code", "geometry"]))
    table["lon"] = shapely.get_x(points)
    table["lat"] = shapely.get_y(points)
    table.loc[table.index % 50 == 7, ["lon", "lat"]] = None
    return table.rename(columns=HEADERS)


def _write(table: pd.DataFrame, path: Path) -> Path:
    """`table` on a sheet under a title row, numbers as numbers, three blank rows (one formatted) below."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.append(["和平社区住户信息表"])
    sheet.append(list(table.columns))
    for row in table.astype(object).itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in row])
    sheet.append([])
    sheet.append([None, None, ""])
    sheet.append([])
    book.save(path)
    return path


def _summary(report: ImportReport) -> tuple[object, ...]:
    return reported(
        report,
        "rows",
        "written",
        "format",
        "source_layer",
        "placed_at_building",
        "inserted",
        "updated",
        "mapping",
        "geometry_columns",
        "ignored",
    )


@pytest.mark.slow
def test_a_chunked_xlsx_import_equals_the_whole_import(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    table = _table(sample)
    path = _write(table, tmp_path / "households.xlsx")
    # The rows the sheet holds: the title, the header and the blank rows below count too.
    assert xlsx_rows(path, get_layer("households")).rows == ROWS + 5
    (whole, whole_report, whole_counts), (chunked, chunked_report, chunked_counts) = imported_both(
        loaded, path, empty_frame("households"), _summary
    )
    assert isinstance(chunked, gpd.GeoDataFrame)
    assert len(chunked) == ROWS
    assert chunked["grid_code"].notna().sum() > ROWS * 0.9  # derived: the sheet has none
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked_report == whole_report
    assert chunked_report[2:5] == ("xlsx", SHEET, ROWS // 50)
    assert chunked_report[7]["code"] == "户编码"
    # What Excel stored as numbers reads as the text typed: a size of 3 is "3", not "3.0".
    assert chunked["size"].dropna().astype(int).tolist() == table["人口"].dropna().astype(int).tolist()
    assert chunked_counts == whole_counts == {"households": {"inserted": ROWS, "updated": 0, "deleted": 0}}

    # Over a populated layer: 280 moved on, the last 100 gone, 120 new ones.
    edited = table.iloc[:-100].copy()
    edited.loc[edited.index % 5 == 0, "地址"] = "和平路 99 号"
    edited = pd.concat([edited, _table(sample, slice(ROWS, ROWS + 120))], ignore_index=True)
    again = _write(edited, tmp_path / "edited.xlsx")
    (whole, whole_report, whole_counts), (chunked_again, chunked_report, chunked_counts) = imported_both(
        loaded, again, chunked, _summary
    )
    pd.testing.assert_frame_equal(chunked_again, whole)
    assert chunked_report == whole_report
    assert chunked_counts == whole_counts == {"households": {"inserted": 120, "updated": 280, "deleted": 100}}


@pytest.mark.slow
def test_a_bad_row_in_a_later_xlsx_chunk_changes_nothing(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    table = _table(sample).astype({"lat": object, "人口": object})
    loaded.replace("households", empty_frame("households"))
    before, revision = loaded.read("households"), loaded.revision()
    table.loc[ROWS - 2, "户编码"] = table.loc[3, "户编码"]  # a repeat of row 4 (chunk 1), in the last chunk
    table.loc[ROWS - 1, "楼栋编码"] = "B-nowhere"
    table.loc[900, "lat"] = "三十"  # not a number, in chunk 3
    table.loc[1_200, "人口"] = "很多"  # not a number, in chunk 4
    path = _write(table, tmp_path / "bad.xlsx")
    said = []
    for size in (CHUNK, WHOLE):
        with pytest.raises(ValidationError) as raised:
            import_file(loaded, "households", path, chunk_rows=size)
        problems = [(p.row, p.field) for p in raised.value.problems]
        assert problems == [(901, "geometry"), (1_201, "size"), (ROWS - 1, "code"), (ROWS, "building_code")]
        assert raised.value.source == str(path)
        assert "row 4" in str(raised.value)
        said.append([p.describe("en") for p in raised.value.problems])
        pd.testing.assert_frame_equal(loaded.read("households"), before)
        assert loaded.revision() == revision
    assert said[0] == said[1]


@pytest.mark.slow
def test_skipping_invalid_xlsx_rows_chunk_by_chunk(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    table = _table(sample)
    table.loc[ROWS - 2, "户编码"] = table.loc[3, "户编码"]
    table.loc[450, "楼栋编码"] = "B-nowhere"
    assert_skipped_alike(loaded, _write(table, tmp_path / "bad.xlsx"))


@pytest.mark.slow
def test_a_chunked_xlsx_append_equals_the_whole_append(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    """Rows 501–1,500 appended over the first 1,000: 500 new, the rest updated where they differ."""
    start = sample["households"].sort_values("code").head(1_000).reset_index(drop=True)
    table = _table(sample, slice(500, ROWS))
    table.loc[table.index % 5 == 0, "地址"] = "和平路 99 号"
    path = _write(table, tmp_path / "more.xlsx")
    (whole, whole_report, whole_counts), (chunked, chunked_report, chunked_counts) = imported_both(
        loaded, path, start, _summary, mode="append"
    )
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked_report == whole_report
    assert chunked_report[5:7] == (500, 500)
    assert chunked_counts == whole_counts == {"households": {"inserted": 500, "updated": 110, "deleted": 0}}


@pytest.mark.slow
@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_a_chunked_create_equals_the_whole_create(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path, suffix: str
) -> None:
    """Rows 501–1,500 created beside the first 500; then the same file again is refused, writing nothing."""
    start = sample["households"].sort_values("code").head(500).reset_index(drop=True)
    table = _table(sample, slice(500, ROWS))
    path = tmp_path / f"new.{suffix}"
    if suffix == "xlsx":
        _write(table, path)
    else:
        table.to_csv(path, index=False)
    (whole, whole_report, whole_counts), (chunked, chunked_report, chunked_counts) = imported_both(
        loaded, path, start, _summary, mode="create"
    )
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked_report == whole_report
    assert chunked_report[:2] == (1_000, 1_000)
    assert chunked_report[5:7] == (1_000, 0)
    assert chunked_counts == whole_counts == {"households": {"inserted": 1_000, "updated": 0, "deleted": 0}}

    # Two codes of the file already stored (one in the first chunk, one in the last): a conflict,
    # said as the store's key says it, and nothing written.
    taken = start.head(2).assign(code=table.loc[[10, ROWS - 501], "户编码"].to_numpy())
    said = []
    for size in (WHOLE, CHUNK):
        loaded.replace("households", pd.concat([start, taken], ignore_index=True))
        before, revision = loaded.read("households"), loaded.revision()
        with pytest.raises(ConflictError) as raised:
            import_file(loaded, "households", path, chunk_rows=size, mode="create")
        said.append(str(raised.value))
        pd.testing.assert_frame_equal(loaded.read("households"), before)
        assert loaded.revision() == revision
    assert said[0] == said[1]
    assert all(code in said[1] for code in taken["code"])


def test_a_chunk_taken_mid_create_changes_nothing(loaded: Store, sample: dict[str, gpd.GeoDataFrame]) -> None:
    """`Store.insert_chunks` checks each chunk against the stored codes inside its one transaction: a code
    stored by someone else since the import looked refuses the whole create."""
    households = sample["households"].sort_values("code").head(ROWS).reset_index(drop=True)
    loaded.replace("households", households.iloc[1_400:])
    before, revision = loaded.read("households"), loaded.revision()
    with pytest.raises(ConflictError) as raised:
        loaded.insert_chunks("households", iter([households.iloc[:CHUNK], households.iloc[1_000:]]))
    assert households["code"].iloc[1_400] in str(raised.value)
    pd.testing.assert_frame_equal(loaded.read("households"), before)
    assert loaded.revision() == revision
    assert loaded.insert_chunks("households", iter([households.iloc[:CHUNK], households.iloc[CHUNK:1_400]]))
    assert len(loaded.read("households")) == ROWS


def test_a_sheet_without_a_declared_size_is_counted(tmp_path: Path) -> None:
    """GDAL (gridmap's own export) writes no <dimension>: the sheet's rows are counted instead."""
    path = tmp_path / "households.xlsx"
    book = Workbook()
    book.active.title = SHEET
    for i in range(25):
        book.active.append([f"H{i}", "幸福路"])
    book.save(path)
    undeclared = tmp_path / "undeclared.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(undeclared, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<dimension " in data
                data = data.replace(b'<dimension ref="A1:B25"/>', b"")
            target.writestr(item, data)
    households = get_layer("households")
    assert xlsx_rows(path, households).rows == xlsx_rows(undeclared, households).rows == 25
