"""Canonical GeoDataFrames: one column per catalogue field, typed, in EPSG:4326.

Every frame crossing a store or an import boundary passes through `conform`,
so the rest of gridmap can rely on column names, dtypes and the CRS.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyproj
from pandas.api.types import pandas_dtype

from gridmap.catalogue import Field, Layer, get_layer
from gridmap.errors import CRSError

WGS84 = "EPSG:4326"

_DTYPES = {"text": "string", "integer": "Int64", "real": "float64", "boolean": "boolean"}


def dtype_of(f: Field) -> str:
    """The pandas dtype that holds a catalogue field."""
    return _DTYPES[f.type]


def empty_frame(layer: str | Layer) -> gpd.GeoDataFrame:
    """A frame with the layer's columns and no rows (a copy: the caller may change it)."""
    spec = get_layer(layer) if isinstance(layer, str) else layer
    return _empty(spec).copy()


@functools.lru_cache(maxsize=64)
def _empty(spec: Layer) -> gpd.GeoDataFrame:
    """Built once per layout: a few hundred pandas calls, which a loaded machine makes milliseconds each."""
    data = {f.name: pd.Series([], dtype=dtype_of(f)) for f in spec.fields}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def conform(layer: str | Layer, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return `frame` with exactly the layer's columns, dtypes and EPSG:4326.

    Missing optional columns are added with their default; extra columns are
    dropped. The frame must carry a CRS: a missing one is an error, not a guess.
    A column already of its dtype and without gaps to fill is taken as it is:
    a store's page of ten rows is conformed in a fraction of a millisecond.
    """
    spec = get_layer(layer) if isinstance(layer, str) else layer
    if frame.crs is None:
        raise CRSError(f"{spec.name}: frame has no CRS")
    if not frame.crs.equals(WGS84_CRS):
        frame = frame.to_crs(WGS84)
    out: dict[str, pd.Series] = {}
    n = len(frame)
    index = pd.RangeIndex(n)
    for f in spec.fields:
        if f.name in frame.columns:
            col = frame[f.name]
            if f.default is not None and col.isna().to_numpy().any():
                col = col.where(col.notna(), f.default)
        else:
            col = pd.Series([f.default] * n, index=frame.index)
        wanted = _PANDAS_DTYPES[f.type]
        values = col.array if col.dtype == wanted else col.astype(wanted).array
        out[f.name] = pd.Series(values, index=index, copy=False)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(frame.geometry.values, index=index), crs=WGS84_CRS)


def is_canonical(spec: Layer, frame: gpd.GeoDataFrame) -> bool:
    """Whether `conform(spec, frame)` would hold exactly `frame`'s values: the columns in order,
    typed, numbered from 0, in EPSG:4326, no default to fill in. A check, not a copy."""
    if list(frame.columns) != [*spec.field_names, "geometry"] or frame.geometry.name != "geometry":
        return False
    if not frame.index.equals(pd.RangeIndex(len(frame))) or frame.crs != WGS84_CRS:
        return False
    for f in spec.fields:
        col = frame[f.name]
        if col.dtype != _PANDAS_DTYPES[f.type] or (f.default is not None and col.isna().to_numpy().any()):
            return False
    return True


_PANDAS_DTYPES = {kind: pandas_dtype(name) for kind, name in _DTYPES.items()}
WGS84_CRS = pyproj.CRS(WGS84)
"""EPSG:4326 parsed once: a frame made with it skips pyproj's parsing of the name."""


MOST_CHUNKS = 8
"""Arrow-held columns in more pieces than this are put together again (`compacted`)."""


def compacted(frame: pd.DataFrame, most: int = MOST_CHUNKS) -> pd.DataFrame:
    """`frame` with every Arrow-held column of more than `most` chunks combined into one (else itself).

    Splicing concatenates Arrow columns chunk by chunk: a patched layer gains
    a chunk per edit, and a table filtered and concatenated again keeps every
    chunk of each part, so their number multiplies edit after edit, and with it
    the memory and time of every later step; a layer read in batches holds a
    chunk per batch (80 for a city's five million households), which makes
    every later `take` of a few rows concatenate them all. Put together, a
    column costs one copy now and then.
    """
    combined: dict[str, pd.api.extensions.ExtensionArray] = {}
    for name in frame.columns:
        values = frame[name].array
        chunked = getattr(values, "_pa_array", None)
        if isinstance(chunked, pa.ChunkedArray) and chunked.num_chunks > most:
            combined[name] = type(values)(pa.chunked_array([chunked.combine_chunks()], type=chunked.type))
    if not combined:
        return frame
    out = frame.copy(deep=False)
    for name, values in combined.items():
        out[name] = pd.Series(values, index=out.index, name=name)
    return out
