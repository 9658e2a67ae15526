"""Chunks of checked rows set aside on disk between the two passes of a chunked import.

The first pass checks every chunk and, while the file is still acceptable,
writes its canonical rows here (an Arrow IPC stream, geometry as WKB, or as
x and y for a point layer: a city's households encode and decode as
coordinates in a tenth of the time WKB takes); the second pass writes them to
the store from here rather than reading and checking the file again. One
chunk is in memory at a time either way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from gridmap.catalogue import Layer
from gridmap.frames import WGS84, conform

_ARROW = {"text": pa.large_string(), "integer": pa.int64(), "real": pa.float64(), "boolean": pa.bool_()}
_PANDAS = {
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}
_WKB = "wkb"
_XY = ("x", "y")


class Spool:
    """Canonical frames of one layer, written one after another and read back in the same order."""

    def __init__(self, spec: Layer) -> None:
        self._spec = spec
        self._points = spec.geometry == "Point"
        shape = [(c, pa.float64()) for c in _XY] if self._points else [(_WKB, pa.binary())]
        self._schema = pa.schema([*(pa.field(f.name, _ARROW[f.type]) for f in spec.fields), *shape])
        self._directory = tempfile.TemporaryDirectory(prefix="gridmap-import-")
        self._path = Path(self._directory.name) / "rows.arrows"
        self._writer: pa.ipc.RecordBatchStreamWriter | None = pa.ipc.new_stream(str(self._path), self._schema)

    def add(self, frame: gpd.GeoDataFrame) -> None:
        """Set one canonical frame aside."""
        assert self._writer is not None, "a spool being read takes no more frames"
        arrays = [pa.array(frame[f.name], type=_ARROW[f.type], from_pandas=True) for f in self._spec.fields]
        geoms = frame.geometry.to_numpy()
        if self._points:
            missing = pa.array(shapely.is_missing(geoms))
            arrays += [pa.array(shapely.get_x(geoms)), pa.array(shapely.get_y(geoms))]
            arrays[-2:] = [pc.if_else(missing, None, a) for a in arrays[-2:]]
        else:
            arrays.append(pa.array(shapely.to_wkb(geoms), type=pa.binary(), from_pandas=True))
        self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self._schema))

    def frames(self) -> Iterator[gpd.GeoDataFrame]:
        """The frames set aside, in order, each as it was added."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        with pa.OSFile(str(self._path)) as file, pa.ipc.open_stream(file) as reader:
            for batch in reader:
                shape = list(_XY) if self._points else [_WKB]
                values = batch.drop_columns(shape).to_pandas(types_mapper=_PANDAS.get)
                geometry = self._geometries(batch)
                yield conform(self._spec, gpd.GeoDataFrame(values, geometry=geometry, crs=WGS84))

    def _geometries(self, batch: pa.RecordBatch) -> npt.NDArray[np.object_]:
        """The batch's geometries, from WKB or (points) from x and y (None where there is none)."""
        if not self._points:
            return shapely.from_wkb(batch.column(_WKB).to_numpy(zero_copy_only=False))
        x, y = (batch.column(c) for c in _XY)
        points = shapely.points(x.to_numpy(zero_copy_only=False), y.to_numpy(zero_copy_only=False))
        points[~np.asarray(x.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = None
        return points

    def close(self) -> None:
        """Remove the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._directory.cleanup()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
