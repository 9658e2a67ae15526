"""Repeated codes across chunks: the row each repeat names is the first in the file, whatever the hashes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from gridmap.ingest.repeats import CodesSeen
from gridmap.texts import Message


def _expected(codes: list[str | None]) -> list[tuple[int, int]]:
    """(row, first row) of every repeat, rows numbered in the file from 1, by a plain walk."""
    first: dict[str, int] = {}
    out = []
    for row, code in enumerate(codes, start=1):
        if code is None:
            continue
        if code in first:
            out.append((row, first[code]))
        else:
            first[code] = row
    return out


def _found(codes: list[str | None], size: int) -> list[tuple[int, int]]:
    seen = CodesSeen()
    out = []
    for start in range(0, len(codes), size):
        chunk = pa.array(codes[start : start + size], pa.large_string())
        for problem in seen.add(chunk, start):
            assert problem.row is not None and isinstance(problem.reason, Message)
            out.append((problem.row + start, int(problem.reason.values["first"])))
    return out


def _codes(n: int, seed: int) -> list[str | None]:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, n * 2, n)  # about a fifth repeat
    return [None if v % 97 == 0 else f"H{v:06d}" for v in values]


@pytest.mark.parametrize("size", [7, 50, 1_000])
def test_repeats_name_the_first_row_in_the_file(size: int) -> None:
    codes = _codes(1_000, seed=size)
    assert _found(codes, size) == _expected(codes)
    assert len(_expected(codes)) > 100


def test_a_shared_hash_is_not_a_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every code hashes alike: each row is a candidate, and the text alone decides.
    monkeypatch.setattr(pd.util, "hash_array", lambda values, **_: np.zeros(len(values), np.uint64))
    codes = _codes(300, seed=1)
    assert _found(codes, 40) == _expected(codes)
    assert _found(["a", "b", "c", "d"], 2) == []
