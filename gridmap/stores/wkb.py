"""Shapely geometries from an Arrow column of WKB, as both stores' bulk reads hand it over.

A city's big layers (households, buildings' entrances, sites) are 2D points:
every row the same 21 bytes. Those are decoded by numpy straight from the
Arrow buffer, without a Python `bytes` object per row, which at 5 million
households is most of the reading time; anything else goes to
`shapely.from_wkb`. Hex-encoded WKB (what a text COPY gives) is turned into
binary by a table lookup first.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely

from gridmap.arrays import BoolArray

_POINT_HEADER = np.array([1, 1, 0, 0, 0], dtype=np.uint8)  # little-endian WKB header of a 2D point
_POINT_SIZE = 21  # that header, then x and y
_NIBBLE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLE[_c] = _NIBBLE[ord(chr(_c).upper())] = _i


def geometries(wkb: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """One shapely geometry (or None for a null) per row of `wkb` (binary, or hex text)."""
    column = _binary(wkb)
    n = len(column)
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int64)[column.offset : column.offset + n + 1]
    nulls: BoolArray = column.is_null().to_numpy(zero_copy_only=False)
    out = np.full(n, None, dtype=object)
    if n == 0 or nulls.all():
        return out
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    valid = ~nulls
    lengths = np.diff(offsets)
    if (lengths[valid] == _POINT_SIZE).all() and not lengths[nulls].any():
        rows = data.reshape(-1, _POINT_SIZE)  # nulls take no bytes: the valid rows lie back to back
        if (rows[:, :5] == _POINT_HEADER).all():
            xy = rows[:, 5:].copy().view("<f8")
            points = shapely.points(xy)
            empty = np.isnan(xy).all(axis=1)
            points[empty] = shapely.Point()  # WKB writes POINT EMPTY as NaN, NaN
            out[valid] = points
            return out
    out[valid] = shapely.from_wkb(column.filter(pa.array(valid)).to_numpy(zero_copy_only=False))
    return out


def _binary(wkb: pa.Array | pa.ChunkedArray) -> pa.LargeBinaryArray:
    column = wkb.combine_chunks() if isinstance(wkb, pa.ChunkedArray) else wkb
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return _from_hex(column.cast(pa.large_binary()))
    return column.cast(pa.large_binary())


def _from_hex(text: pa.LargeBinaryArray) -> pa.LargeBinaryArray:
    """Hex digits to the bytes they spell: each row's two digits a byte, so each offset halves."""
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset : text.offset + len(text) + 1]
    digits = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    nibbles = _NIBBLE[digits]
    if (nibbles == 255).any() or (np.diff(offsets) % 2).any():
        raise ValueError("not hex-encoded WKB")
    data = (nibbles[0::2] << 4) | nibbles[1::2]
    halved = (offsets - offsets[0]) // 2
    validity = None if not text.null_count else pa.array(text.is_valid()).buffers()[1]
    return pa.Array.from_buffers(
        pa.large_binary(), len(text), [validity, pa.py_buffer(halved), pa.py_buffer(data)]
    )
