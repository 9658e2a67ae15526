"""The file formats gridmap reads and writes: one registry for export, import and the API.

Each format has one key (the name on the command line and in the API), the
file names it is written as and read from, its GDAL driver and its media
type. `gridmap.export` writes every format of `FORMATS` and
`gridmap.ingest.readers` reads every one of `READ` (tests hold both to these
lists), so a format is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FormatKey = Literal["geojson", "gpkg", "shp", "kml", "csv", "xlsx", "fgb"]
ReadKey = FormatKey | Literal["osm"]


@dataclass(frozen=True)
class FileFormat:
    """One format: `suffixes` are the names written and read (the first is the default), `also_read`
    names only read (an exported .kmz would not be zipped, so gridmap never writes one)."""

    key: ReadKey
    label: str
    suffixes: tuple[str, ...]
    driver: str
    media_type: str
    also_read: tuple[str, ...] = ()

    @property
    def suffix(self) -> str:
        """The suffix of the files gridmap writes."""
        return self.suffixes[0]

    @property
    def written(self) -> bool:
        """Whether gridmap writes this format (OpenStreetMap extracts are only read)."""
        return bool(self.suffixes)


_ALL: tuple[FileFormat, ...] = (
    FileFormat("geojson", "GeoJSON (RFC 7946)", (".geojson", ".json"), "GeoJSON", "application/geo+json"),
    FileFormat("gpkg", "GeoPackage", (".gpkg",), "GPKG", "application/geopackage+sqlite3"),
    FileFormat("shp", "Shapefile (zip)", (".zip", ".shp"), "ESRI Shapefile", "application/zip"),
    FileFormat("kml", "KML", (".kml",), "KML", "application/vnd.google-earth.kml+xml", also_read=(".kmz",)),
    FileFormat(
        "csv", "CSV (WKT or lon/lat)", (".csv",), "CSV", "text/csv; charset=utf-8", also_read=(".txt",)
    ),
    FileFormat(
        "xlsx",
        "Excel workbook",
        (".xlsx",),
        "XLSX",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        also_read=(".xlsm",),
    ),
    FileFormat("fgb", "FlatGeobuf", (".fgb",), "FlatGeobuf", "application/flatgeobuf"),
    FileFormat(
        "osm",
        "OpenStreetMap extract (roads)",
        (),
        "OSM",
        "application/vnd.openstreetmap.data+xml",
        also_read=(".osm", ".pbf"),
    ),
)
FORMATS: dict[str, FileFormat] = {f.key: f for f in _ALL if f.written}
"""The formats gridmap writes (export, the API's /export)."""
READ: dict[str, FileFormat] = {f.key: f for f in _ALL}
"""Every format the importer reads: those written, and OpenStreetMap extracts."""

GPKG_CREATION = {"VERSION": "1.3"}
"""Exports are GeoPackage 1.3, not GDAL's default 1.4: GDAL 3.6 and QGIS 3.22 (Debian 12) open a 1.4
file with "may only be partially supported", and GDAL 3.6's validate_gpkg.py fails 1.4's R-tree
triggers. The store's own file is 1.3 too (`gridmap.stores.geopackage`), and one an earlier version
wrote as 1.4 is converted when opened (`gridmap.stores.gpkg_version`)."""


def written_as(path: Path) -> FileFormat | None:
    """The format gridmap writes to a file named like `path` (None: no such suffix)."""
    suffix = path.suffix.lower()
    return next((f for f in FORMATS.values() if suffix in f.suffixes), None)


def read_as(path: Path) -> FileFormat | None:
    """The format gridmap reads a file named like `path` as (None: not one it reads)."""
    suffix = path.suffix.lower()
    return next((f for f in READ.values() if suffix in f.suffixes + f.also_read), None)


def readable_suffixes() -> list[str]:
    """Every suffix the importer accepts, for its error message."""
    return sorted(s for f in READ.values() for s in f.suffixes + f.also_read)
