"""`Store.replace_chunks`: a replace handed over chunk by chunk is the replace of the rows together.

Both stores: the same content, revision counts and history as `replace`, into
an empty and over a populated layer; a chunk that fails while it is being made
leaves the layer and the revision as they were.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.stores import Store
from tests.stores.chunks import chunks, edited, households


def _last_counts(store: Store) -> dict[str, dict[str, int]]:
    return store.history(layer="households", limit=1)[0].counts


def test_chunks_make_the_layer_the_whole_replace_makes(store: Store) -> None:
    first = households([f"H{i:03d}" for i in range(10)])
    assert store.replace_chunks("households", chunks(first, 3)) == 10
    pd.testing.assert_frame_equal(store.read("households"), first)
    assert _last_counts(store) == {"households": {"inserted": 10, "updated": 0, "deleted": 0}}

    # Over the populated layer: H000-H001 gone, H005-H009 moved on, H010-H011 new, the rest unchanged.
    second = edited(first, [f"H{i:03d}" for i in range(2, 12)])
    revision = store.revision()
    assert store.replace_chunks("households", chunks(second, 4)) == 10
    assert store.revision() != revision
    pd.testing.assert_frame_equal(store.read("households"), second)
    assert _last_counts(store) == {"households": {"inserted": 2, "updated": 5, "deleted": 2}}
    last = store.history(layer="households", limit=1)[0].id
    changed = store.changes(last)
    kinds = {(c.code, c.op) for c in changed.changes}
    assert ("H000", "deleted") in kinds and ("H005", "updated") in kinds and ("H011", "inserted") in kinds
    assert not any(code in ("H002", "H003", "H004") for code, _ in kinds)


def test_an_unchanged_layer_records_no_revision(store: Store) -> None:
    frame = households(["H1", "H2", "H3"])
    store.replace("households", frame)
    revision = store.revision()
    assert store.replace_chunks("households", chunks(frame, 2)) == 3
    assert store.revision() == revision


class _Broken(Exception):
    pass


def test_a_chunk_that_fails_changes_nothing(store: Store) -> None:
    store.replace("households", households(["H1", "H2"]))
    before, revision = store.read("households"), store.revision()

    def failing() -> Iterator[gpd.GeoDataFrame]:
        yield households(["H3", "H4"])
        raise _Broken("the last chunk failed")

    with pytest.raises(_Broken):
        store.replace_chunks("households", failing())
    pd.testing.assert_frame_equal(store.read("households"), before)
    assert store.revision() == revision
