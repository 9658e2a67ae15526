"""A vector file read in chunks by one streaming reader holds what it holds read whole.

Dates, date-times (one offset, and mixed offsets: both kept as the file's
text, since a chunk cannot know whether its column mixes offsets), numbers
with gaps, Chinese text and missing geometries, in a GeoPackage and a GeoJSON
file, read 3 rows at a time (the last chunk short) against `read_source`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gridmap.catalogue import get_layer
from gridmap.ingest.readers import read_source, read_vector_chunks, vector_rows

ROWS = 10


def _frame() -> gpd.GeoDataFrame:
    rows = range(ROWS)
    zone = dt.timezone(dt.timedelta(hours=8))
    return gpd.GeoDataFrame(
        {
            "code": [f"户{i:03d}" for i in rows],
            "floors": [None if i % 4 == 0 else i for i in rows],
            "area": [i * 1.5 if i % 3 else np.nan for i in rows],
            "seen_on": [dt.date(2026, 1, 1 + i) for i in rows],
            "seen_at": [dt.datetime(2026, 1, 1, i, tzinfo=zone) for i in rows],
            "mixed_at": [
                dt.datetime(2026, 3, 1, i, tzinfo=dt.timezone(dt.timedelta(hours=8 if i % 2 else 0)))
                for i in rows
            ],
        },
        geometry=[None if i == 5 else shapely.Point(116.3 + i / 1000, 39.9) for i in rows],
        crs=4326,
    )


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_chunks_hold_what_the_whole_file_holds(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"households{suffix}"
    pyogrio.write_dataframe(_frame(), path, layer="households")
    spec = get_layer("households")
    whole = read_source(path, spec)
    rows = vector_rows(path, spec)
    assert rows is not None and rows.rows == ROWS
    chunks = list(read_vector_chunks(rows, 3))
    assert [start for start, _ in chunks] == [0, 3, 6, 9]
    assert [len(source.table) for _, source in chunks] == [3, 3, 3, 1]
    table = pd.concat([source.table for _, source in chunks], ignore_index=True)
    pd.testing.assert_frame_equal(table, whole.table)
    assert table["mixed_at"].iloc[1] == "2026-03-01T01:00:00+08:00"
    assert table["mixed_at"].iloc[2] in ("2026-03-01T02:00:00Z", "2026-03-01T02:00:00+00:00")
    assert whole.geometry is not None
    geometry = np.concatenate([np.asarray(source.geometry, dtype=object) for _, source in chunks])
    assert shapely.equals_exact(geometry, np.asarray(whole.geometry, dtype=object)).sum() == ROWS - 1
    assert all(source.crs == whole.crs and source.encoding == whole.encoding for _, source in chunks)
