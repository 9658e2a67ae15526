"""The ST_ functions a GeoPackage's R-tree triggers call, served by gridmap: known envelopes."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gridmap.stores.geopackage import _envelope_part, _gpkg_blobs

PARTS = {"ST_MinX": 0, "ST_MaxX": 1, "ST_MinY": 2, "ST_MaxY": 3}


def _no_envelope(geom: shapely.Geometry, byte_order: int) -> bytes:
    """A GeoPackage blob without an envelope (as GDAL writes points), in either byte order."""
    return b"GP\x00\x01" + (4490).to_bytes(4, "little") + shapely.to_wkb(geom, byte_order=byte_order)


@pytest.mark.parametrize("byte_order", [0, 1], ids=["big-endian", "little-endian"])
@pytest.mark.parametrize(
    "geom",
    [shapely.Point(114.3, 30.5), shapely.LineString([(114.3, 30.5), (114.4, 30.45)]), shapely.Point(1, 2, 3)],
    ids=["point", "line", "point with z"],
)
def test_each_part_of_a_blob_without_envelope(geom: shapely.Geometry, byte_order: int) -> None:
    blob = _no_envelope(geom, byte_order)
    minx, miny, maxx, maxy = geom.bounds
    got = {name: _envelope_part(position)(blob) for name, position in PARTS.items()}
    assert got == {"ST_MinX": minx, "ST_MaxX": maxx, "ST_MinY": miny, "ST_MaxY": maxy}


def test_each_part_of_the_blobs_gridmap_writes() -> None:
    geoms = np.array([shapely.Point(114.3, 30.5), shapely.box(114.0, 30.0, 114.2, 30.3)], dtype=object)
    for geom, blob in zip(geoms, _gpkg_blobs(geoms), strict=True):
        minx, miny, maxx, maxy = geom.bounds
        assert [_envelope_part(p)(blob) for p in PARTS.values()] == [minx, maxx, miny, maxy]
    assert _envelope_part(0)(None) is None
