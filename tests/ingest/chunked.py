"""What the chunked-import tests share: a file of the sample district's households imported whole
and chunk by chunk into a store holding the sample's boundaries and buildings (`loaded`, in
conftest.py), compared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.errors import ValidationError
from gridmap.frames import empty_frame
from gridmap.ingest import ImportReport, import_file
from gridmap.ingest.importer import Mode
from gridmap.stores import Store

ROWS = 1_500
CHUNK = 400  # four chunks, the last one short
WHOLE = 10**9

Summary = Callable[[ImportReport], tuple[object, ...]]


def reported(report: ImportReport, *fields: str) -> tuple[object, ...]:
    """The report's `fields`, then what its changes say: what a chunked import must report alike."""
    changes = report.changes
    assert changes is not None
    tail = (changes.counts, changes.samples, changes.changed_fields, changes.cleared)
    return (*(getattr(report, field) for field in fields), *tail)


def imported_both(
    store: Store, path: Path, start: gpd.GeoDataFrame, summary: Summary, mode: Mode = "replace"
) -> tuple[tuple[object, ...], ...]:
    """The layer, the report's `summary` and the last revision's counts after a whole and after a
    chunked import of `path`, each starting from `start`."""
    results = []
    for size in (WHOLE, CHUNK):
        store.replace("households", start)
        report = import_file(store, "households", path, chunk_rows=size, mode=mode)
        counts = store.history(layer="households", limit=1)[0].counts
        results.append((store.read("households"), summary(report), counts))
    return tuple(results)


def assert_skipped_alike(store: Store, path: Path) -> None:
    """`path` (a repeated code in the last chunk, an unknown building at row 451) imported with
    invalid rows skipped, whole and chunk by chunk: the same rows kept and the same rows rejected."""
    results = []
    for size in (WHOLE, CHUNK):
        store.replace("households", empty_frame("households"))
        report = import_file(store, "households", path, chunk_rows=size, skip_invalid=True)
        assert report.rejected is not None
        results.append((store.read("households"), report.rejected, report.rows))
    (whole, whole_rejected, whole_rows), (chunked, chunked_rejected, chunked_rows) = results
    assert chunked_rows == whole_rows == ROWS - 2
    assert chunked_rejected["row"].tolist() == [451, ROWS - 1]
    pd.testing.assert_frame_equal(chunked_rejected, whole_rejected)
    pd.testing.assert_frame_equal(chunked, whole)


def assert_refused_alike(store: Store, path: Path, chunked: ValidationError) -> None:
    """The file `chunked` refused chunk by chunk is refused whole for the same rows and reasons."""
    with pytest.raises(ValidationError) as whole:
        import_file(store, "households", path, chunk_rows=WHOLE)
    assert [p.describe("en") for p in whole.value.problems] == [p.describe("en") for p in chunked.problems]
