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
from folium.template import Template
from folium.utilities import JsCode

from gridmap.crs import metric_crs
from gridmap.maps import styles as st
from gridmap.maps._page import popup_js
from gridmap.maps.simplify import DECIMALS, features

SPEAKER_POPUP = """var rows = [["status", gridmap.text(gridmap.t(p.status))],
            ["radius_m", gridmap.num(p.radius_m)]];
if (p.status === "broken" && p.would_cover !== undefined) {
  rows.push(["would_cover", gridmap.num(p.would_cover)]);
}
return gridmap.table((p.name || "") + "（" + p.code + "）", rows);"""
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


def points(
    frame: gpd.GeoDataFrame,
    name: str,
    *,
    properties: dict[str, str],
    color: str,
    popup: str,
    radius_px: int = 4,
    show: bool = True,
) -> folium.GeoJson:
    """Point markers (speakers, service points) with a lazily built popup."""
    dot = json.dumps(
        {"radius": radius_px, "color": "#ffffff", "weight": 1, "fillColor": color, "fillOpacity": 1}
    )
    return folium.GeoJson(
        features(frame, properties),
        name=name,
        show=show,
        on_each_feature=JsCode(popup_js(popup)),
        point_to_layer=JsCode(f"function (feature, latlng) {{ return L.circleMarker(latlng, {dot}); }}"),
    )


def ranges(
    frame: gpd.GeoDataFrame, name: str, *, style: dict[str, Any], show: bool = False
) -> folium.GeoJson:
    """A circle of `radius_m` metres around each point; off by default so grade colours stay readable."""
    ring = json.dumps({**style, "interactive": False})
    point_to_layer = f"""function (feature, latlng) {{
        return L.circle(latlng, Object.assign({{radius: feature.properties.radius_m || 0}}, {ring}));
    }}"""
    return folium.GeoJson(
        features(frame[frame["radius_m"].fillna(0) > 0], {"radius_m": "radius_m"}),
        name=name,
        show=show,
        interactive=False,
        point_to_layer=JsCode(point_to_layer),
    )


def numbered_sites(frame: gpd.GeoDataFrame, name: str, *, popup: str, show: bool = True) -> folium.GeoJson:
    """Proposed sites as numbered badges drawn above every other marker, with their dashed range."""
    point_to_layer = """function (feature, latlng) {
        var p = feature.properties;
        var badge = L.marker(latlng, {zIndexOffset: 10000, icon: L.divIcon({
            className: "gm-site", html: "<b>" + gridmap.esc(p.rank) + "</b>", iconSize: [24, 24]})});
        var ring = L.circle(latlng, {radius: p.radius_m || 0, color: SITE_COLOR, weight: 2, dashArray: "6 4",
                                     fill: false, interactive: false});
        return L.featureGroup([ring, badge]);
    }""".replace("SITE_COLOR", json.dumps(st.SITE))
    return folium.GeoJson(
        features(frame, {k: k for k in ("rank", "kind", "radius_m", "newly_covered", "label")}),
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


_COUNTS = Template(
    """
{% macro script(this, kwargs) %}
(function () {
  var group = {{ this._parent.get_name() }}, map = {{ this._parent._parent.get_name() }};
  var levels = [{{ this.grids }}, {{ this.cells }}], built = [null, null];
  var tip = function (m) { return gridmap.num(m.options.count) + " " + {{ this.unit|tojson }}; };
  function build(i) {
    if (!built[i]) {
      built[i] = levels[i].map(function (c) {
        return L.marker([c[1], c[0]], {icon: gridmap.countIcon(c[2], {{ this.color|tojson }}), count: c[2]})
          .bindTooltip(tip);
      });
    }
    return built[i];
  }
  var shown = -1;
  function update() {
    var level = map.getZoom() >= {{ this.switch_zoom }} ? 1 : 0;
    if (level === shown) { return; }
    shown = level;
    group.clearLayers();
    build(level).forEach(function (m) { group.addLayer(m); });
  }
  map.on("zoomend", update);
  map.whenReady(update);
})();
{% endmacro %}
"""
)


def _cell_array(cells: gpd.GeoDataFrame) -> str:
    xs = np.round(shapely.get_x(cells.geometry.values), DECIMALS)
    ys = np.round(shapely.get_y(cells.geometry.values), DECIMALS)
    counts = cells["count"].to_numpy()
    return json.dumps([[float(x), float(y), int(n)] for x, y, n in zip(xs, ys, counts, strict=True)])


class _Counts(MacroElement):
    """Counted markers: one per grid below `switch_zoom`, one per cell (never across grids) above."""

    def __init__(
        self, per_grid: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, unit: str, color: str, switch_zoom: int
    ) -> None:
        super().__init__()
        self._name = "GridmapCounts"
        self._template = _COUNTS
        self.grids = _cell_array(per_grid)
        self.cells = _cell_array(cells)
        self.unit = unit
        self.color = color
        self.switch_zoom = switch_zoom


def grid_counts(
    per_grid: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    name: str,
    *,
    unit: str,
    color: str,
    switch_zoom: int,
    show: bool = True,
) -> folium.FeatureGroup:
    """Counted households: each grid's count at its inside point when zoomed out, cells when zoomed in.

    A count never mixes grids, so the number on the map is the grid's own figure.
    """
    group = folium.FeatureGroup(name=name, show=show)
    _Counts(per_grid, cells, unit, color, switch_zoom).add_to(group)
    return group


_NAMES = Template(
    """
{% macro script(this, kwargs) %}
(function () {
  var group = {{ this._parent.get_name() }}, map = {{ this._parent._parent.get_name() }};
  var names = {{ this.names }}, zooms = {{ this.zooms }};
  function update() {
    var z = map.getZoom(), view = map.getBounds().pad(0.2), shown = 0;
    group.clearLayers();
    names.forEach(function (n) {
      var range = zooms[n[3]];
      if (z < range[0] || z >= range[1] || shown > 600 || !view.contains([n[1], n[0]])) { return; }
      shown += 1;
      var icon = L.divIcon({className: "gm-name gm-name-" + n[3], html: gridmap.esc(n[2]), iconSize: null});
      group.addLayer(L.marker([n[1], n[0]], {interactive: false, keyboard: false, zIndexOffset: 5000,
                                             icon: icon}));
    });
  }
  map.on("zoomend moveend", update);
  map.whenReady(update);
})();
{% endmacro %}
"""
)


class _Names(MacroElement):
    def __init__(self, names: list[list[Any]], zooms: dict[str, tuple[int, int]]) -> None:
        super().__init__()
        self._name = "GridmapNames"
        self._template = _NAMES
        self.names = json.dumps(names, ensure_ascii=False)
        self.zooms = json.dumps(zooms)


def name_labels(
    levels: list[tuple[str, gpd.GeoDataFrame]], name: str, *, lat: float, show: bool = True
) -> folium.FeatureGroup | None:
    """Street, community and grid names at their inside points, each level from the zoom where it fits.

    A level's names appear once its median unit is about 160 px wide and give
    way to the next level's names two zooms later; only names in view are drawn.
    """
    names: list[list[Any]] = []
    starts: list[tuple[str, int]] = []
    for level, frame in levels:
        if frame is None or frame.empty or "name" not in frame:
            continue
        metric = frame.to_crs(metric_crs(frame))
        width = float(np.median(np.sqrt(np.maximum(metric.geometry.area.to_numpy(), 1.0))))
        metres_per_px_z0 = 156_543.03 * np.cos(np.radians(lat))
        start = int(np.clip(np.ceil(np.log2(metres_per_px_z0 * 160 / width)), 0, 20))
        # A finer level always starts later than the coarser one before it.
        starts.append((level, max(start, starts[-1][1] + 1) if starts else start))
        inside = frame.geometry.representative_point()
        labels = frame["name"].fillna(frame["code"]).astype(str).to_numpy()
        names.extend(
            [round(float(x), DECIMALS), round(float(y), DECIMALS), text, level]
            for x, y, text in zip(
                shapely.get_x(inside.values), shapely.get_y(inside.values), labels, strict=True
            )
        )
    if not names:
        return None
    zooms: dict[str, tuple[int, int]] = {}
    for i, (level, start) in enumerate(starts):
        first = 0 if i == 0 else start
        end = starts[i + 1][1] if i + 1 < len(starts) else 99
        zooms[level] = (first, max(end, first + 1))
    group = folium.FeatureGroup(name=name, show=show)
    _Names(names, zooms).add_to(group)
    return group


def speaker_and_service_layers(
    m: folium.Map,
    speakers: gpd.GeoDataFrame | None,
    service_points: gpd.GeoDataFrame | None,
    t: Callable[[str], str],
    *,
    show_ranges: bool = False,
) -> dict[str, folium.GeoJson]:
    """Working and broken speakers, service points, and their ranges (off unless `show_ranges`), by key.

    A broken speaker's popup says how many uncovered households its repair
    would reach when the frame carries `would_cover`.
    """
    added: dict[str, folium.GeoJson] = {}
    if speakers is not None and not speakers.empty:
        working = (speakers["status"].fillna("working") == "working").to_numpy()
        props = {k: k for k in ("code", "name", "radius_m", "status", "would_cover") if k in speakers}
        if working.any():
            added["speakers_working"] = points(
                speakers[working],
                t("layer_speakers_working"),
                properties=props,
                color=st.SPEAKER,
                popup=SPEAKER_POPUP,
            )
            added["speaker_ranges"] = ranges(
                speakers[working],
                t("layer_speaker_ranges"),
                style={"color": st.SPEAKER, "weight": 1, "fillColor": st.SPEAKER, "fillOpacity": 0.05},
                show=show_ranges,
            )
        if (~working).any():
            added["speakers_broken"] = points(
                speakers[~working],
                t("layer_speakers_broken"),
                properties=props,
                color=st.SPEAKER_BROKEN,
                popup=SPEAKER_POPUP,
                radius_px=5,
            )
    if service_points is not None and not service_points.empty:
        added["service_points"] = points(
            service_points,
            t("layer_service_points"),
            properties={"code": "code", "name": "name", "radius_m": "radius_m", "kind": "kind"},
            color=st.SERVICE,
            popup=SERVICE_POPUP,
        )
        added["service_ranges"] = ranges(
            service_points,
            t("layer_service_ranges"),
            style={"color": st.SERVICE, "weight": 1, "dashArray": "2 4", "fill": False, "opacity": 0.7},
            show=show_ranges,
        )
    for layer in added.values():
        layer.add_to(m)
    return added
