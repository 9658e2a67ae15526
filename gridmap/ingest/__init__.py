"""Validated import of GeoJSON, GeoPackage, Shapefile, KML, CSV, XLSX and FlatGeobuf files into a store."""

from __future__ import annotations

from gridmap.ingest.importer import MODES, ImportReport, Mode, import_file

__all__ = ["MODES", "ImportReport", "Mode", "import_file"]
