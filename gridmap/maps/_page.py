"""What every gridmap page adds around folium's layers: styles, JS helpers, title, legend, search.

The page also publishes `window.gridmap` (the map, its layers by key, a
`ready` flag and the time of first render) so browser tests and the benchmark
can ask the page itself what it drew.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Figure, MacroElement
from folium.template import Template

from gridmap.maps.labels import Lang, label

CSS = """
.leaflet-container{font:13px/1.45 "WenQuanYi Micro Hei","Noto Sans CJK SC","Microsoft YaHei",
  "PingFang SC",sans-serif}
.gm-title{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:1000;
  background:rgba(255,255,255,.93);padding:6px 16px;border-radius:4px;
  box-shadow:0 1px 5px rgba(0,0,0,.3);text-align:center;pointer-events:none;
  font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","Microsoft YaHei",sans-serif}
.gm-title h1{font-size:17px;margin:0;font-weight:600}
.gm-title div{font-size:12px;color:#555}
.gm-box{background:rgba(255,255,255,.93);padding:8px 10px;border-radius:4px;
  box-shadow:0 1px 5px rgba(0,0,0,.3);line-height:19px}
.gm-box b{display:block;margin-bottom:3px}
.gm-box i{display:inline-block;width:16px;height:12px;margin-right:6px;vertical-align:-1px;
  border:1px solid #666}
.gm-box i.gm-dot{width:10px;height:10px;border-radius:50%;margin:0 9px 0 3px}
.gm-box i.gm-line{height:0;border-width:2px 0 0 0;margin-bottom:3px}
.gm-box i.gm-dash{height:0;border-width:2px 0 0 0;border-style:dashed;margin-bottom:3px}
.gm-area-label{background:rgba(255,255,255,.85);border:1px dashed #d95f02;color:#a63603;font-weight:600;
box-shadow:none;padding:1px 5px}
.gm-search input{width:210px;padding:5px 8px;font-size:13px;border:1px solid #999;border-radius:4px}
.gm-search .gm-miss{color:#c00;font-size:12px;padding:2px 4px}
.gm-popup h3{margin:0 0 4px;font-size:14px}
.gm-popup table{border-collapse:collapse}
.gm-popup th{text-align:left;padding:1px 10px 1px 0;color:#555;font-weight:normal;white-space:nowrap}
.gm-popup td{text-align:right;padding:1px 0;font-weight:600;white-space:nowrap}
.gm-popup ul{margin:4px 0 0;padding-left:18px;max-width:340px;color:#7f0000}
.gm-count{box-sizing:border-box;display:flex;align-items:center;justify-content:center;border-radius:50%;
  background:rgba(230,85,13,.85);border:2px solid #fff;color:#fff;font-weight:700;font-size:11px;
  box-shadow:0 0 3px rgba(0,0,0,.4)}
.gm-site{display:flex;align-items:center;justify-content:center;border-radius:50%;
  background:#006d2c;border:2px solid #fff;color:#fff;font-size:13px;box-shadow:0 0 4px rgba(0,0,0,.6)}
.gm-box i.gm-ring{width:10px;height:10px;border-radius:50%;margin:0 9px 0 3px;background:none!important;
  border-width:2px}
.gm-box i.gm-pill{width:18px;height:12px;border-radius:7px;margin:0 5px 0 1px}
.gm-box i.gm-badge{width:14px;height:14px;border-radius:50%;margin:0 7px 0 1px}
.gm-agg{box-sizing:border-box;height:100%;border-radius:10px;border:2px solid #fff;color:#fff;
  font-weight:700;font-size:11px;line-height:16px;text-align:center;box-shadow:0 0 3px rgba(0,0,0,.5)}
.gm-hint{color:#777;font-size:11px}
.gm-name{white-space:nowrap;text-align:center;pointer-events:none;
  font-weight:600;color:#222;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}
.gm-name-street{font-size:18px;letter-spacing:2px}
.gm-name-community{font-size:15px}
.gm-name-grid{font-size:12px;font-weight:500}
@media print{
  @page{size:A4 landscape;margin:8mm}
  /* A fixed page-sized map: the refit on entering print (gridmap.fit) then knows the size the
     paper will have, and keeps the data clear of the title and the legend. */
  .folium-map{position:absolute!important;left:0!important;top:0!important;width:1060px!important;
    height:730px!important}
  .leaflet-control-zoom,.leaflet-control-layers,.gm-search,.leaflet-control-attribution{display:none!important}
  .gm-title{box-shadow:none;border:1px solid #999}
  .gm-legend{box-shadow:none;border:1px solid #999;font-size:10px;line-height:14px;padding:4px 6px}
  .leaflet-bottom.leaflet-right{right:0;bottom:0}
  .leaflet-popup-pane{display:none}
}
"""

HELPERS = """
window.gridmap = (function () {
  var L10N = %(labels)s;
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function text(v) { return v === null || v === undefined || v === "" ? "—" : esc(v); }
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%%"; }
  // One formatter for the page: toLocaleString builds a new one per call, too slow for 15,000 cells.
  var NUMBER = new Intl.NumberFormat("en-US");
  function num(v) { return v === null || v === undefined ? "—" : NUMBER.format(v); }
  function t(key) { return L10N[key] === undefined ? key : L10N[key]; }
  // rows: [label key, formatted value]; the title is escaped here.
  function table(title, rows) {
    var html = '<div class="gm-popup"><h3>' + esc(title) + "</h3><table>";
    rows.forEach(function (r) { html += "<tr><th>" + t(r[0]) + "</th><td>" + r[1] + "</td></tr>"; });
    return html + "</table></div>";
  }
  function countIcon(n, color) {
    var size = Math.round(22 + 7 * Math.log10(Math.max(n, 1)));
    var style = "width:100%%;height:100%%" + (color ? ";background:" + color : "");
    return L.divIcon({html: '<div class="gm-count" style="' + style + '">' + num(n) + "</div>",
                      className: "", iconSize: [size, size]});
  }
  return {t: t, esc: esc, text: text, pct: pct, num: num, table: table, countIcon: countIcon,
          layers: {}, map: null, ready: false, renderedAt: null};
})();
"""

_CHROME = Template(
    """
{% macro header(this, kwargs) %}
<style>{{ this.css }}</style>
<script>{{ this.helpers }}</script>
{% endmacro %}

{% macro html(this, kwargs) %}
<div class="gm-title"><h1>{{ this.title }}</h1><div>{{ this.subtitle }}</div></div>
{% endmacro %}

{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  gridmap.map = map;
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "gm-box gm-legend");
    div.innerHTML = {{ this.legend_html|tojson }};
    return div;
  };
  legend.addTo(map);
  {%- if this.search %}
  var search = L.control({position: "topleft"});
  search.onAdd = function () {
    var div = L.DomUtil.create("div", "gm-box gm-search");
    div.innerHTML = '<input type="search" list="gm-grid-list" placeholder="'
      + gridmap.esc(gridmap.t("search")) + '"><datalist id="gm-grid-list"></datalist>'
      + '<div class="gm-miss" hidden>' + gridmap.esc(gridmap.t("not_found")) + "</div>";
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    var input = div.querySelector("input");
    var run = function () {
      div.querySelector(".gm-miss").hidden = !input.value || !!gridmap.findGrid(input.value);
    };
    input.addEventListener("change", run);
    input.addEventListener("keydown", function (e) { if (e.key === "Enter") { run(); } });
    return div;
  };
  search.addTo(map);
  {%- endif %}
})();
{% endmacro %}
"""
)


@dataclass(frozen=True)
class LegendEntry:
    """One row of the legend: a swatch (`fill`, or `dot`/`line` style) and its text."""

    text: str
    color: str
    shape: str = "box"
    border: str = "#666"


def legend_html(title: str, sections: list[tuple[str, list[LegendEntry]]]) -> str:
    """The legend's HTML: the measure's classes first, then the symbols."""
    out = [f"<b>{_esc(title)}</b>"] if title else []
    for heading, entries in sections:
        if heading:
            out.append(f"<b style='margin-top:6px'>{_esc(heading)}</b>")
        for e in entries:
            if e.shape in ("line", "dash", "ring"):
                style = f"border-color:{e.color}"
                cls = f" class='gm-{e.shape}'"
            else:
                style = f"background:{e.color};border-color:{e.border}"
                cls = f" class='gm-{e.shape}'" if e.shape in ("dot", "badge", "pill") else ""
            out.append(f"<div><i{cls} style='{style}'></i>{_esc(e.text)}</div>")
    return "".join(out)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Chrome(MacroElement):
    """Styles, JS helpers, title, legend and (on the district map) the grid search box."""

    def __init__(
        self, *, title: str, subtitle: str, legend: str, lang: Lang, keys: list[str], search: bool
    ) -> None:
        super().__init__()
        self._name = "GridmapChrome"
        self._template = _CHROME
        self.title = title
        self.subtitle = subtitle
        self.legend_html = legend
        self.search = search
        self.css = CSS
        words = {key: label(key, lang) for key in keys}
        self.helpers = HELPERS % {"labels": json.dumps(words, ensure_ascii=False)}


_FINISH = Template(
    """
{% macro script(this, kwargs) %}
(function () {
  {%- for key, element in this.layers.items() %}
  gridmap.layers[{{ key|tojson }}] = {{ element.get_name() }};
  {%- endfor %}
  {%- if this.search %}
  gridmap.findGrid = function (query) {
    var q = String(query || "").trim(), grids = gridmap.layers.grids, hit = null;
    if (!q) { return null; }
    grids.eachLayer(function (l) {
      var p = l.feature.properties;
      if (!hit && (p.code === q || p.name === q)) { hit = l; }
    });
    grids.eachLayer(function (l) {
      var p = l.feature.properties;
      if (!hit && ((p.code || "").indexOf(q) >= 0 || (p.name || "").indexOf(q) >= 0)) { hit = l; }
    });
    if (hit) {
      gridmap.map.fitBounds(hit.getBounds(), {maxZoom: 17, animate: false});
      hit.openPopup(hit.getCenter());
    }
    return hit;
  };
  var list = document.getElementById("gm-grid-list");
  var options = [];
  gridmap.layers.grids.eachLayer(function (l) {
    var p = l.feature.properties;
    options.push('<option value="' + gridmap.esc(p.code) + '">' + gridmap.esc(p.name || "") + "</option>");
  });
  list.innerHTML = options.join("");
  {%- endif %}
  // Fit the data between the title and the legend, so neither covers a grid; again when printing.
  gridmap.fit = function () {
    var legend = document.querySelector(".gm-legend"), title = document.querySelector(".gm-title");
    gridmap.map.invalidateSize({animate: false});
    gridmap.map.fitBounds({{ this.bounds|tojson }}, {animate: false,
      paddingTopLeft: [10, title ? title.offsetHeight + 20 : 10],
      paddingBottomRight: [legend ? legend.offsetWidth + 20 : 10, 10]});
    gridmap.fits = (gridmap.fits || 0) + 1;  // the media change arrives later: a reader can wait on it
  };
  gridmap.fit();
  window.addEventListener("beforeprint", gridmap.fit);
  window.addEventListener("afterprint", gridmap.fit);
  if (window.matchMedia) { window.matchMedia("print").addEventListener("change", gridmap.fit); }
  gridmap.ready = true;
  requestAnimationFrame(function () {
    requestAnimationFrame(function () { gridmap.renderedAt = performance.now(); });
  });
})();
{% endmacro %}
"""
)


class Finish(MacroElement):
    """Added last: publishes the layers by key, fills the search list, fits the view, marks the page ready."""

    def __init__(
        self, layers: dict[str, Any], *, bounds: tuple[float, float, float, float], search: bool
    ) -> None:
        super().__init__()
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        self.bounds = [[miny, minx], [maxy, maxx]]
        self._name = "GridmapFinish"
        self._template = _FINISH
        self.layers = layers
        self.search = search


def popup_js(body: str) -> str:
    """An onEachFeature function binding a lazily built popup; `body` returns HTML from `p`."""
    return (
        "function (feature, layer) {\n"
        "  layer.bindPopup(function () { var p = feature.properties; " + body + " }, {maxWidth: 360});\n"
        "}"
    )


def map_frame(bounds: tuple[float, float, float, float], *, background: str | None) -> folium.Map:
    """An empty canvas-rendered map around lon/lat `bounds`, with a scale bar and no tiles.

    The map starts with no view: Leaflet holds every layer back until `Finish` fits the view to
    the bounds (without animation), so each layer is projected and drawn once, at the zoom the
    first frame shows, not once at a placeholder zoom and again after the fit. The +/- buttons
    step whole zooms; the fit and the wheel stop at quarters.
    """
    minx, miny, maxx, maxy = bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        zoom_start=13,
        maxZoom=20,  # on the map itself: with no tile layer, nothing else sets it
        # Quarter zooms let the opening fit fill the window: whole zooms can leave half of it empty.
        zoom_snap=0.25,
    )
    m.options.pop("zoom")  # no zoom, no view: see above
    if background:
        figure = m.get_root()
        assert isinstance(figure, Figure)
        figure.header.add_child(
            folium.Element(f"<style>.leaflet-container{{background:{background}}}</style>"),
            name="gridmap_background",
        )
    return m
