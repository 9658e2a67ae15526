"""Codes repeated across the chunks of one import, found in time that grows with the file, not its square.

Each chunk's codes are looked up among every code met so far. Comparing a
chunk with each earlier chunk in turn (a hash table per earlier chunk) costs
chunks² / 2 lookups: 16 s at 5M rows in 25 chunks, four times that at 10M.
Instead one sorted array holds a 64-bit hash of every code met (8 bytes a
row), computed from Arrow's buffers without a Python string per row; a row
whose hash is met before (earlier in the file or in its chunk) is a
candidate, and only the candidates are compared as text, which also finds
the row each code first appeared in. A hash two different codes share is
therefore never taken for a repeat.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import sliding_window_view

from gridmap.errors import Problem
from gridmap.texts import Message

_MIX = np.uint64(0x9E3779B97F4A7C15)
_WORDS = 8
"""Hashed 8-byte words of a code (its first 64 bytes, and its length): longer codes may share a hash."""


class CodesSeen:
    """Every code of the chunks read so far (Arrow text, null where a row has none), and their hashes."""

    def __init__(self) -> None:
        self.chunks: list[pa.Array] = []
        self._hashes = np.empty(0, dtype=np.uint64)

    def add(self, codes: pa.Array, offset: int) -> list[Problem]:
        """Take in the next chunk's codes; a problem for each repeat of a code met earlier in the file
        or earlier in the chunk, naming the row it first appeared in (rows numbered in the chunk; the
        first row in the file, the chunk starting at row `offset` + 1)."""
        present = np.asarray(codes.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        hashes = text_hashes(codes)
        before = present & _among(self._hashes, hashes)
        ordered = np.sort(hashes[present])
        shared = ordered[1:][ordered[1:] == ordered[:-1]]
        candidates = np.flatnonzero(before | (present & np.isin(hashes, shared)))
        problems = _problems(codes, candidates, before[candidates], self._first_rows, offset)
        new = np.unique(hashes[present & ~before])
        self._hashes = np.insert(self._hashes, np.searchsorted(self._hashes, new), new)
        self.chunks.append(codes)
        return problems

    def _first_rows(self, candidates: pa.Array) -> npt.NDArray[np.int64]:
        """The row (0-based in the file) where each candidate code first appeared in an earlier chunk;
        -1 where none holds it (its hash belongs to another code). Earlier chunks are probed against
        the few candidates."""
        wanted = pc.unique(candidates)
        first = np.full(len(wanted), -1, dtype=np.int64)
        start = 0
        for chunk in self.chunks:
            at = pc.index_in(chunk, value_set=wanted).to_numpy(zero_copy_only=False)
            rows = np.flatnonzero(pd.notna(at))
            if rows.size:
                which, first_here = np.unique(np.asarray(at[rows], dtype=np.int64), return_index=True)
                open_ = first[which] < 0
                first[which[open_]] = rows[first_here[open_]] + start
            if (first >= 0).all():
                break
            start += len(chunk)
        position = pc.index_in(candidates, value_set=wanted).to_numpy(zero_copy_only=False)
        return first[np.asarray(position, dtype=np.int64)]


def text_hashes(codes: pa.Array) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each text value (0 for null), read word by word from the Arrow buffers."""
    n = len(codes)
    binary = codes.cast(pa.large_binary())
    offsets = np.frombuffer(binary.buffers()[1], np.int64)[binary.offset : binary.offset + n + 1]
    data = binary.buffers()[2]
    raw = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
    windows = sliding_window_view(np.concatenate([raw, np.zeros(8, np.uint8)]), 8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    hashes = lengths.astype(np.uint64) * _MIX
    for k in range(min(_WORDS, -(-int(lengths.max(initial=0)) // 8))):
        word = np.ascontiguousarray(windows[np.minimum(starts + 8 * k, len(windows) - 1)]).view("<u8").ravel()
        left = np.clip(lengths - 8 * k, 0, 8).astype(np.uint64)
        mask = np.where(left >= 8, ~np.uint64(0), (np.uint64(1) << (left * np.uint64(8))) - np.uint64(1))
        mixed = (hashes ^ (word & mask)) * _MIX
        # A value's hash depends on its bytes only, not on how long the longest of its chunk is.
        hashes = np.where(left > 0, mixed ^ (mixed >> np.uint64(29)), hashes)
    return np.where(np.asarray(codes.is_valid().to_numpy(zero_copy_only=False)), hashes, np.uint64(0))


def _among(known: npt.NDArray[np.uint64], hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    """Which `hashes` the sorted array `known` holds."""
    if not len(known):
        return np.zeros(len(hashes), dtype=bool)
    at = np.minimum(np.searchsorted(known, hashes), len(known) - 1)
    return np.asarray(known[at] == hashes)


def _problems(
    codes: pa.Array,
    candidates: npt.NDArray[np.intp],
    before: npt.NDArray[np.bool_],
    first_rows: Callable[[pa.Array], npt.NDArray[np.int64]],
    offset: int,
) -> list[Problem]:
    """A problem for each candidate row repeating a code met before it: in an earlier chunk (`before`
    says whose hash was met there; `first_rows` finds where), or earlier in this one. Every row of a
    repeated code is a candidate, so the text of the candidates alone decides."""
    if not candidates.size:
        return []
    picked = codes.take(pa.array(candidates))
    first_before = np.full(len(candidates), -1, dtype=np.int64)
    if before.any():
        first_before[before] = first_rows(picked.filter(pa.array(before)))
    values = picked.to_numpy(zero_copy_only=False)
    within = pd.Series(values, dtype=object).duplicated(keep="first").to_numpy()
    repeated = (first_before >= 0) | within
    first_here: dict[object, int] = (
        pd.Series(candidates, index=values).groupby(level=0).min().to_dict() if within.any() else {}
    )
    problems = []
    for i in np.flatnonzero(repeated).tolist():
        code = values[i]
        earlier_row = int(first_before[i])
        first = earlier_row + 1 if earlier_row >= 0 else offset + first_here[code] + 1
        problems.append(
            Problem(
                int(candidates[i]) + 1,
                "code",
                Message("import.duplicate", code=repr(code), first=first),
                str(code),
            )
        )
    return problems
