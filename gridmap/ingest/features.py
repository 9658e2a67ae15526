"""Features handed over in memory (a GeoJSON FeatureCollection's features) as an import source.

An edit sent to the API goes through the same validation and the same write as
a file import, without a trip through a temporary file and GDAL: the
properties become the source table with the values as sent (JSON types kept,
so text stays text and a NUL or a list is caught by validation, not lost on
the way), and GEOS parses the geometries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridmap.errors import Problem, ValidationError
from gridmap.frames import WGS84
from gridmap.ingest.geometry import GEOMETRY
from gridmap.ingest.readers import Source

_BAD_GEOJSON = (shapely.errors.GEOSException, ValueError, TypeError)


def features_source(features: Sequence[Mapping[str, Any]], label: str = "request body") -> Source:
    """The features as a source in WGS84 (GeoJSON's coordinates); an unparseable geometry is a
    ValidationError naming the feature."""
    table = pd.DataFrame.from_records([dict(f.get("properties") or {}) for f in features])
    table.index = pd.RangeIndex(len(features))
    geoms = np.full(len(features), None, dtype=object)
    present = [i for i, f in enumerate(features) if f.get("geometry") is not None]
    if present:
        texts = [json.dumps(features[i]["geometry"]) for i in present]
        try:
            geoms[present] = shapely.from_geojson(texts)
        except _BAD_GEOJSON:
            raise ValidationError(label, _geometry_problems(present, texts)) from None
    return Source(
        Path(label),
        "geojson",
        table,
        gpd.GeoSeries(geoms, crs=WGS84),
        pyproj.CRS.from_user_input(WGS84),
    )


def _geometry_problems(rows: list[int], texts: list[str]) -> list[Problem]:
    """One problem per geometry GEOS cannot read (parsed one by one only once the batch failed)."""
    problems = []
    for row, text in zip(rows, texts, strict=True):
        try:
            shapely.from_geojson(text)
        except _BAD_GEOJSON as exc:
            problems.append(Problem(row + 1, GEOMETRY, f"invalid GeoJSON geometry ({exc})"))
    return problems
