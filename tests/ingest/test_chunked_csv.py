"""A big replace from a CSV imported chunk by chunk gives what the whole-file import gives, on both stores.

The sample district's first households go into a CSV with lon/lat columns
(some rows without a point, placed at their building; one address holding a
quoted line break); importing it with a chunk of a few hundred rows must leave
the same layer, report and revision as reading it whole, in UTF-8 and in GBK.
A bad row or a repeated code in a later chunk names its row of the file and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridmap.errors import ValidationError
from gridmap.frames import empty_frame
from gridmap.ingest import ImportReport, import_file
from gridmap.stores import Store
from tests.ingest.chunked import (
    CHUNK,
    ROWS,
    WHOLE,
    assert_refused_alike,
    assert_skipped_alike,
    imported_both,
    reported,
)


def _table(sample: dict[str, gpd.GeoDataFrame], rows: slice = slice(0, ROWS)) -> pd.DataFrame:
    """Households as a spreadsheet export holds them: lon/lat columns, every 50th row without a point."""
    frame = sample["households"].sort_values("code").iloc[rows].reset_index(drop=True)
    points = frame.geometry.to_numpy()
    table = pd.DataFrame(frame.drop(columns=["grid_code", "geometry"]))
    table["lon"] = shapely.get_x(points)
    table["lat"] = shapely.get_y(points)
    table.loc[table.index % 50 == 7, ["lon", "lat"]] = None
    return table


def _write(table: pd.DataFrame, path: Path, encoding: str = "utf-8") -> Path:
    table.to_csv(path, index=False, encoding=encoding)
    return path


def _summary(report: ImportReport) -> tuple[object, ...]:
    return reported(
        report,
        "rows",
        "written",
        "format",
        "encoding",
        "placed_at_building",
        "inserted",
        "updated",
        "mapping",
        "geometry_columns",
    )


def test_a_chunked_csv_import_equals_the_whole_import(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    table = _table(sample)
    table.loc[601, "address"] = "和平路 7 号\n2 单元"  # a line break inside a quoted cell, in chunk 2
    path = _write(table, tmp_path / "households.csv")
    (whole, whole_report, whole_counts), (chunked, chunked_report, chunked_counts) = imported_both(
        loaded, path, empty_frame("households"), _summary
    )
    assert isinstance(chunked, gpd.GeoDataFrame)
    assert len(chunked) == ROWS
    broken = chunked["code"] == table.loc[601, "code"]
    assert chunked.loc[broken, "address"].tolist() == ["和平路 7 号\n2 单元"]
    assert chunked["grid_code"].notna().sum() > ROWS * 0.9  # derived, not copied: the file has none
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked_report == whole_report
    assert chunked_report[2:4] == ("csv", "utf-8")
    assert chunked_report[4:7] == (ROWS // 50, None, None)  # rows without a point placed at their building
    assert chunked_counts == whole_counts == {"households": {"inserted": ROWS, "updated": 0, "deleted": 0}}

    # Over a populated layer, from a GBK file: 280 moved on, the last 100 gone, 120 new ones.
    edited = table.iloc[:-100].copy()
    edited.loc[edited.index % 5 == 0, "address"] = "和平路 99 号"
    edited = pd.concat([edited, _table(sample, slice(ROWS, ROWS + 120))], ignore_index=True)
    again = _write(edited, tmp_path / "edited.csv", encoding="gbk")
    (whole, whole_report, whole_counts), (chunked_again, chunked_report, chunked_counts) = imported_both(
        loaded, again, chunked, _summary
    )
    pd.testing.assert_frame_equal(chunked_again, whole)
    assert chunked_report == whole_report
    assert chunked_report[3] == "gbk (detected)"
    assert chunked_counts == whole_counts == {"households": {"inserted": 120, "updated": 280, "deleted": 100}}


def test_a_bad_row_in_a_later_csv_chunk_changes_nothing(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    table = _table(sample)
    loaded.replace("households", empty_frame("households"))
    before, revision = loaded.read("households"), loaded.revision()
    bad = table.astype({"lat": object})
    bad.loc[ROWS - 2, "code"] = bad.loc[3, "code"]  # a repeat of row 4 (chunk 1), in the last chunk
    bad.loc[ROWS - 1, "building_code"] = "B-nowhere"
    bad.loc[900, "lat"] = "三十"  # not a number, in chunk 3
    path = _write(bad, tmp_path / "bad.csv")
    with pytest.raises(ValidationError) as raised:
        import_file(loaded, "households", path, chunk_rows=CHUNK)
    problems = [(p.row, p.field) for p in raised.value.problems]
    assert problems == [(901, "geometry"), (ROWS - 1, "code"), (ROWS, "building_code")]
    assert raised.value.source == str(path)
    assert "row 4" in str(raised.value)
    pd.testing.assert_frame_equal(loaded.read("households"), before)
    assert loaded.revision() == revision
    assert_refused_alike(loaded, path, raised.value)  # whole: the same rows, the same reasons


def test_skipping_invalid_csv_rows_chunk_by_chunk(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    bad = _table(sample)
    bad.loc[ROWS - 2, "code"] = bad.loc[3, "code"]
    bad.loc[450, "building_code"] = "B-nowhere"
    assert_skipped_alike(loaded, _write(bad, tmp_path / "bad.csv"))


def test_a_csv_not_in_its_declared_encoding_is_one_clear_error(loaded: Store, tmp_path: Path) -> None:
    path = tmp_path / "households.csv"
    path.write_bytes(("code,address\n" + "h1,幸福路\n" * 10).encode("gbk"))
    said = []
    for size in (WHOLE, 3):
        with pytest.raises(ValidationError) as raised:
            import_file(loaded, "households", path, chunk_rows=size, encoding="utf-8")
        assert [(p.row, p.field) for p in raised.value.problems] == [(None, None)]
        said.append(str(raised.value))
    assert said[0] == said[1]
    assert "byte 16" in said[1]  # after "code,address\nh1,"


def test_a_chunked_append_equals_the_whole_append(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    """Rows 501–1,500 appended over the first 1,000: 500 new, the rest updated where they differ."""
    start = sample["households"].sort_values("code").head(1_000).reset_index(drop=True)
    table = _table(sample, slice(500, ROWS))
    table.loc[table.index % 5 == 0, "address"] = "和平路 99 号"
    path = _write(table, tmp_path / "more.csv")
    (whole, whole_report, whole_counts), (chunked, chunked_report, chunked_counts) = imported_both(
        loaded, path, start, _summary, mode="append"
    )
    assert isinstance(chunked, gpd.GeoDataFrame)
    assert len(chunked) == ROWS
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked_report == whole_report
    assert chunked_report[5:7] == (500, 500)  # inserted, and written over a stored code
    assert chunked_counts == whole_counts
    # 100 addresses moved on, and the 10 rows without a point placed at their building's point.
    assert chunked_counts == {"households": {"inserted": 500, "updated": 110, "deleted": 0}}
    # Rows 1–500 were not in the file: an append leaves them as they were.
    kept = chunked[chunked["code"].isin(start["code"].iloc[:500])].reset_index(drop=True)
    assert kept["address"].tolist() == start["address"].iloc[:500].tolist()


def test_a_chunked_append_with_a_repeat_across_chunks_changes_nothing(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    start = sample["households"].sort_values("code").head(1_000).reset_index(drop=True)
    loaded.replace("households", start)
    before, revision = loaded.read("households"), loaded.revision()
    table = _table(sample).astype({"size": object})
    table.loc[ROWS - 1, "code"] = table.loc[10, "code"]  # a repeat of row 11, in the last chunk
    table.loc[1_200, "size"] = "很多"  # not a number, in chunk 4
    path = _write(table, tmp_path / "bad.csv")
    said = []
    for size in (CHUNK, WHOLE):
        with pytest.raises(ValidationError) as raised:
            import_file(loaded, "households", path, chunk_rows=size, mode="append")
        assert [(p.row, p.field) for p in raised.value.problems] == [(1_201, "size"), (ROWS, "code")]
        assert "row 11" in str(raised.value)
        said.append([p.describe("en") for p in raised.value.problems])
        pd.testing.assert_frame_equal(loaded.read("households"), before)
        assert loaded.revision() == revision
    assert said[0] == said[1]


def test_a_chunk_failing_mid_append_changes_nothing(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame]
) -> None:
    """`Store.upsert_chunks` writes in one transaction: a chunk that raises undoes the chunks before it."""
    households = sample["households"].sort_values("code").head(ROWS).reset_index(drop=True)
    loaded.replace("households", households.head(1_000))
    before, revision = loaded.read("households"), loaded.revision()

    def chunks() -> Iterator[gpd.GeoDataFrame]:
        yield households.iloc[:CHUNK].assign(address="和平路 1 号")
        yield households.iloc[1_000:]
        raise RuntimeError("the third chunk could not be made")

    with pytest.raises(RuntimeError):
        loaded.upsert_chunks("households", chunks())
    pd.testing.assert_frame_equal(loaded.read("households"), before)
    assert loaded.revision() == revision

    written = loaded.upsert_chunks("households", iter([households.iloc[:CHUNK], households.iloc[1_000:]]))
    assert written == CHUNK + ROWS - 1_000
    assert loaded.history(layer="households", limit=1)[0].counts == {
        "households": {"inserted": ROWS - 1_000, "updated": 0, "deleted": 0}
    }
    pd.testing.assert_frame_equal(
        loaded.read("households").drop(columns="revision", errors="ignore"),
        households.drop(columns="revision", errors="ignore"),
        check_dtype=False,
    )
