"""Where a few codes sit in a layer of millions, without reading every code.

An edit names a few features by code; finding their rows by hashing the
city's five million household codes costs about 70 ms per lookup, and a
refresh made several. A `CodeRows` keeps the order that sorts the column
(one int64 per row, sorted once in about a second at 5M) and binary-searches
it, one small Arrow take per halving step. It follows the layer from refresh
to refresh: the same codes keep it, rows appended (a feature registered) are
merged into it, and only a layer whose rows closed up (a feature deleted) or
were read again is sorted anew.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridmap.arrays import IntArray

MOST_SEARCHED = 4096
"""More codes than this at once are looked up by one hash of the column instead (`index_in`)."""


@dataclass(frozen=True)
class CodeRows:
    """The rows of a text column (`codes`: unique, not null) in the order that sorts it."""

    codes: pa.ChunkedArray
    order: IntArray

    @classmethod
    def of(cls, column: pd.Series) -> CodeRows:
        codes = _text(column)
        return cls(codes, np.asarray(pc.sort_indices(codes), dtype=np.int64))

    def find(self, wanted: object) -> IntArray:
        """The row of each of `wanted` (-1: not in the column, or null)."""
        needles = _text(wanted if isinstance(wanted, pd.Series) else pd.Series(wanted, dtype="string"))
        if len(needles) > MOST_SEARCHED:
            found = pc.index_in(needles, value_set=self.codes.combine_chunks())
            return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.intp)
        n = len(self.order)
        low = self._lower_bound(needles)
        rows = self.order[np.minimum(low, max(n - 1, 0))] if n else np.zeros(len(needles), dtype=np.int64)
        found = low < n
        if n and len(needles):
            found &= np.asarray(pc.equal(self._at(rows), needles).fill_null(False), dtype=bool)
        return np.where(found, rows, -1).astype(np.intp)

    def follow(self, column: pd.Series) -> CodeRows:
        """The index of `column`: this one when it holds the same codes row for row, extended when
        it holds them followed by new rows, sorted anew otherwise."""
        codes, n = _text(column), len(self.order)
        if len(codes) < n or not _same_text(codes.slice(0, n), self.codes):
            return CodeRows.of(column)
        if len(codes) == n:
            return self if _buffers(codes) == _buffers(self.codes) else CodeRows(codes, self.order)
        new = codes.slice(n)
        if len(new) > MOST_SEARCHED:
            return CodeRows.of(column)
        mine = np.asarray(pc.sort_indices(new), dtype=np.int64)
        at = self._lower_bound(new.take(mine))
        return CodeRows(codes, np.insert(self.order, at, n + mine))

    def _lower_bound(self, needles: pa.ChunkedArray) -> IntArray:
        """For each needle, how many codes sort before it (null needles: the column's length)."""
        k, n = len(needles), len(self.order)
        low, high = np.zeros(k, dtype=np.int64), np.full(k, n, dtype=np.int64)
        if k:
            low[~np.asarray(needles.is_valid(), dtype=bool)] = n
        while (searching := low < high).any():
            middle = (low + high) // 2
            probe = self._at(self.order[np.where(searching, middle, 0)])
            below = np.asarray(pc.less(probe, needles).fill_null(False), dtype=bool)
            low = np.where(searching & below, middle + 1, low)
            high = np.where(searching & ~below, middle, high)
        return low

    def _at(self, rows: IntArray) -> pa.Array:
        """The codes at `rows`, taken chunk by chunk: a take from a column of several chunks would
        first put the whole column together."""
        chunks = [c for c in self.codes.chunks if len(c)]
        if len(chunks) == 1:
            return chunks[0].take(pa.array(rows, type=pa.int64()))
        starts = np.cumsum([0, *(len(c) for c in chunks)])
        which = np.searchsorted(starts, rows, side="right") - 1
        order = np.argsort(which, kind="stable")
        pieces = [
            chunks[c].take(pa.array(rows[order][which[order] == c] - starts[c], type=pa.int64()))
            for c in np.unique(which).tolist()
        ]
        together = pa.concat_arrays(pieces) if pieces else pa.array([], type=self.codes.type)
        return together.take(pa.array(np.argsort(order, kind="stable"), type=pa.int64()))


def _text(values: pd.Series | pa.ChunkedArray) -> pa.ChunkedArray:
    """A text column as the large-string chunked array pandas holds (no copy when it is one)."""
    if isinstance(values, pa.ChunkedArray):
        held = values
    else:
        arrow = getattr(values.array, "_pa_array", None)
        held = (
            arrow
            if isinstance(arrow, pa.ChunkedArray)
            else pa.chunked_array([pa.array(values.astype(object))])
        )
    return held if held.type == pa.large_string() else held.cast(pa.large_string())


def _same_text(a: pa.ChunkedArray, b: pa.ChunkedArray) -> bool:
    """Whether two columns hold the same codes row for row: without reading them when they are views
    of the same memory (a layer patched in place keeps its codes' buffers)."""
    if len(a) != len(b):
        return False
    if _buffers(a) == _buffers(b):
        return True
    return bool(pc.all(pc.equal(a, b)).as_py())


def _buffers(array: pa.ChunkedArray) -> list[tuple[int, int, tuple[int | None, ...]]]:
    """Each non-empty chunk's offset, length and buffer addresses: equal for views of the same memory."""
    return [
        (chunk.offset, len(chunk), tuple(None if b is None else b.address for b in chunk.buffers()))
        for chunk in array.chunks
        if len(chunk)
    ]
