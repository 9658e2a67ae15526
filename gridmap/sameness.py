"""What counts as a change: the one definition every writer, reader and cache applies.

An import's preview, the revision a store records for a write, a revert's
conflict check and the live analysis deciding what an edit reaches all ask
"is this feature as it was?"; they answer it here, so what a preview calls
unchanged is never recorded as an edit, and an edit history shows is always
one the analysis follows.

- Text and booleans: equal as values (Arrow, column by column); two nulls are
  the same, a null and a value are not.
- Numbers: equal within `NUMBER_TOLERANCE` (a float that went through a text
  file and back is the same number).
- Geometries: equal within `GEOMETRY_TOLERANCE_DEG` (about 1 cm), vertex by
  vertex, else as shapes (Hausdorff distance), so a file that went out to
  GCJ-02 and came back, or a ring that starts at another vertex, is
  unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

GEOMETRY_TOLERANCE_DEG = 1e-7
NUMBER_TOLERANCE = 1e-9

Mask = npt.NDArray[np.bool_]


def same_values(old: pd.Series, new: pd.Series) -> Mask:
    """Row by row (positions, not labels), whether two columns hold the same value."""
    a = old.reset_index(drop=True)
    b = new.reset_index(drop=True)
    a_missing, b_missing = a.isna().to_numpy(dtype=bool), b.isna().to_numpy(dtype=bool)
    if _numbers(a) and _numbers(b):
        x = a.to_numpy(dtype=np.float64, na_value=np.nan)
        y = b.to_numpy(dtype=np.float64, na_value=np.nan)
        equal = np.isclose(x, y, rtol=0.0, atol=NUMBER_TOLERANCE)
    else:
        # Arrow compares text and booleans column-wise; a missing value compares as null, i.e. not equal.
        same = pc.equal(pa.array(a.array), pa.array(b.array)).fill_null(False)
        equal = np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
    return (a_missing & b_missing) | (~(a_missing ^ b_missing) & equal)


def _numbers(series: pd.Series) -> bool:
    dtype = series.dtype
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def same_geometries(old: npt.ArrayLike, new: npt.ArrayLike) -> Mask:
    """Element-wise, whether two arrays of geometries hold the same shapes (two missing are the same)."""
    a, b = np.asarray(old, dtype=object), np.asarray(new, dtype=object)
    same = np.asarray(shapely.equals_exact(a, b, tolerance=GEOMETRY_TOLERANCE_DEG), dtype=bool)
    a_missing, b_missing = shapely.is_missing(a), shapely.is_missing(b)
    same = np.where(a_missing | b_missing, a_missing & b_missing, same)
    check = np.flatnonzero(~same & ~a_missing & ~b_missing)
    if check.size:
        near = shapely.hausdorff_distance(a[check], b[check]) <= GEOMETRY_TOLERANCE_DEG
        same[check[near]] = True
    return same


def same_rows(fields: Iterable[str], old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> Mask:
    """Row by row, whether two aligned frames hold the same `fields` and geometry."""
    equal = same_geometries(old.geometry.values, new.geometry.values)
    for name in fields:
        equal &= same_values(old[name], new[name])
    return equal
