"""One grid: buildings, households by coverage, 一户十联 links, nearby speakers and service points, and the
专属网格 of party organisations reaching into it (dashed, labelled with the organisation's name)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.crs import metric_crs
from gridmap.errors import NotFoundError
from gridmap.maps import styles as st
from gridmap.maps._page import Chrome, Finish, LegendEntry, legend_html, map_frame
from gridmap.maps.basemaps import NO_BASEMAP_BACKGROUND, Basemap, add_basemap, resolve_basemap
from gridmap.maps.coverage import JS_KEYS, SITE_POPUP, AnalysisLike, site_frame_of
from gridmap.maps.labels import check_lang, label
from gridmap.maps.layers import markers, numbered_sites, shapes, speaker_and_service_layers
from gridmap.maps.output import write_html
from gridmap.maps.simplify import for_basemap, spread_stacked
from gridmap.party.dedicated import dedicated_within

GRID_JS_KEYS = [
    *JS_KEYS,
    "address",
    "building",
    "linked_to",
    "hh_both",
    "hh_speaker",
    "hh_service",
    "hh_none",
    "hh_center",
    "hh_party",
    "floors",
    "yes",
    "no",
    "covered_by",
]

_HOUSEHOLD_POPUP = """return gridmap.table(p.code, [
  ["address", gridmap.text(p.address)], ["building", gridmap.text(p.building_code)],
  ["covered_by", gridmap.t(p.category)],
  ["hh_party", gridmap.t(p.party_member ? "yes" : "no")],
  ["hh_center", gridmap.t(p.center_household ? "yes" : "no")],
  ["linked_to", gridmap.text(p.linked_to)]]);"""
_BUILDING_POPUP = """return gridmap.table((p.name || "") + "（" + p.code + "）", [
  ["address", gridmap.text(p.address)], ["floors", gridmap.num(p.floors)],
  ["households", gridmap.num(p.households)]]);"""


def grid_map(
    analysis: AnalysisLike,
    frames: Mapping[str, gpd.GeoDataFrame],
    grid_code: str,
    *,
    basemap: str | Basemap = "none",
    lang: str = "zh",
    data_date: dt.date | str | None = None,
    tianditu_key: str | None = None,
    sites: Any = None,
) -> folium.Map:
    """One grid in detail, for its grid worker and the community: who is covered, who is linked to whom.

    `sites` (a siting result or frame, e.g. `gridmap.actions.grid_sites`) are drawn numbered.
    """
    language = check_lang(lang)
    base = (
        basemap
        if isinstance(basemap, Basemap)
        else resolve_basemap(basemap, lang=language, tianditu_key=tianditu_key)
    )
    t = lambda key: label(key, language)  # noqa: E731 - a short alias keeps the layer list readable
    grids = analysis.grids
    match = grids[grids["code"] == grid_code]
    if match.empty:
        raise NotFoundError(f"no grid with code {grid_code!r} ({len(grids)} grids in the store)")
    grid = match.iloc[[0]]
    outline = grid.geometry.iloc[0]

    def display(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return for_basemap(frame, base.crs)

    households = _households(analysis, frames, grid_code)
    buildings = _buildings(frames.get("buildings"), households, outline)
    shown_grid = display(grid)
    minx, miny, maxx, maxy = (float(v) for v in shown_grid.total_bounds)
    bounds = (minx, miny, maxx, maxy)
    m = map_frame(bounds, background=None if base.tiles else NO_BASEMAP_BACKGROUND)
    add_basemap(m, base, language)
    layers: dict[str, Any] = {}

    layers["grid"] = shapes(
        shown_grid,
        t("layer_grid"),
        properties={"code": "code"},
        styles={"color": "#252525", "weight": 3, "fillColor": "#ffffff", "fillOpacity": 0.25},
    ).add_to(m)
    if not buildings.empty:
        layers["buildings"] = shapes(
            display(buildings),
            t("layer_buildings"),
            properties={k: k for k in ("code", "name", "address", "floors", "households")},
            styles={"color": "#737373", "weight": 1, "fillColor": "#d9d9d9", "fillOpacity": 0.8},
            popup=_BUILDING_POPUP,
        ).add_to(m)

    dedicated = dedicated_within(frames.get("party_orgs"), outline)
    if not dedicated.empty:
        layers["dedicated"] = shapes(
            display(dedicated),
            t("layer_dedicated"),
            properties={"code": "code", "name": "name"},
            styles={"color": st.DEDICATED, "weight": 2.5, "dashArray": "8 6", "fill": False},
            label="gridmap.esc(p.name)",
        ).add_to(m)

    layers.update(
        speaker_and_service_layers(
            m,
            display(_reaching(frames.get("speakers"), outline)),
            display(_reaching(frames.get("service_points"), outline)),
            t,
            show_ranges=True,
        )
    )

    # Center households last, so their ring is drawn on top of the fan of their building.
    ordered = households.sort_values("center_household", kind="stable")
    shown = display(spread_stacked(ordered, step_m=2.5)) if not ordered.empty else ordered
    links = _links(shown)
    if not links.empty:
        layers["linkage"] = shapes(
            links,
            t("layer_linkage"),
            properties={},
            styles={"color": st.LINKAGE, "weight": 1, "opacity": 0.6},
        ).add_to(m)
    if not shown.empty:
        colors = ", ".join(f'"{k}": "{v}"' for k, v in st.HOUSEHOLD.items())
        layers["households"] = markers(
            shown,
            t("layer_households"),
            properties={
                k: k
                for k in (
                    "code",
                    "address",
                    "building_code",
                    "category",
                    "party_member",
                    "center_household",
                    "linked_to",
                )
            },
            style_js=(
                "{radius: p.center_household ? 6 : 3.5, fillOpacity: 0.95,"
                f" fillColor: ({{{colors}}})[p.category],"
                f" color: p.center_household ? '{st.CENTER_RING}' : '#ffffff',"
                " weight: p.center_household ? 2.5 : 0.8}"
            ),
            popup=_HOUSEHOLD_POPUP,
        ).add_to(m)

    if sites is not None:
        site_frame = site_frame_of(sites)
        if not site_frame.empty:
            layers["sites"] = numbered_sites(display(site_frame), t("layer_sites"), popup=SITE_POPUP).add_to(
                m
            )

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    row = grid.iloc[0]
    when = data_date or dt.date.today()
    colon = "：" if language == "zh" else ": "
    facts = [
        f"{t('party_branch')}{colon}{_text(row.get('party_branch'), t('missing'))}",
        f"{t('worker_name')}{colon}{_text(row.get('worker_name'), t('missing'))}",
        f"{t('households')}{colon}{len(households)}",
        f"{t('data_date')}{colon}{when}",
    ]
    Chrome(
        title=_escape(f"{t('grid_title')} · {_text(row.get('name'), '')}（{grid_code}）"),
        subtitle=_escape("　".join(facts)),
        legend=legend_html(t("layer_households"), [("", _legend(t, set(layers)))]),
        lang=language,
        keys=GRID_JS_KEYS,
        search=False,
    ).add_to(m)
    Finish(layers, bounds=bounds, search=False).add_to(m)
    return m


def write_grid_map(
    analysis: AnalysisLike,
    frames: Mapping[str, gpd.GeoDataFrame],
    grid_code: str,
    path: str | Path,
    **options: Any,
) -> Path:
    """Build the map of one grid (options as for `grid_map`) and write it as one offline HTML file."""
    return write_html(grid_map(analysis, frames, grid_code, **options), path)


def _households(
    analysis: AnalysisLike, frames: Mapping[str, gpd.GeoDataFrame], grid_code: str
) -> gpd.GeoDataFrame:
    """The grid's households with a coverage category and, from the register, their address."""
    hh = analysis.households[analysis.households["grid_code"] == grid_code].copy()
    register = frames.get("households")
    if register is not None and "address" in register:
        hh["address"] = hh["code"].map(register.set_index("code")["address"])
    elif "address" not in hh:
        hh["address"] = None
    speaker = hh["speaker_covered"].fillna(False).astype(bool).to_numpy()
    service = hh["service_covered"].fillna(False).astype(bool).to_numpy()
    hh["category"] = np.select(
        [speaker & service, speaker, service], ["hh_both", "hh_speaker", "hh_service"], default="hh_none"
    )
    for column in ("party_member", "center_household"):
        hh[column] = hh[column].fillna(False).astype(bool)
    return hh


def _buildings(
    buildings: gpd.GeoDataFrame | None, households: gpd.GeoDataFrame, outline: shapely.Geometry
) -> gpd.GeoDataFrame:
    """Buildings of the grid: those its households live in, or whose inside point lies in it."""
    if buildings is None or buildings.empty:
        return gpd.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4326")
    inside = shapely.contains(outline, buildings.geometry.representative_point().values)
    chosen = buildings[inside | buildings["code"].isin(households["building_code"].dropna())].copy()
    counts = households["building_code"].value_counts()
    chosen["households"] = chosen["code"].map(counts).fillna(0).astype(int)
    return chosen


def _reaching(points: gpd.GeoDataFrame | None, outline: shapely.Geometry) -> gpd.GeoDataFrame:
    """Points whose range (`radius_m`) reaches into the grid, measured in metres."""
    if points is None or points.empty:
        return gpd.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4326")
    metric = metric_crs(points)
    shape = gpd.GeoSeries([outline], crs=points.crs).to_crs(metric).iloc[0]
    distance = shapely.distance(points.to_crs(metric).geometry.values, shape)
    radius = pd.to_numeric(points["radius_m"], errors="coerce").fillna(0).to_numpy()
    return points[distance <= radius]


def _links(households: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A line from each center household to every household linked to it."""
    if households.empty:
        return households
    linked = households[households["linked_to"].notna() & (households["linked_to"] != households["code"])]
    where = households.set_index("code").geometry
    centers = linked["linked_to"].map(where)
    ok = centers.notna().to_numpy()
    if not ok.any():
        return gpd.GeoDataFrame(geometry=[], crs=households.crs)
    starts = np.asarray(centers[ok].values, dtype=object)
    ends = np.asarray(linked.geometry[ok].values, dtype=object)
    lines = shapely.linestrings(
        np.stack(
            [
                np.column_stack([shapely.get_x(starts), shapely.get_y(starts)]),
                np.column_stack([shapely.get_x(ends), shapely.get_y(ends)]),
            ],
            axis=1,
        )
    )
    return gpd.GeoDataFrame(geometry=lines, crs=households.crs)


def _legend(t: Any, drawn: set[str]) -> list[LegendEntry]:
    """Household colours always; the other symbols when their layer is on the map."""
    symbols = {
        "linkage": LegendEntry(t("layer_linkage"), st.LINKAGE, "line"),
        "dedicated": LegendEntry(t("layer_dedicated"), st.DEDICATED, "dash"),
        "speakers_working": LegendEntry(t("layer_speakers_working"), st.SPEAKER, "dot", "#fff"),
        "speakers_broken": LegendEntry(t("layer_speakers_broken"), st.SPEAKER_BROKEN, "dot", "#fff"),
        "service_points": LegendEntry(t("layer_service_points"), st.SERVICE, "dot", "#fff"),
        "speaker_ranges": LegendEntry(t("layer_speaker_ranges"), st.SPEAKER, "ring"),
        "service_ranges": LegendEntry(t("layer_service_ranges"), st.SERVICE, "ring"),
        "sites": LegendEntry(t("layer_sites"), st.SITE, "badge", "#fff"),
    }
    return [
        *(LegendEntry(t(key), color, "dot", "#fff") for key, color in st.HOUSEHOLD.items()),
        LegendEntry(t("hh_center"), "#ffffff", "dot", st.CENTER_RING),
        *(row for key, row in symbols.items() if key in drawn),
    ]


def _text(value: Any, missing: str) -> str:
    return (
        missing
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA
        else str(value)
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
