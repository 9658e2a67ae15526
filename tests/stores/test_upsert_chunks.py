"""`Store.upsert_chunks`: an append handed over chunk by chunk is the upsert of the rows together.

Both stores: the same content, revision counts and history as `upsert`, over a
populated layer; nothing changed records no revision.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.frames import WGS84, conform
from gridmap.stores import Store


def _households(codes: list[str], address: str = "和平路1号") -> gpd.GeoDataFrame:
    n = len(codes)
    return conform(
        "households",
        gpd.GeoDataFrame(
            {"code": codes, "address": [address] * n, "size": list(range(1, n + 1))},
            geometry=shapely.points([116.3 + int(c[1:]) * 1e-4 for c in codes], [39.9] * n),
            crs=WGS84,
        ),
    )


def _chunks(frame: gpd.GeoDataFrame, size: int) -> Iterator[gpd.GeoDataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def _after(store: Store, write: str, start: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> tuple[object, ...]:
    """The layer, the last revision's counts and its changes after `write` of `rows` over `start`."""
    store.replace("households", start)
    written = (
        store.upsert("households", rows)
        if write == "whole"
        else store.upsert_chunks("households", _chunks(rows, 3))
    )
    last = store.history(layer="households", limit=1)[0]
    kinds = sorted((c.code, c.op) for c in store.changes(last.id).changes)
    return written, store.read("households"), last.counts, kinds


def test_chunks_make_the_layer_the_whole_upsert_makes(store: Store) -> None:
    start = _households([f"H{i:03d}" for i in range(10)])
    # H005-H009 moved on, H010-H013 new, H002-H004 sent again unchanged; H000-H001 not sent, kept.
    rows = _households([f"H{i:03d}" for i in range(2, 14)])
    rows.loc[rows["code"] >= "H005", "address"] = "幸福路2号"
    rows.loc[rows["code"] < "H005", ["address", "size"]] = (
        start.set_index("code").loc[["H002", "H003", "H004"], ["address", "size"]].to_numpy()
    )
    whole = _after(store, "whole", start, rows)
    chunked = _after(store, "chunks", start, rows)
    assert chunked[0] == whole[0] == 12
    pd.testing.assert_frame_equal(chunked[1], whole[1])
    assert len(chunked[1]) == 14
    assert chunked[2] == whole[2] == {"households": {"inserted": 4, "updated": 5, "deleted": 0}}
    assert chunked[3] == whole[3]
    assert ("H005", "updated") in chunked[3] and ("H013", "inserted") in chunked[3]


def test_an_unchanged_append_records_no_revision(store: Store) -> None:
    frame = _households(["H1", "H2", "H3"])
    store.replace("households", frame)
    revision = store.revision()
    assert store.upsert_chunks("households", _chunks(frame, 2)) == 3
    assert store.revision() == revision
