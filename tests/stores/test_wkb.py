"""Arrow WKB columns to shapely: the numpy point path and the general one give what from_wkb gives."""

from __future__ import annotations

import itertools
from unittest.mock import patch

import numpy as np
import pyarrow as pa
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from gridmap.stores import wkb as wkb_module
from gridmap.stores.wkb import geometries, multipoints

POINTS = [shapely.Point(114.3, 30.5), shapely.Point(-0.5, 1e-9), shapely.Point()]
MIXED = [shapely.Point(1, 2), shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (2, 3)])]


def _column(shapes: list[shapely.Geometry | None], hexed: bool = False) -> pa.Array:
    values = [None if s is None else shapely.to_wkb(s, hex=hexed) for s in shapes]
    return pa.array(values, type=pa.string() if hexed else pa.binary())


def _same(got: np.ndarray, want: list[shapely.Geometry | None]) -> bool:
    return len(got) == len(want) and all(
        (g is None and w is None)
        or (g is not None and w is not None and shapely.equals_exact(g, w, 0))
        or (g is not None and w is not None and g.is_empty and w.is_empty and g.geom_type == w.geom_type)
        for g, w in zip(got, want, strict=True)
    )


@pytest.mark.parametrize("hexed", [False, True])
@pytest.mark.parametrize("shapes", [POINTS, [None, *POINTS, None], MIXED, [None, *MIXED], [], [None]])
def test_geometries_equal_shapely_from_wkb(shapes: list[shapely.Geometry | None], hexed: bool) -> None:
    assert _same(geometries(_column(shapes, hexed)), shapes)


def test_empty_point_stays_empty_not_nan() -> None:
    (got,) = geometries(_column([shapely.Point()]))
    assert got.is_empty and got.geom_type == "Point"


def test_chunked_and_sliced_columns() -> None:
    shapes = [shapely.Point(i, -i) for i in range(10)]
    column = _column(shapes)
    assert _same(geometries(column.slice(3, 4)), shapes[3:7])
    chunked = pa.chunked_array([column.slice(0, 5), column.slice(5)])
    assert _same(geometries(chunked), shapes)
    assert _same(geometries(_column(shapes, hexed=True).slice(2, 5)), shapes[2:7])


def test_not_hex_is_refused() -> None:
    with pytest.raises(ValueError, match="not hex"):
        geometries(pa.array(["zz"]))


@given(st.lists(st.one_of(st.none(), st.tuples(st.floats(-180, 180), st.floats(-90, 90))), max_size=30))
def test_any_points_and_nulls(rows: list[tuple[float, float] | None]) -> None:
    shapes = [None if r is None else shapely.Point(*r) for r in rows]
    assert _same(geometries(_column(shapes)), shapes)


@given(st.lists(st.integers(min_value=0, max_value=5), max_size=12), st.sampled_from([1, 3, 7, 500_000]))
def test_multipoints_equal_shapely_multipoints(sizes: list[int], batch: int) -> None:
    """Each run is one MultiPoint of exactly its points, empty runs included, however batched."""
    with patch.object(wkb_module, "_BATCH_POINTS", batch):
        rng = np.random.default_rng(len(sizes))
        xy = rng.uniform(-180, 180, (sum(sizes), 2))
        got = multipoints(xy, np.array(sizes, dtype=np.int64))
        starts = np.cumsum([0, *sizes])
        want = [
            shapely.MultiPoint(xy[a:b].tolist()) if b > a else shapely.MultiPoint()
            for a, b in itertools.pairwise(starts)
        ]
        assert len(got) == len(sizes)
        for g, w in zip(got, want, strict=True):
            assert g.geom_type == "MultiPoint"
            assert g.is_empty == w.is_empty and (g.is_empty or shapely.equals_exact(g, w, 0))
            assert shapely.get_coordinates(g).tolist() == shapely.get_coordinates(w).tolist()


def test_multipoints_refuse_sizes_not_adding_up() -> None:
    with pytest.raises(ValueError, match="add up"):
        multipoints(np.zeros((3, 2)), np.array([1, 1]))
