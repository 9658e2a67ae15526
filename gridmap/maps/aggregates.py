"""Speakers and service points on a city's map: counted per street, then per community, then each point.

A city of 8,000 speakers drawn as 8,000 dots at its opening zoom is speckle, and
the browser spends seconds building markers nobody can tell apart. Zoomed out,
each layer (working speakers, broken speakers, service points) shows one
numbered bubble per street, then per community from the zoom where community
names take over; from the zoom where grids are (the household counts' zoom) each point
is drawn, only those in view. A bubble names its unit and, for broken speakers,
their codes; a click zooms to the unit. Points in no grid (or in a grid whose
street or community is not on the map) are drawn one by one at every zoom. The
counts come from the same frame as the points, so a layer's bubbles and loose
points add up to its points at every level.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from gridmap.coverage import working
from gridmap.errors import CRSError
from gridmap.maps import styles as st
from gridmap.maps.layers import NAME_PX, SERVICE_POPUP, SPEAKER_POPUP
from gridmap.maps.simplify import DECIMALS, _plain, rounded
from gridmap.maps.zooms import unit_sizes, zoom_where

LEVELS = ("street", "community")
"""Coarse to fine; each point belongs to one unit of each level through its grid."""


@dataclass(frozen=True)
class UnitCounts:
    """One level's bubbles: per unit holding points, its inside point, name, count, extent and codes."""

    level: str
    frame: gpd.GeoDataFrame
    """Columns code, name, count, codes (its points' codes), bounds (minx, miny, maxx, maxy); a point each."""


def units_of_points(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per point, in the frame's order: the grid it lies in and that grid's community and street.

    A point on an edge shared by two grids belongs to the first in `grids`' order; a point in no
    grid (or without a position) gets missing codes.
    """
    if points.crs is None or grids.crs is None:
        raise CRSError("points and grids to count need a CRS")
    geoms = points.to_crs(grids.crs).geometry.values
    hit, grid = grids.sindex.query(geoms, predicate="intersects")
    order = np.lexsort((grid, hit))
    hit, grid = hit[order], grid[order]
    first = np.unique(hit, return_index=True)[1]
    index = np.full(len(points), -1, dtype=np.int64)
    index[hit[first]] = grid[first]
    inside = index >= 0
    out = pd.DataFrame(
        index=points.index, columns=["grid_code", "community_code", "street_code"], dtype=object
    )
    for column, source in (
        ("grid_code", "code"),
        ("community_code", "community_code"),
        ("street_code", "street_code"),
    ):
        if source in grids:
            values = grids[source].astype(object).to_numpy()[index[inside]]
            out.loc[inside, column] = values
    return out


def unit_counts(
    points: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    units: dict[str, gpd.GeoDataFrame],
) -> tuple[list[UnitCounts], np.ndarray]:
    """Each level's counts of `points` (the levels of `units`, coarse first), and which points are loose.

    `units` maps a level to its polygons (code, name); a unit holding no point has no row. A point
    is loose when it lies in no grid, or its grid names a street or community that is not among
    `units` (data a planner must fix): it is counted at no level and drawn on its own at every
    zoom, so every level's counts plus the loose points make the whole layer. A bubble sits at
    its unit's inside point, in the units' CRS.
    """
    owners = units_of_points(points, grids)
    levels = [(level, units[level]) for level in LEVELS if level in units and not units[level].empty]
    tables = {
        level: frame.assign(code=frame["code"].astype(str)).drop_duplicates("code").set_index("code")
        for level, frame in levels
    }
    loose = owners["grid_code"].isna().to_numpy().copy()
    for level, table in tables.items():
        loose |= ~owners[f"{level}_code"].astype("string").isin(table.index).to_numpy(dtype=bool)
    codes = points["code"].astype(str).to_numpy()[~loose]
    out: list[UnitCounts] = []
    for level, frame in levels:
        key = owners[f"{level}_code"].to_numpy()[~loose].astype(str)
        members = pd.Series(codes).groupby(key, sort=True).agg(list)
        unit = tables[level].loc[members.index]
        names = (
            unit["name"].astype(object) if "name" in unit else pd.Series(None, index=unit.index, dtype=object)
        )
        counted = gpd.GeoDataFrame(
            {
                "code": members.index.to_numpy(),
                "name": names.where(names.notna(), unit.index.to_series()).astype(str).to_numpy(),
                "count": members.map(len).to_numpy(dtype=np.int64),
                "codes": [sorted(c) for c in members.to_numpy()],
                "bounds": [list(b) for b in shapely.bounds(unit.geometry.values)],
            },
            geometry=unit.geometry.representative_point().to_numpy(),
            crs=frame.crs,
        )
        out.append(UnitCounts(level, counted))
    return out, loose


def level_zooms(
    units: dict[str, gpd.GeoDataFrame], detail_zoom: int, lat: float
) -> dict[str, tuple[int, int]]:
    """The zooms [from, to) at which each level's bubbles are drawn; from `detail_zoom` every point is.

    A level takes over where its names do (`layers.name_labels`: once its median unit is NAME_PX
    wide), so a bubble counts the unit whose name it sits under. A level whose turn would come
    only at `detail_zoom` is left out.
    """
    starts: list[tuple[str, int]] = []
    for level in LEVELS:
        frame = units.get(level)
        if frame is None or frame.empty:
            continue
        side, _, _ = unit_sizes(frame)
        start = zoom_where(float(np.median(side)), NAME_PX, lat)
        start = max(start, starts[-1][1] + 1) if starts else 0
        if start < detail_zoom:
            starts.append((level, start))
    return {
        level: (start, starts[i + 1][1] if i + 1 < len(starts) else detail_zoom)
        for i, (level, start) in enumerate(starts)
    }


_AGGREGATED = Template(
    """
{% macro script(this, kwargs) %}
(function () {
  var group = {{ this._parent.get_name() }}, map = {{ this._parent._parent.get_name() }};
  // levels: [from zoom, to zoom, [[lon, lat, count, name, [minx, miny, maxx, maxy], codes], ...]]
  // The points travel as JSON text, parsed when first drawn (a string costs the script compiler nothing).
  var levels = {{ this.levels }}, raw = {{ this.points|tojson }}, always = {{ this.always }};
  var detail = {{ this.detail }}, data = null;
  var style = {{ this.style }}, ring = {{ this.ring|tojson }}, color = {{ this.color|tojson }};
  var title = {{ this.title|tojson }}, slot = {{ this.slot }}, slots = {{ this.slots }};
  var popup = {{ this.popup }};
  var bubbles = [], markers = {}, drawn = {}, level = -1;
  function rows() {
    data = data || JSON.parse(raw);
    return data.rows;
  }
  function properties(r) {
    var p = {};
    data.keys.forEach(function (k, j) { p[k] = r[j + 2]; });
    return p;
  }
  function point(i) {
    if (!markers[i]) {
      var r = rows()[i], p = properties(r);
      var m = ring ? L.circle([r[1], r[0]], Object.assign({radius: p.radius_m || 0}, style))
                   : L.circleMarker([r[1], r[0]], style);
      m.feature = {properties: p};
      if (popup) { m.bindPopup(function () { return popup(p); }, {maxWidth: 360}); }
      markers[i] = m;
    }
    return markers[i];
  }
  // A unit's bubbles sit in a row under its name, one slot per layer, so layers never cover each other.
  function bubble(u) {
    var text = gridmap.num(u[2]), w = Math.max(22, 10 + 7 * text.length), h = 20;
    var dx = (slot - (slots - 1) / 2) * 34, dy = 22;
    var icon = L.divIcon({className: "", iconSize: [w, h], iconAnchor: [w / 2 - dx, h / 2 - dy],
      html: '<div class="gm-agg" style="background:' + color + '">' + text + "</div>"});
    var b = L.marker([u[1], u[0]], {icon: icon, count: u[2], unit: u[3], keyboard: false});
    b.bindTooltip(function () {
      var codes = !u[5] ? "" : "<br>" + u[5].slice(0, 12).map(gridmap.esc).join("、")
        + (u[5].length > 12 ? "…" : "");
      return "<b>" + gridmap.esc(u[3]) + "</b><br>" + gridmap.esc(title) + "：" + gridmap.num(u[2]) + codes
        + '<br><span class="gm-hint">' + gridmap.esc(gridmap.t("zoom_in_hint")) + "</span>";
    });
    b.on("click", function () {
      map.fitBounds([[u[4][1], u[4][0]], [u[4][3], u[4][2]]], {animate: false, maxZoom: detail});
    });
    return b;
  }
  function update() {
    if (!map.hasLayer(group)) { return; }
    var z = map.getZoom(), now = -1, want = {}, i;
    for (i = 0; i < levels.length; i++) { if (z >= levels[i][0] && z < levels[i][1]) { now = i; } }
    if (now !== level) {
      if (level >= 0) { bubbles[level].forEach(function (b) { group.removeLayer(b); }); }
      if (now >= 0) {
        bubbles[now] = bubbles[now] || levels[now][2].map(bubble);
        bubbles[now].forEach(function (b) { group.addLayer(b); });
      }
      level = now;
    }
    if (z >= detail) {
      var view = map.getBounds().pad(0.5);
      rows().forEach(function (r, j) { if (view.contains([r[1], r[0]])) { want[j] = true; } });
    } else {
      always.forEach(function (j) { want[j] = true; });
    }
    Object.keys(drawn).forEach(function (j) {
      if (!want[j]) { group.removeLayer(markers[j]); delete drawn[j]; }
    });
    Object.keys(want).forEach(function (j) {
      if (!drawn[j]) { group.addLayer(point(j)); drawn[j] = true; }
    });
  }
  map.on("zoomend moveend", update);
  group.on("add", update);
  map.whenReady(update);
})();
{% endmacro %}
"""
)


class _Aggregated(MacroElement):
    """The browser half of `aggregated_points`: bubbles per level, points in view from `detail`."""

    def __init__(self, **fields: Any) -> None:
        super().__init__()
        self._name = "GridmapAggregated"
        self._template = _AGGREGATED
        for key, value in fields.items():
            setattr(self, key, value)


def _point_rows(frame: gpd.GeoDataFrame, properties: dict[str, str]) -> dict[str, Any]:
    """Points as [lon, lat, *values] rows (one JSON array, not a FeatureCollection: a city has thousands)."""
    geoms = rounded(frame.geometry.values, DECIMALS)
    xs, ys = shapely.get_x(geoms), shapely.get_y(geoms)
    columns = [_plain(frame[c]) for c in properties.values()]
    rows = [[float(xs[i]), float(ys[i]), *(c[i] for c in columns)] for i in range(len(frame))]
    return {"keys": list(properties), "rows": rows}


def _level_rows(counts: UnitCounts, codes: bool) -> list[list[Any]]:
    f = counts.frame
    xs = np.round(shapely.get_x(f.geometry.values), DECIMALS).tolist()
    ys = np.round(shapely.get_y(f.geometry.values), DECIMALS).tolist()
    bounds = [[round(float(v), DECIMALS) for v in b] for b in f["bounds"]]
    return [
        [x, y, int(n), name, b, list(c) if codes else None]
        for x, y, n, name, b, c in zip(xs, ys, f["count"], f["name"], bounds, f["codes"], strict=True)
    ]


def aggregated_points(
    points: gpd.GeoDataFrame,
    name: str,
    *,
    grids: gpd.GeoDataFrame,
    units: dict[str, gpd.GeoDataFrame],
    zooms: dict[str, tuple[int, int]],
    detail_zoom: int,
    properties: dict[str, str],
    color: str,
    popup: str | None,
    radius_px: int = 4,
    slot: int = 0,
    slots: int = 1,
    list_codes: bool = False,
    show: bool = True,
) -> folium.FeatureGroup:
    """A point layer counted per street and community below `detail_zoom`, each point in view from it.

    `points`, `grids` and `units` are in display coordinates; `zooms` is `level_zooms`' answer.
    `slot` of `slots` places this layer's bubble beside the other layers' in a unit's row;
    `list_codes` puts the points' codes in a bubble's tooltip (for the few broken speakers).
    """
    counted, loose = unit_counts(points, grids, {lv: units[lv] for lv in zooms})
    levels = [[*zooms[c.level], _level_rows(c, list_codes)] for c in counted]
    dot = {"radius": radius_px, "color": "#ffffff", "weight": 1, "fillColor": color, "fillOpacity": 1}
    group = folium.FeatureGroup(name=name, show=show)
    _Aggregated(
        levels=json.dumps(levels, ensure_ascii=False),
        points=json.dumps(_point_rows(points, properties), ensure_ascii=False),
        always=json.dumps(np.flatnonzero(loose).tolist()),
        detail=detail_zoom,
        style=json.dumps(dot),
        ring=False,
        color=color,
        title=name,
        slot=slot,
        slots=slots,
        popup=f"function (p) {{ {popup} }}" if popup else "null",
    ).add_to(group)
    return group


def ranges_in_view(
    points: gpd.GeoDataFrame, name: str, *, style: dict[str, Any], detail_zoom: int, show: bool = False
) -> folium.FeatureGroup:
    """Each point's `radius_m` circle, drawn only from `detail_zoom` and only in view (a city's ranges)."""
    reach = points[points["radius_m"].fillna(0) > 0]
    group = folium.FeatureGroup(name=name, show=show)
    _Aggregated(
        levels="[]",
        points=json.dumps(_point_rows(reach, {"radius_m": "radius_m"})),
        always="[]",
        detail=detail_zoom,
        style=json.dumps({**style, "interactive": False}),
        ring=True,
        color="",
        title=name,
        slot=0,
        slots=1,
        popup="null",
    ).add_to(group)
    return group


def city_point_layers(
    m: folium.Map,
    speakers: gpd.GeoDataFrame | None,
    service_points: gpd.GeoDataFrame | None,
    t: Callable[[str], str],
    *,
    grids: gpd.GeoDataFrame,
    units: dict[str, gpd.GeoDataFrame],
    detail_zoom: int,
) -> dict[str, folium.FeatureGroup]:
    """`layers.speaker_and_service_layers` for a city: the same layers, keys and names, counted zoomed out.

    Working and broken speakers are counted apart (their bubbles side by side, the broken ones
    naming their codes); ranges are drawn only from `detail_zoom`, where they can be told apart.
    """
    lat = float(np.mean(grids.total_bounds[[1, 3]]))
    zooms = level_zooms(units, detail_zoom, lat)
    shared = {"grids": grids, "units": units, "zooms": zooms, "detail_zoom": detail_zoom}
    parts: list[tuple[str, gpd.GeoDataFrame, dict[str, Any]]] = []
    if speakers is not None and not speakers.empty:
        up = working(speakers)
        props = {k: k for k in ("code", "name", "radius_m", "status", "would_cover") if k in speakers}
        speaker = {"properties": props, "popup": SPEAKER_POPUP}
        parts.append(("speakers_working", speakers[up], {**speaker, "color": st.SPEAKER}))
        parts.append(
            (
                "speakers_broken",
                speakers[~up],
                {**speaker, "color": st.SPEAKER_BROKEN, "radius_px": 5, "list_codes": True},
            )
        )
    if service_points is not None and not service_points.empty:
        props = {k: k for k in ("code", "name", "radius_m", "kind") if k in service_points}
        parts.append(
            (
                "service_points",
                service_points,
                {"properties": props, "popup": SERVICE_POPUP, "color": st.SERVICE},
            )
        )
    parts = [p for p in parts if not p[1].empty]
    added: dict[str, folium.FeatureGroup] = {}
    for slot, (key, frame, options) in enumerate(parts):
        added[key] = aggregated_points(
            frame, t(f"layer_{key}"), slot=slot, slots=len(parts), **shared, **options
        )
        if key == "speakers_working":
            added["speaker_ranges"] = ranges_in_view(
                frame,
                t("layer_speaker_ranges"),
                style={"color": st.SPEAKER, "weight": 1, "fillColor": st.SPEAKER, "fillOpacity": 0.05},
                detail_zoom=detail_zoom,
            )
        if key == "service_points":
            added["service_ranges"] = ranges_in_view(
                frame,
                t("layer_service_ranges"),
                style={"color": st.SERVICE, "weight": 1, "dashArray": "2 4", "fill": False, "opacity": 0.7},
                detail_zoom=detail_zoom,
            )
    for layer in added.values():
        layer.add_to(m)
    return added
