"""`Store.upsert_chunks`: an append handed over chunk by chunk is the upsert of the rows together.

Both stores: the same content, revision counts and history as `upsert`, over a
populated layer; nothing changed records no revision.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gridmap.stores import Store
from tests.stores.chunks import chunks, edited, households


def _after(store: Store, write: str, start: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> tuple[object, ...]:
    """The layer, the last revision's counts and its changes after `write` of `rows` over `start`."""
    store.replace("households", start)
    written = (
        store.upsert("households", rows)
        if write == "whole"
        else store.upsert_chunks("households", chunks(rows, 3))
    )
    last = store.history(layer="households", limit=1)[0]
    kinds = sorted((c.code, c.op) for c in store.changes(last.id).changes)
    return written, store.read("households"), last.counts, kinds


def test_chunks_make_the_layer_the_whole_upsert_makes(store: Store) -> None:
    start = households([f"H{i:03d}" for i in range(10)])
    # H005-H009 moved on, H010-H013 new, H002-H004 sent again unchanged; H000-H001 not sent, kept.
    rows = edited(start, [f"H{i:03d}" for i in range(2, 14)])
    whole = _after(store, "whole", start, rows)
    chunked = _after(store, "chunks", start, rows)
    assert chunked[0] == whole[0] == 12
    pd.testing.assert_frame_equal(chunked[1], whole[1])
    assert len(chunked[1]) == 14
    assert chunked[2] == whole[2] == {"households": {"inserted": 4, "updated": 5, "deleted": 0}}
    assert chunked[3] == whole[3]
    assert ("H005", "updated") in chunked[3] and ("H013", "inserted") in chunked[3]


def test_an_unchanged_append_records_no_revision(store: Store) -> None:
    frame = households(["H1", "H2", "H3"])
    store.replace("households", frame)
    revision = store.revision()
    assert store.upsert_chunks("households", chunks(frame, 2)) == 3
    assert store.revision() == revision
