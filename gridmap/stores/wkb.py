"""Shapely geometries from WKB: an Arrow column as both stores' bulk reads hand it over, and
MultiPoints made from coordinate arrays.

A city's big layers (households, buildings' entrances, sites) are 2D points:
every row the same 21 bytes. Those are decoded by numpy straight from the
Arrow buffer, without a Python `bytes` object per row, which at 5 million
households is most of the reading time; anything else goes to
`shapely.from_wkb`. Hex-encoded WKB (what a text COPY gives) is turned into
binary by a table lookup first.

MultiPoints of millions of points (a city's gap households) are spelled out
as WKB by numpy and read by GEOS: `shapely.multipoints` would first make a
Python Point of every coordinate pair, eight times slower.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import shapely

from gridmap.arrays import BoolArray

_POINT_HEADER = np.array([1, 1, 0, 0, 0], dtype=np.uint8)  # little-endian WKB header of a 2D point
_POINT_SIZE = 21  # that header, then x and y
_POINT_RECORD = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
_MULTI_HEADER = np.dtype([("order", "u1"), ("kind", "<u4"), ("count", "<u4")])
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


def multipoints(xy: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """One MultiPoint per run of `sizes` consecutive rows of `xy` (n × 2, finite), in their order.

    Runs are spelled a batch at a time (about `_BATCH_POINTS` points), so the
    WKB in passing never holds more than a batch's worth of a city's points.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    if int(sizes.sum()) != len(xy) or (sizes < 0).any():
        raise ValueError("the runs' sizes must add up to the number of points")
    out = np.empty(len(sizes), dtype=object)
    ends = np.cumsum(sizes)
    cuts = np.searchsorted(ends, np.arange(_BATCH_POINTS, int(ends[-1]) if len(ends) else 0, _BATCH_POINTS))
    for first, last in itertools.pairwise([0, *np.unique(cuts + 1).tolist(), len(sizes)]):
        if first < last:
            start, stop = (int(ends[first - 1]) if first else 0), int(ends[last - 1])
            out[first:last] = _multipoints(xy[start:stop], sizes[first:last])
    return out


_BATCH_POINTS = 500_000


def _multipoints(xy: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """`multipoints` of one batch through a joint WKB buffer.

    Member i of the batch, in run g, starts at byte 9 (g + 1) + 21 i of the
    buffer: each of the 21 bytes of a point record is placed by one vectorised
    assignment, so no Python object is made per point.
    """
    n, groups = len(xy), len(sizes)
    points = np.empty(n, dtype=_POINT_RECORD)
    points["order"], points["kind"], points["x"], points["y"] = 1, 1, xy[:, 0], xy[:, 1]
    headers = np.empty(groups, dtype=_MULTI_HEADER)
    headers["order"], headers["kind"], headers["count"] = 1, 4, sizes
    offsets = np.zeros(groups + 1, dtype=np.int64)
    offsets[1:] = _MULTI_HEADER.itemsize * np.arange(1, groups + 1) + _POINT_RECORD.itemsize * np.cumsum(
        sizes
    )
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    _scatter(data, offsets[:-1], headers)
    group_of = np.repeat(np.arange(groups, dtype=np.int64), sizes)
    _scatter(data, _MULTI_HEADER.itemsize * (group_of + 1) + _POINT_RECORD.itemsize * np.arange(n), points)
    column = pa.Array.from_buffers(
        pa.large_binary(), groups, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return shapely.from_wkb(column.to_numpy(zero_copy_only=False))


def _scatter(data: np.ndarray, starts: np.ndarray, records: np.ndarray) -> None:
    """Copy each fixed-size record to `data` at its start, a byte column at a time."""
    raw = records.view(np.uint8).reshape(len(records), records.dtype.itemsize)
    for byte in range(records.dtype.itemsize):
        data[starts + byte] = raw[:, byte]


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


_GPKG_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
"""Bytes of a GeoPackage blob's envelope, by the envelope kind in its flags (bits 1–3)."""


def gpkg_geometries(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage blobs: the WKB after the 8-byte header and its envelope."""
    wkb = [
        None if b is None else bytes(b[8 + _GPKG_ENVELOPE_BYTES.get((b[3] >> 1) & 0b111, 0) :]) for b in blobs
    ]
    return shapely.from_wkb(np.array(wkb, dtype=object))
