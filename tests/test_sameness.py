"""One definition of a change: what a preview calls unchanged, the store neither records nor writes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, Polygon

from gridmap.ingest.changes import change_set as preview
from gridmap.sameness import GEOMETRY_TOLERANCE_DEG, same_geometries, same_values
from gridmap.stores import Store
from tests.stores.conftest import sample_layers


def test_values_nulls_and_numbers() -> None:
    text = same_values(pd.Series(["a", None, "b", None], dtype="string"), pd.Series(["a", None, "c", "d"]))
    assert text.tolist() == [True, True, False, False]
    numbers = same_values(pd.Series([1.0, 2.0, np.nan]), pd.Series([1.0 + 1e-12, 2.001, np.nan]))
    assert numbers.tolist() == [True, False, True]
    flags = same_values(pd.Series([True, False, None], dtype="boolean"), pd.Series([True, True, None]))
    assert flags.tolist() == [True, False, True]


def test_geometries_within_a_centimetre_and_ring_order() -> None:
    ring = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
    rotated = Polygon(ring[1:] + ring[1:2])
    near, far = GEOMETRY_TOLERANCE_DEG / 10, GEOMETRY_TOLERANCE_DEG * 10
    old = np.array([Point(116, 40), Point(116, 40), Polygon(ring), None, Point(1, 1)], dtype=object)
    new = np.array([Point(116 + near, 40), Point(116 + far, 40), rotated, None, None], dtype=object)
    assert same_geometries(old, new).tolist() == [True, False, True, True, False]


def test_a_shift_within_the_tolerance_is_no_edit_in_preview_history_or_store(store: Store) -> None:
    store.replace_many(sample_layers())
    stored = store.read("speakers", codes=["K2"])
    x, y = float(stored.geometry.x.iat[0]), float(stored.geometry.y.iat[0])
    revision = store.history(limit=1)[0].id

    def shifted(frame: gpd.GeoDataFrame, by: float) -> gpd.GeoDataFrame:
        out = frame.copy()
        out.loc[out["code"] == "K2", "geometry"] = Point(x + by, y)
        return out

    nudged = shifted(stored, GEOMETRY_TOLERANCE_DEG / 10)
    assert preview("speakers", stored, nudged, "append").changed == 0
    store.upsert("speakers", nudged)
    store.replace("speakers", shifted(store.read("speakers"), GEOMETRY_TOLERANCE_DEG / 10))
    assert store.history(limit=1)[0].id == revision  # nothing recorded ...
    assert float(store.read("speakers", codes=["K2"]).geometry.x.iat[0]) == x  # ... and nothing written
    moved = shifted(stored, GEOMETRY_TOLERANCE_DEG * 10)
    assert preview("speakers", stored, moved, "append").changed == 1
    store.upsert("speakers", moved)
    assert store.history(limit=1)[0].id == revision + 1
