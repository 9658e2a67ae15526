"""A code index finds a few codes' rows as hashing the whole column does, and follows the layer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from gridmap import coderows
from gridmap.assignment import index_in
from gridmap.coderows import CodeRows


def _codes(values: list[str]) -> pd.Series:
    return pd.Series(values, dtype="string[pyarrow]")


def test_it_finds_the_rows_of_codes_and_nothing_else() -> None:
    codes = _codes(["H7", "H2", "H10", "H1", "A", "Z9"])
    index = CodeRows.of(codes)
    wanted = ["H10", "nope", "A", "Z9", "H1", "", "ZZ"]
    assert index.find(wanted).tolist() == [2, -1, 4, 5, 3, -1, -1]
    assert index.find(pd.Series(["H2", None], dtype="string")).tolist() == [1, -1]
    assert CodeRows.of(codes.iloc[:0]).find(["H7"]).tolist() == [-1]


def test_it_agrees_with_a_hash_of_the_column_many_codes_or_few() -> None:
    rng = np.random.default_rng(3)
    codes = _codes([f"4201{n:09d}" for n in rng.permutation(20_000)])
    index = CodeRows.of(codes)
    wanted = pd.concat([codes.sample(300, random_state=1), _codes(["42019", "x", "4201000000000"])])
    assert np.array_equal(index.find(wanted), index_in(wanted, codes))
    many = codes.sample(5000, random_state=2)  # more than MOST_SEARCHED: looked up by one hash
    assert len(many) > coderows.MOST_SEARCHED
    assert np.array_equal(index.find(many), index_in(many, codes))


def test_it_follows_the_layer_kept_grown_or_closed_up() -> None:
    codes = _codes(["C", "A", "E", "B"])
    index = CodeRows.of(codes)
    assert index.follow(codes) is index  # the very codes: nothing read
    copied = _codes(["C", "A", "E", "B"])  # the same codes in other memory: kept, not sorted again
    assert index.follow(copied).order is index.order
    grown = _codes(["C", "A", "E", "B", "D", "0", "F"])  # three registered, after the others
    more = index.follow(grown)
    assert more.find(["D", "0", "F", "B", "Q"]).tolist() == [4, 5, 6, 3, -1]
    assert grown.iloc[more.order].tolist() == sorted(grown)
    closed = _codes(["C", "E", "B"])  # "A" deleted: the rows after it move up
    fewer = index.follow(closed)
    assert fewer.find(["A", "E", "B"]).tolist() == [-1, 1, 2]


def test_a_column_of_several_chunks_is_searched_chunk_by_chunk() -> None:
    """A layer with rows appended holds several chunks: the codes are found in each."""
    pieces = [
        pa.array(["K3", "K1"], type=pa.large_string()),
        pa.array(["K0", "K2", "K9"], type=pa.large_string()),
    ]
    codes = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(pieces)))
    index = CodeRows.of(codes)
    assert index.find(["K9", "K1", "K0", "K4", "K2", "K3"]).tolist() == [4, 1, 2, -1, 3, 0]
