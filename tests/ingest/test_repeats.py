"""Repeated codes across chunks: the row each repeat names is the first in the file, whatever the hashes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from gridmap.ingest import repeats
from gridmap.ingest.repeats import CodesSeen, text_hashes
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
    # Lengths vary (1 to 40 bytes), so chunks differ in their longest code.
    return [None if v % 97 == 0 else f"H{v}" + "-" * int(v % 37) for v in values]


@pytest.mark.parametrize("size", [7, 50, 1_000])
def test_repeats_name_the_first_row_in_the_file(size: int) -> None:
    codes = _codes(1_000, seed=size)
    assert _found(codes, size) == _expected(codes)
    assert len(_expected(codes)) > 100


def test_a_shared_hash_is_not_a_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every code hashes alike: each row is a candidate, and the text alone decides.
    monkeypatch.setattr(repeats, "text_hashes", lambda codes: np.zeros(len(codes), np.uint64))
    codes = _codes(300, seed=1)
    assert _found(codes, 40) == _expected(codes)
    assert _found(["a", "b", "c", "d"], 2) == []


def test_text_hashes_read_the_bytes_of_each_value() -> None:
    values = ["", "a", "ab", "abcdefgh", "abcdefgh\x00", "abcdefghi", None, "abcdefgh", "x" * 70, "x" * 71]
    codes = pa.array(values, pa.large_string())
    hashes = text_hashes(codes)
    assert hashes[3] == hashes[7] and hashes[6] == 0
    assert len(set(hashes[[0, 1, 2, 3, 4, 5, 8, 9]].tolist())) == 8  # lengths are hashed too
    assert (text_hashes(codes.slice(2, 5)) == hashes[2:7]).all()
