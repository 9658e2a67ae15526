"""`Store.read_columns`: a layer's named fields through Arrow, the values `read` gives, on both stores."""

from __future__ import annotations

import pandas as pd
import pytest

from gridmap.errors import StoreError
from gridmap.sample import load_sample
from gridmap.stores import Store

FIELDS = ["code", "building_code", "size", "party_member", "center_household"]


def test_read_columns_gives_the_values_read_gives(store: Store) -> None:
    load_sample(store)
    narrow = store.read_columns("households", FIELDS)
    full = store.read("households")
    assert list(narrow.columns) == [*FIELDS, "geometry"]
    assert len(narrow) == len(full) == 24_451
    assert str(narrow["code"].dtype) == "string" and narrow["code"].dtype.storage == "pyarrow"
    for name in FIELDS:
        pd.testing.assert_series_equal(
            narrow[name].astype(object), full[name].astype(object), check_names=False, check_index=False
        )
    assert narrow.geometry.geom_equals_exact(full.geometry, 0).all()
    assert narrow.crs.to_epsg() == 4326


def test_read_columns_of_an_empty_layer_and_an_unknown_field(store: Store) -> None:
    assert len(store.read_columns("speakers", ["code", "status"])) == 0
    with pytest.raises(StoreError, match="households has no field password"):
        store.read_columns("households", ["code", "password"])
