"""A MapLibre GL style document for gridmap's vector tiles: a web map of the public layers in one URL.

The style names gridmap's tile URLs (`/tiles/{layer}/{z}/{x}/{y}.mvt`), draws
areas, boundaries and points in the colours of gridmap's own maps, and labels
streets, communities and grids from their label layers (one point each, see
`gridmap.tiles`), each from the zoom where its median unit is wide enough on
screen for its name (computed from the data, as every gridmap map does). It
names no glyph server: MapLibre draws the text with the browser's own fonts,
so the map needs nothing but gridmap.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np

from gridmap.maps import styles
from gridmap.maps.zooms import unit_sizes, zoom_where
from gridmap.tiles import LABELLED, label_layer

NAME_PX = 90
"""A median unit this wide on screen has room for its name."""
FONT = ["sans-serif"]
SOURCE_MAX_ZOOM = 18
"""Tiles are asked up to here; MapLibre draws deeper zooms from them (overzoom)."""
_AREA_STYLE = {
    "streets": {"line-color": styles.STREET, "line-width": 2.5},
    "communities": {"line-color": styles.COMMUNITY, "line-width": 1.5, "line-dasharray": [3, 2]},
    "grids": {"line-color": styles.GOVERNANCE, "line-width": 1.0},
}
_LABEL_SIZE = {"streets": 16, "communities": 14, "grids": 12}


def label_zooms(areas: dict[str, gpd.GeoDataFrame]) -> dict[str, int]:
    """Per labelled layer, the first zoom at which its median unit is NAME_PX wide on screen."""
    zooms: dict[str, int] = {}
    for layer, frame in areas.items():
        frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
        if frame.empty:
            continue
        side, _, _ = unit_sizes(frame)
        lat = float(np.mean(frame.total_bounds[[1, 3]]))
        zooms[layer] = zoom_where(float(np.median(side)), NAME_PX, lat)
    return zooms


def style(base: str, zooms: dict[str, int], *, layers: tuple[str, ...]) -> dict[str, Any]:
    """The style document (MapLibre style spec v8) for the tiles served at `base`."""
    sources = {
        layer: {
            "type": "vector",
            "tiles": [f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"],
            "minzoom": 0,
            "maxzoom": SOURCE_MAX_ZOOM,
            "attribution": "gridmap",
        }
        for layer in layers
    }
    drawn: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#f7f7f7"}}
    ]
    if "grids" in layers:
        drawn.append(
            {
                "id": "grids-fill",
                "type": "fill",
                "source": "grids",
                "source-layer": "grids",
                "paint": {"fill-color": styles.GOVERNANCE, "fill-opacity": 0.08},
            }
        )
    if "buildings" in layers:
        drawn.append(
            {
                "id": "buildings",
                "type": "fill",
                "source": "buildings",
                "source-layer": "buildings",
                "minzoom": 15,
                "paint": {"fill-color": "#bdbdbd", "fill-outline-color": "#737373"},
            }
        )
    for layer in ("grids", "communities", "streets"):
        if layer in layers:
            drawn.append(
                {
                    "id": f"{layer}-line",
                    "type": "line",
                    "source": layer,
                    "source-layer": layer,
                    "paint": _AREA_STYLE[layer],
                }
            )
    for layer, color in (("speakers", styles.SPEAKER), ("service_points", styles.SERVICE)):
        if layer in layers:
            drawn.append(
                {
                    "id": layer,
                    "type": "circle",
                    "source": layer,
                    "source-layer": layer,
                    "minzoom": 13,
                    "paint": {
                        "circle-color": color,
                        "circle-radius": 5,
                        "circle-stroke-color": "#ffffff",
                        "circle-stroke-width": 1,
                    },
                }
            )
    for layer in LABELLED:
        if layer in layers:
            drawn.append(
                {
                    "id": f"{layer}-labels",
                    "type": "symbol",
                    "source": layer,
                    "source-layer": label_layer(layer),
                    "minzoom": zooms.get(layer, 0),
                    "layout": {
                        "text-field": ["get", "name"],
                        "text-font": FONT,
                        "text-size": _LABEL_SIZE[layer],
                        "text-allow-overlap": False,
                    },
                    "paint": {"text-color": "#252525", "text-halo-color": "#ffffff", "text-halo-width": 1.5},
                }
            )
    return {"version": 8, "name": "gridmap", "sources": sources, "layers": drawn}
