"""Interactive maps for planners: the district coverage map and the one-grid map.

Both are folium maps that open from a single HTML file with no network: the
JavaScript and CSS are inlined from installed packages (`assets`), and the
basemap is optional (`basemaps`).
"""

from __future__ import annotations

from gridmap.maps.basemaps import BASEMAP_NAMES, Basemap, resolve_basemap
from gridmap.maps.coverage import AnalysisLike, coverage_map, write_coverage_map
from gridmap.maps.grid import grid_map, write_grid_map
from gridmap.maps.output import render_html, write_html
from gridmap.maps.styles import MEASURES

__all__ = [
    "BASEMAP_NAMES",
    "MEASURES",
    "AnalysisLike",
    "Basemap",
    "coverage_map",
    "grid_map",
    "render_html",
    "resolve_basemap",
    "write_coverage_map",
    "write_grid_map",
    "write_html",
]
