"""A big replace imported chunk by chunk gives what the whole-file import gives, on both stores.

The sample district's first households (some without a point, placed at their
building) go into a GeoPackage file; importing it with a chunk of a few hundred
rows must leave the same layer, report and revision as reading it whole, into
an empty layer and over a populated one; a bad row in the last chunk still
changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from gridmap.errors import ValidationError
from gridmap.frames import empty_frame
from gridmap.ingest import ImportReport, import_file
from gridmap.stores import Store
from tests.ingest.chunked import (
    CHUNK,
    ROWS,
    assert_refused_alike,
    assert_skipped_alike,
    imported_both,
    reported,
)


def _households(sample: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The first households as a file would hold them: no derived grid code, every 50th without a point."""
    frame = sample["households"].sort_values("code").head(ROWS).reset_index(drop=True)
    frame = frame.drop(columns="grid_code")
    frame.loc[frame.index % 50 == 7, "geometry"] = None
    return frame


def _write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    pyogrio.write_dataframe(frame, path, layer="households", driver="GPKG")
    return path


def _summary(report: ImportReport) -> tuple[object, ...]:
    return reported(report, "rows", "written", "placed_at_building", "mapping")


def test_chunked_import_equals_the_whole_import(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    households = _households(sample)
    path = _write(households, tmp_path / "households.gpkg")
    (whole, whole_report, whole_counts), (chunked, chunked_report, chunked_counts) = imported_both(
        loaded, path, empty_frame("households"), _summary
    )
    assert len(chunked) == ROWS
    assert chunked["grid_code"].notna().sum() > ROWS * 0.9  # derived, not copied: the file has none
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked_report == whole_report
    assert chunked_counts == whole_counts == {"households": {"inserted": ROWS, "updated": 0, "deleted": 0}}

    # Over a populated layer: 300 moved on, the last 100 gone, 120 new ones.
    edited = households.iloc[:-100].copy()
    edited.loc[edited.index % 5 == 0, "address"] = "和平路 99 号"
    extra = sample["households"].sort_values("code").iloc[ROWS : ROWS + 120].drop(columns="grid_code")
    edited = pd.concat([edited, extra], ignore_index=True)
    again = _write(edited, tmp_path / "edited.gpkg")
    (whole, whole_report, whole_counts), (chunked, chunked_report, chunked_counts) = imported_both(
        loaded, again, chunked, _summary
    )
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked_report == whole_report
    assert chunked_counts == whole_counts == {"households": {"inserted": 120, "updated": 280, "deleted": 100}}


def test_a_bad_row_in_the_last_chunk_changes_nothing(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    households = _households(sample)
    loaded.replace("households", households.assign(grid_code=None))
    before, revision = loaded.read("households"), loaded.revision()
    bad = households.copy()
    bad.loc[ROWS - 2, "code"] = bad.loc[3, "code"]  # a repeat of row 4, in the last chunk
    bad.loc[ROWS - 1, "building_code"] = "B-nowhere"
    path = _write(bad, tmp_path / "bad.gpkg")
    with pytest.raises(ValidationError) as raised:
        import_file(loaded, "households", path, chunk_rows=CHUNK)
    problems = [(p.row, p.field) for p in raised.value.problems]
    assert problems == [(ROWS - 1, "code"), (ROWS, "building_code")]
    assert raised.value.source == str(path)
    assert "row 4" in str(raised.value)
    pd.testing.assert_frame_equal(loaded.read("households"), before)
    assert loaded.revision() == revision
    assert_refused_alike(loaded, path, raised.value)  # whole: the same rows, the same reasons


def test_skipping_invalid_rows_chunk_by_chunk(
    loaded: Store, sample: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    bad = _households(sample)
    bad.loc[ROWS - 2, "code"] = bad.loc[3, "code"]
    bad.loc[450, "building_code"] = "B-nowhere"
    assert_skipped_alike(loaded, _write(bad, tmp_path / "bad.gpkg"))
