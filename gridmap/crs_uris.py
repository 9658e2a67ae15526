"""Coordinate systems named by URI (OGC API – Features Part 2), with their axis order.

Geometries are stored in WGS84 longitude/latitude (CRS84). A client names the
system it wants by URI; EPSG:4326 and EPSG:4490 (CGCS2000) are defined with
latitude first, so their coordinates are written and read lat/lon, while CRS84
and Web Mercator are x/y. GCJ-02 and BD-09 have no EPSG code: gridmap offers
them under URIs of its own, marked as extensions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gridmap.crs import CRSSpec, geoms_from_wgs84, geoms_to_wgs84, parse_crs
from gridmap.stores.base import BBox

OGC = "http://www.opengis.net/def/crs"


@dataclass(frozen=True)
class CrsUri:
    """One coordinate system a client may ask for by URI."""

    uri: str
    crs: str  # as `gridmap.crs.parse_crs` reads it
    lat_first: bool
    extension: bool = False  # gridmap's own, not an OGC or EPSG definition

    @property
    def spec(self) -> CRSSpec:
        return parse_crs(self.crs)


CRS84 = CrsUri(f"{OGC}/OGC/1.3/CRS84", "wgs84", lat_first=False)
SUPPORTED: tuple[CrsUri, ...] = (
    CRS84,
    CrsUri(f"{OGC}/EPSG/0/4326", "EPSG:4326", lat_first=True),
    CrsUri(f"{OGC}/EPSG/0/4490", "EPSG:4490", lat_first=True),
    CrsUri(f"{OGC}/EPSG/0/3857", "EPSG:3857", lat_first=False),
    CrsUri("urn:gridmap:def:crs:GCJ-02", "gcj02", lat_first=False, extension=True),
    CrsUri("urn:gridmap:def:crs:BD-09", "bd09", lat_first=False, extension=True),
)
BY_URI = {c.uri: c for c in SUPPORTED}
STANDARD_URIS = [c.uri for c in SUPPORTED if not c.extension]
EXTENSION_URIS = [c.uri for c in SUPPORTED if c.extension]


def lookup(uri: str) -> CrsUri | None:
    """The supported system named `uri` (also `[EPSG:4326]`-style safe CURIEs), or None."""
    text = uri.strip()
    if text.startswith("[") and text.endswith("]") and ":" in text:
        authority, _, code = text[1:-1].partition(":")
        text = f"{OGC}/{authority.upper()}/{'1.3' if authority.upper() == 'OGC' else '0'}/{code}"
    return BY_URI.get(text)


def _swap(geoms: np.ndarray) -> np.ndarray:
    return np.asarray(shapely.transform(geoms, lambda xy: xy[:, ::-1]), dtype=object)


def from_crs84(geoms: np.ndarray, target: CrsUri) -> np.ndarray:
    """Geometries stored in CRS84, written in `target` in its axis order."""
    moved = np.asarray(geoms, dtype=object) if target == CRS84 else geoms_from_wgs84(geoms, target.spec)
    return _swap(moved) if target.lat_first else moved


def bbox_to_crs84(bbox: BBox, source: CrsUri) -> BBox:
    """A box given in `source` (in its axis order) as the CRS84 box that covers it.

    Edges are densified before transforming, so a projected box's curved sides
    are covered; a geographic box keeps its corners (an antimeridian box stays one).
    """
    a, b, c, d = bbox
    if source.lat_first:
        a, b, c, d = b, a, d, c
    if source.spec.is_wgs84:  # CGCS2000 is WGS84 to well within a metre
        return (a, b, c, d)
    outline = shapely.segmentize(shapely.box(a, b, c, d), max((c - a), (d - b)) / 64 or 1.0)
    moved = geoms_to_wgs84(np.array([outline], dtype=object), source.spec)[0]
    minx, miny, maxx, maxy = shapely.bounds(moved)
    return (float(minx), float(miny), float(maxx), float(maxy))
