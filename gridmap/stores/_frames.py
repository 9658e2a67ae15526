"""What both stores do to a frame before writing it and after reading it.

Checks that the database would otherwise enforce (or, in a GeoPackage, not
enforce at all) run here first, so both stores accept and refuse the same
frames with the same messages.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.catalogue import Layer, get_layer
from gridmap.errors import StoreError
from gridmap.frames import conform, empty_frame
from gridmap.stores.base import Store

_POLYGON = shapely.GeometryType.POLYGON
_TYPE_NAMES = {t.value: t.name for t in shapely.GeometryType}


def accepted_geometries(spec: Layer) -> tuple[str, ...]:
    """Geometry types a layer stores (buildings keep Polygon and MultiPolygon as given)."""
    return spec.accepted_geometries or (spec.geometry,)


def prepare(layer: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Canonical, checked, ordered by code: the frame exactly as a store will hold it.

    Polygons of a MultiPolygon layer are promoted (a file of simple polygons is
    the common case); empty geometries become null.
    """
    spec = get_layer(layer)
    out = conform(spec, frame)
    geoms = geoms_of(out).copy()
    geoms[shapely.is_empty(geoms)] = None
    if spec.geometry == "MultiPolygon":
        single = shapely.get_type_id(geoms) == _POLYGON
        if single.any():
            geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(int(single.sum())))
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    out = _by_code(out)
    _check(spec, out)
    return out


def _check(spec: Layer, frame: gpd.GeoDataFrame) -> None:
    """Raise a StoreError naming the first offending codes of each kind of problem (frame sorted by code)."""
    problems: list[str] = []
    codes = frame["code"]
    for f in spec.fields:
        col = frame[f.name]
        if f.required and col.isna().any():
            problems.append(f"{f.name} is required but empty in {_sample(codes[col.isna()])}")
        if f.choices:
            bad = col.notna() & ~col.isin(f.choices)
            if bad.any():
                problems.append(f"{f.name} must be one of {', '.join(f.choices)} (see {_sample(codes[bad])})")
    ordered = codes.to_numpy(dtype=object, na_value=None)  # sorted by code: duplicates are neighbours
    repeated = np.flatnonzero((ordered[1:] == ordered[:-1]) & (ordered[1:] != None))  # noqa: E711
    if len(repeated):
        problems.append(f"duplicate codes {_sample(codes.iloc[repeated].drop_duplicates())}")
    present = {_TYPE_NAMES[int(t)] for t in np.unique(shapely.get_type_id(geoms_of(frame))) if t >= 0}
    wrong = present - {name.upper() for name in accepted_geometries(spec)}
    if wrong:
        allowed = " or ".join(accepted_geometries(spec))
        problems.append(f"geometry must be {allowed}, not {', '.join(sorted(wrong))}")
    if problems:
        raise StoreError(f"{spec.name}: " + "; ".join(problems))


def _sample(values: pd.Series, limit: int = 5) -> str:
    return ", ".join(str(v) for v in values.iloc[:limit]) or "(none)"


def geoms_of(frame: gpd.GeoDataFrame) -> np.ndarray:
    """The geometry column as a plain numpy object array (what shapely's functions take)."""
    return np.asarray(frame.geometry.values, dtype=object)


def finish(layer: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A frame read back from a store: canonical, ordered by code."""
    return _by_code(conformed(layer, frame))


def conformed(layer: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A frame read back from a store, canonical, in the order the store returned it."""
    if frame.empty:
        return empty_frame(layer)
    return conform(layer, frame)


def _by_code(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame["code"].is_monotonic_increasing:
        return frame
    return frame.sort_values("code", kind="stable", ignore_index=True)


class PreparingStore(Store):
    """A store whose whole-layer writes all go through one `_replace_prepared(frames)` step."""

    def replace(self, layer: str, frame: gpd.GeoDataFrame) -> int:
        data = prepare(layer, frame)
        self._replace_prepared({layer: data})
        return len(data)

    def replace_many(self, frames: Mapping[str, gpd.GeoDataFrame]) -> None:
        self._replace_prepared({layer: prepare(layer, frame) for layer, frame in frames.items()})

    @abstractmethod
    def _replace_prepared(self, frames: Mapping[str, gpd.GeoDataFrame]) -> None:
        """Make each layer exactly its prepared frame, all in one atomic step."""
