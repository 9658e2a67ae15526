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

from gridmap.maps import styles as st
from gridmap.maps._page import popup_js
from gridmap.maps.simplify import DECIMALS, features
from gridmap.maps.zooms import COUNT_PX, metres_per_px_z0, unit_sizes, zoom_where

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
    label: str | None = None,
    show: bool = True,
) -> folium.GeoJson:
    """A polygon or line layer; without `popup` it is not interactive, so clicks reach the layers below.

    `tooltip` is shown on hover, `label` always, at the shape's centre (both JavaScript of `p`, the
    feature's properties)."""
    handlers = []
    if popup:
        handlers.append(popup_js(popup))
    if tooltip:
        handlers.append(
            "function (feature, layer) { var p = feature.properties; "
            f"layer.bindTooltip({tooltip}, {{sticky: true}}); }}"
        )
    if label:
        handlers.append(
            "function (feature, layer) { var p = feature.properties; "
            f"layer.bindTooltip({label}, "
            '{permanent: true, direction: "center", className: "gm-area-label"}); }'
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


_SHRINK = Template(
    """
{% macro script(this, kwargs) %}
(function () {
  var layer = {{ this._parent.get_name() }}, map = {{ this._parent._parent.get_name() }};
  var shown = null;
  function update() {
    var full = map.getZoom() >= {{ this.zoom }};
    if (full === shown) { return; }
    shown = full;
    layer.eachLayer(function (m) {
      m.setRadius(full ? {{ this.radius }} : {{ this.small }});
      m.setStyle({weight: full ? 1 : 0});
    });
  }
  map.on("zoomend", update);
  map.whenReady(update);
})();
{% endmacro %}
"""
)


class _Shrink(MacroElement):
    """Shrinks its parent's circle markers below `zoom`, so thousands of them leave the fills visible."""

    def __init__(self, zoom: int, radius: int) -> None:
        super().__init__()
        self._name = "GridmapShrink"
        self._template = _SHRINK
        self.zoom = zoom
        self.radius = radius
        self.small = max(1.5, round(radius * 0.4, 1))


def points(
    frame: gpd.GeoDataFrame,
    name: str,
    *,
    properties: dict[str, str],
    color: str,
    popup: str,
    radius_px: int = 4,
    show: bool = True,
    detail_zoom: int | None = None,
) -> folium.GeoJson:
    """Point markers (speakers, service points) with a lazily built popup; small dots below `detail_zoom`."""
    dot = json.dumps(
        {"radius": radius_px, "color": "#ffffff", "weight": 1, "fillColor": color, "fillOpacity": 1}
    )
    layer = folium.GeoJson(
        features(frame, properties),
        name=name,
        show=show,
        on_each_feature=JsCode(popup_js(popup)),
        point_to_layer=JsCode(f"function (feature, latlng) {{ return L.circleMarker(latlng, {dot}); }}"),
    )
    if detail_zoom is not None:
        _Shrink(detail_zoom, radius_px).add_to(layer)
    return layer


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
  // The finer levels travel as JSON text, parsed when first shown: a string costs the page's
  // script compiler nothing, an array literal of 15,000 cells a good part of the first render.
  var color = {{ this.color|tojson }};
  var levels = [{{ this.overview }}, {{ this.grids|tojson }}, {{ this.cells|tojson }}];
  var built = [null, null, null];
  // One tooltip for the group, filled from the marker under the pointer: none bound per marker.
  group.bindTooltip(function (m) { return gridmap.num(m.options.count) + " " + {{ this.unit|tojson }}; });
  // Zoomed out, a grid's count is a see-through dot, its radius at most 15% of a median grid's
  // width on screen (COUNT_PX at the count zoom, halving per zoom out): the grid's colour stays readable.
  function radius(n) {
    var room = {{ this.count_px }} * 0.15 * Math.pow(2, map.getZoom() - {{ this.count_zoom }});
    return Math.max(1, Math.min(room, 2 + 1.3 * Math.log10(Math.max(n, 1))));
  }
  function dot(c) {
    return L.circleMarker([c[1], c[0]], {radius: radius(c[2]), count: c[2], color: "#fff", weight: 0.5,
      opacity: 0.8, fillColor: color, fillOpacity: 0.6});
  }
  function bubble(c) {
    return L.marker([c[1], c[0]], {icon: gridmap.countIcon(c[2], color), count: c[2]});
  }
  function build(i) {
    if (!built[i]) {
      if (typeof levels[i] === "string") { levels[i] = JSON.parse(levels[i]); }
      built[i] = levels[i].map(function (c) { return i === 0 ? dot(c) : bubble(c); });
    }
    return built[i];
  }
  var shown = -1;
  function update() {
    var z = map.getZoom(), level = z >= {{ this.cell_zoom }} ? 2 : z >= {{ this.count_zoom }} ? 1 : 0;
    if (level === 0 && built[0]) { built[0].forEach(function (m) { m.setRadius(radius(m.options.count)); }); }
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
    """Overview dots below `count_zoom`, a numbered bubble per grid from it, per cell from `cell_zoom`."""

    def __init__(
        self,
        per_grid: gpd.GeoDataFrame,
        cells: gpd.GeoDataFrame,
        unit: str,
        color: str,
        zooms: tuple[int, int],
        overview: gpd.GeoDataFrame | None,
    ) -> None:
        super().__init__()
        self._name = "GridmapCounts"
        self._template = _COUNTS
        self.grids = _cell_array(per_grid)
        self.overview = self.grids if overview is None else _cell_array(overview)
        self.cells = _cell_array(cells)
        self.unit = unit
        self.color = color
        self.count_zoom, self.cell_zoom = zooms
        self.count_px = COUNT_PX


def grid_counts(
    per_grid: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    name: str,
    *,
    unit: str,
    color: str,
    zooms: tuple[int, int],
    overview: gpd.GeoDataFrame | None = None,
    show: bool = True,
) -> folium.FeatureGroup:
    """Counted households: each grid's count at its inside point when zoomed out, cells when zoomed in.

    `zooms` are where the numbers appear (before, a dot sized by the count
    marks the grid without hiding its colour) and where cells take over. A
    count never mixes grids, so the number on the map is the grid's own figure.
    `overview` replaces the grids' dots below the first zoom (a city's: one per community).
    """
    count_zoom, cell_zoom = zooms
    group = folium.FeatureGroup(name=name, show=show)
    _Counts(per_grid, cells, unit, color, (count_zoom, max(cell_zoom, count_zoom)), overview).add_to(group)
    return group


_NAMES = Template(
    """
{% macro script(this, kwargs) %}
(function () {
  var group = {{ this._parent.get_name() }}, map = {{ this._parent._parent.get_name() }};
  // names: [lon, lat, text, level, unit width m, unit height m], coarse levels first, big units first.
  var names = {{ this.names }}, zooms = {{ this.zooms }}, top = {{ this.top|tojson }};
  var metresPerPx0 = {{ this.metres_per_px }}, most = {{ this.most }};
  var ruler = document.createElement("canvas").getContext("2d"), fonts = {};
  // A level's font and line height as its CSS draws them, read once from a hidden probe.
  function font(level) {
    if (!fonts[level]) {
      var probe = L.DomUtil.create("div", "gm-name gm-name-" + level, map.getContainer());
      probe.style.visibility = "hidden";
      probe.textContent = "网";
      var css = getComputedStyle(probe);
      fonts[level] = {css: css.fontWeight + " " + css.fontSize + " " + css.fontFamily,
                      spacing: parseFloat(css.letterSpacing) || 0, height: probe.offsetHeight};
      L.DomUtil.remove(probe);
    }
    return fonts[level];
  }
  function overlaps(a, b) { return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]; }
  function update() {
    var z = map.getZoom(), view = map.getBounds().pad(0.2), mpp = metresPerPx0 / Math.pow(2, z);
    var placed = [];
    group.clearLayers();
    names.forEach(function (n) {
      var range = zooms[n[3]];
      if (z < range[0] || z >= range[1] || placed.length >= most || !view.contains([n[1], n[0]])) { return; }
      var f = font(n[3]);
      ruler.font = f.css;
      var w = ruler.measureText(n[2]).width + f.spacing * n[2].length, h = f.height;
      // Below the top level a name waits until its unit is wider and taller on screen than the name.
      if (n[3] !== top && (n[4] / mpp < w || n[5] / mpp < h)) { return; }
      // A margin of half a line keeps neighbouring names apart; a name that would touch one is left out.
      var p = map.latLngToContainerPoint([n[1], n[0]]), pad = h / 2;
      var box = [p.x - w / 2 - pad, p.y - h / 2 - pad, p.x + w / 2 + pad, p.y + h / 2 + pad];
      if (placed.some(function (b) { return overlaps(b, box); })) { return; }
      placed.push(box);
      // Centred on its point by the icon's anchor (Leaflet's own transform positions the element).
      var icon = L.divIcon({className: "gm-name gm-name-" + n[3], html: gridmap.esc(n[2]),
                            iconSize: [Math.ceil(w), h], iconAnchor: [w / 2, h / 2]});
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

MOST_NAMES = 600
"""The most names drawn at once: beyond it a page is text, not a map (and slow to pan)."""
NAME_PX = 160
"""A level's names take over once its median unit is this many pixels across."""


class _Names(MacroElement):
    def __init__(
        self, names: list[list[Any]], zooms: dict[str, tuple[int, int]], top: str, metres_per_px: float
    ) -> None:
        super().__init__()
        self._name = "GridmapNames"
        self._template = _NAMES
        self.names = json.dumps(names, ensure_ascii=False)
        self.zooms = json.dumps(zooms)
        self.top = top
        self.metres_per_px = round(metres_per_px, 2)
        self.most = MOST_NAMES


def name_labels(
    levels: list[tuple[str, gpd.GeoDataFrame]], name: str, *, lat: float, show: bool = True
) -> folium.FeatureGroup | None:
    """Street, community and grid names at their inside points, each level from the zoom where it fits.

    A level's names appear once its median unit is about `NAME_PX` wide and
    give way to the next level's names from that level's start. Within a
    level the browser draws only names in view whose unit is larger on screen
    than the name (the top level is exempt, so the opening view is never
    blank), biggest units first, and leaves out any name that would touch one
    already drawn: the set stays legible at any size of area.
    """
    names: list[list[Any]] = []
    starts: list[tuple[str, int]] = []
    for level, frame in levels:
        if frame is None or frame.empty or "name" not in frame:
            continue
        side, width, height = unit_sizes(frame)
        start = zoom_where(float(np.median(side)), NAME_PX, lat)
        # A finer level always starts later than the coarser one before it.
        starts.append((level, max(start, starts[-1][1] + 1) if starts else start))
        # Biggest units first: where two names collide, the bigger unit keeps its name.
        order = np.argsort(-side, kind="stable")
        inside = frame.geometry.representative_point().to_numpy()[order]
        xs = np.round(shapely.get_x(inside), DECIMALS).tolist()
        ys = np.round(shapely.get_y(inside), DECIMALS).tolist()
        labels = frame["name"].fillna(frame["code"]).astype(str).to_numpy()[order].tolist()
        sizes = zip(
            np.round(width[order]).astype(int).tolist(),
            np.round(height[order]).astype(int).tolist(),
            strict=True,
        )
        names.extend(
            [x, y, text, level, w, h] for x, y, text, (w, h) in zip(xs, ys, labels, sizes, strict=True)
        )
    if not names:
        return None
    zooms: dict[str, tuple[int, int]] = {}
    for i, (level, start) in enumerate(starts):
        first = 0 if i == 0 else start
        end = starts[i + 1][1] if i + 1 < len(starts) else 99
        zooms[level] = (first, max(end, first + 1))
    group = folium.FeatureGroup(name=name, show=show)
    _Names(names, zooms, starts[0][0], metres_per_px_z0(lat)).add_to(group)
    return group


def speaker_and_service_layers(
    m: folium.Map,
    speakers: gpd.GeoDataFrame | None,
    service_points: gpd.GeoDataFrame | None,
    t: Callable[[str], str],
    *,
    show_ranges: bool = False,
    detail_zoom: int | None = None,
) -> dict[str, folium.GeoJson]:
    """Working and broken speakers, service points, and their ranges (off unless `show_ranges`), by key.

    A broken speaker's popup says how many uncovered households its repair
    would reach when the frame carries `would_cover`. Below `detail_zoom` the
    points are small dots (see `points`).
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
                detail_zoom=detail_zoom,
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
                detail_zoom=detail_zoom,
            )
    if service_points is not None and not service_points.empty:
        added["service_points"] = points(
            service_points,
            t("layer_service_points"),
            properties={"code": "code", "name": "name", "radius_m": "radius_m", "kind": "kind"},
            color=st.SERVICE,
            popup=SERVICE_POPUP,
            detail_zoom=detail_zoom,
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
