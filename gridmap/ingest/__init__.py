"""Validated import of GeoJSON, GeoPackage, Shapefile, KML, CSV, XLSX and FlatGeobuf files into a store."""

from __future__ import annotations

from gridmap.ingest.features import features_source
from gridmap.ingest.importer import MODES, ImportReport, Mode, import_file, import_source

__all__ = ["MODES", "ImportReport", "Mode", "features_source", "import_file", "import_source"]
