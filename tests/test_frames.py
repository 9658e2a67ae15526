"""`frames.conform` and the check that lets a store's canonical frame through as it is."""

from __future__ import annotations

import pandas as pd
from pandas.testing import assert_frame_equal

from gridmap.catalogue import get_layer
from gridmap.frames import conform, is_canonical
from tests.stores.conftest import sample_layers


def test_a_conformed_frame_is_canonical_and_conforms_to_itself() -> None:
    spec = get_layer("households")
    frame = conform(spec, sample_layers()["households"])
    assert is_canonical(spec, frame)
    assert_frame_equal(conform(spec, frame), frame, check_exact=True)
    assert frame["size"].tolist()[2] == 1  # a missing size took the catalogue's default


def test_what_conform_would_change_is_not_canonical() -> None:
    spec = get_layer("households")
    frame = conform(spec, sample_layers()["households"])
    gap = frame.copy()
    gap.loc[0, "size"] = pd.NA  # a default to fill in
    assert not is_canonical(spec, gap)
    assert not is_canonical(spec, frame[[*reversed(spec.field_names), "geometry"]])
    assert not is_canonical(spec, frame.to_crs(3857))
    assert not is_canonical(spec, frame.astype({"size": "float64"}))
    assert not is_canonical(spec, frame.iloc[::-1])  # numbered out of order
    assert is_canonical(spec, conform(spec, gap)) and conform(spec, gap)["size"].tolist()[0] == 1
