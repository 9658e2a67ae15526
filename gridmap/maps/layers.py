"""Folium layers shared by the district and grid maps: shapes, outlines, points with ranges, clusters.

Each function takes a frame already in display coordinates (simplified,
shifted for the basemap) and adds one named layer; popups are built lazily in
the browser from a feature's properties, so the page carries data, not HTML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.plugins import MarkerCluster
from folium.template import Template
from folium.utilities import JsCode

from gridmap.maps import styles as st
from gridmap.maps._page import popup_js
from gridmap.maps.simplify import DECIMALS, features

SPEAKER_POPUP = """return gridmap.table((p.name || "") + "（" + p.code + "）", [
  ["status", gridmap.text(gridmap.t(p.status))], ["radius_m", gridmap.num(p.radius_m)]]);"""
SERVICE_POPUP = """return gridmap.table((p.name || "") + "（" + p.code + "）", [
  ["kind", gridmap.text(p.kind)], ["radius_m", gridmap.num(p.radius_m)]]);"""


def styled_features(
    frame: gpd.GeoDataFrame, properties: dict[str, str], styles: list[dict[str, Any]] | dict[str, Any]
) -> dict[str, Any]:
    """GeoJSON of `frame` with a Leaflet `style` per feature (one dict for all, or one per row)."""
    collection = features(frame, properties)
    kept = [i for i, g in enumerate(frame.geometry.values) if g is not None and not g.is_empty]
    for feature, row in zip(collection["features"], kept, strict=True):
        feature["properties"]["style"] = styles if isinstance(styles, dict) else styles[row]
    return collection


def shapes(
    frame: gpd.GeoDataFrame,
    name: str,
    *,
    properties: dict[str, str],
    styles: list[dict[str, Any]] | dict[str, Any],
    popup: str | None = None,
    tooltip: str | None = None,
    show: bool = True,
) -> folium.GeoJson:
    """A polygon or line layer; without `popup` it is not interactive, so clicks reach the layers below."""
    handlers = []
    if popup:
        handlers.append(popup_js(popup))
    if tooltip:
        handlers.append(
            "function (feature, layer) { var p = feature.properties; "
            f"layer.bindTooltip({tooltip}, {{sticky: true}}); }}"
        )
    on_each = "function (f, l) { " + " ".join(f"({h})(f, l);" for h in handlers) + " }" if handlers else None
    return folium.GeoJson(
        styled_features(frame, properties, styles),
        name=name,
        show=show,
        on_each_feature=JsCode(on_each) if on_each else None,
        interactive=bool(popup or tooltip),
        smooth_factor=0.5,
    )


def points_with_ranges(
    frame: gpd.GeoDataFrame,
    name: str,
    *,
    properties: dict[str, str],
    color: str,
    popup: str,
    radius_px: int = 4,
    range_style: dict[str, Any] | None = None,
    show: bool = True,
) -> folium.GeoJson:
    """Point markers, each with a circle of `properties['radius_m']` metres (speakers, service points)."""
    ring = json.dumps(
        range_style or {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.05, "opacity": 0.5}
    )
    dot = json.dumps(
        {"radius": radius_px, "color": "#ffffff", "weight": 1, "fillColor": color, "fillOpacity": 1}
    )
    point_to_layer = f"""function (feature, latlng) {{
        var parts = [L.circleMarker(latlng, {dot})];
        var r = feature.properties.radius_m;
        if (r > 0) {{
            parts.unshift(L.circle(latlng, Object.assign({{radius: r, interactive: false}}, {ring})));
        }}
        return L.featureGroup(parts);
    }}"""
    return folium.GeoJson(
        features(frame, properties),
        name=name,
        show=show,
        on_each_feature=JsCode(popup_js(popup)),
        point_to_layer=JsCode(point_to_layer),
    )


def markers(
    frame: gpd.GeoDataFrame,
    name: str,
    *,
    properties: dict[str, str],
    style_js: str,
    popup: str | None,
    show: bool = True,
) -> folium.GeoJson:
    """Circle markers styled in the browser by `style_js` (an expression of `p`, the properties)."""
    point_to_layer = (
        "function (feature, latlng) { var p = feature.properties; "
        f"return L.circleMarker(latlng, {style_js}); }}"
    )
    return folium.GeoJson(
        features(frame, properties),
        name=name,
        show=show,
        on_each_feature=JsCode(popup_js(popup)) if popup else None,
        point_to_layer=JsCode(point_to_layer),
    )


_CELLS = Template(
    """
{% macro script(this, kwargs) %}
(function () {
  var cells = {{ this.cells }}, markers = new Array(cells.length);
  var tip = function (m) { return gridmap.num(m.options.count) + " " + {{ this.unit|tojson }}; };
  for (var i = 0; i < cells.length; i++) {
    var c = cells[i];
    markers[i] = L.marker([c[1], c[0]], {icon: gridmap.countIcon(c[2]), count: c[2]})
      .bindTooltip(tip);
  }
  {{ this._parent.get_name() }}.addLayers(markers);
})();
{% endmacro %}
"""
)

_SUM_ICON = """function (cluster) {
    var n = 0;
    cluster.getAllChildMarkers().forEach(function (m) { n += m.options.count; });
    return gridmap.countIcon(n);
}"""


class _Cells(MacroElement):
    """The counted cells of a cluster layer, as one compact array [[lon, lat, count], …]."""

    def __init__(self, cells: gpd.GeoDataFrame, unit: str) -> None:
        super().__init__()
        self._name = "GridmapCells"
        self._template = _CELLS
        xs = np.round(shapely.get_x(cells.geometry.values), DECIMALS)
        ys = np.round(shapely.get_y(cells.geometry.values), DECIMALS)
        counts = cells["count"].to_numpy()
        self.cells = json.dumps(
            [[float(x), float(y), int(n)] for x, y, n in zip(xs, ys, counts, strict=True)]
        )
        self.unit = unit


def counted_clusters(cells: gpd.GeoDataFrame, name: str, *, unit: str, show: bool = True) -> MarkerCluster:
    """Cells of counted points, clustered at low zoom with the cluster showing the sum of its counts."""
    cluster = MarkerCluster(
        name=name,
        show=show,
        icon_create_function=_SUM_ICON,
        options={
            "chunkedLoading": True,
            "showCoverageOnHover": False,
            "spiderfyOnMaxZoom": False,
            "disableClusteringAtZoom": 18,
            "maxClusterRadius": 70,
        },
    )
    _Cells(cells, unit).add_to(cluster)
    return cluster


def speaker_and_service_layers(
    m: folium.Map,
    speakers: gpd.GeoDataFrame | None,
    service_points: gpd.GeoDataFrame | None,
    t: Callable[[str], str],
) -> dict[str, folium.GeoJson]:
    """Working speakers, broken speakers and service points, each with its range, added to `m` by key."""
    added: dict[str, folium.GeoJson] = {}
    if speakers is not None and not speakers.empty:
        working = (speakers["status"].fillna("working") == "working").to_numpy()
        props = {"code": "code", "name": "name", "radius_m": "radius_m", "status": "status"}
        if working.any():
            added["speakers_working"] = points_with_ranges(
                speakers[working],
                t("layer_speakers_working"),
                properties=props,
                color=st.SPEAKER,
                popup=SPEAKER_POPUP,
            )
        if (~working).any():
            added["speakers_broken"] = points_with_ranges(
                speakers[~working],
                t("layer_speakers_broken"),
                properties=props,
                color=st.SPEAKER_BROKEN,
                popup=SPEAKER_POPUP,
                radius_px=5,
                range_style={"color": st.SPEAKER_BROKEN, "weight": 1, "dashArray": "4 4", "fill": False},
            )
    if service_points is not None and not service_points.empty:
        added["service_points"] = points_with_ranges(
            service_points,
            t("layer_service_points"),
            properties={"code": "code", "name": "name", "radius_m": "radius_m", "kind": "kind"},
            color=st.SERVICE,
            popup=SERVICE_POPUP,
            range_style={"color": st.SERVICE, "weight": 1, "dashArray": "2 4", "fill": False, "opacity": 0.7},
        )
    for layer in added.values():
        layer.add_to(m)
    return added
