"""The district coverage map: where speaker, service and linkage coverage fails, grid by grid."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import folium
import geopandas as gpd
import pandas as pd

from gridmap import vocabulary
from gridmap.actions import grade_reasons, repairable_speakers
from gridmap.crs import metric_crs
from gridmap.errors import NotFoundError
from gridmap.maps import styles as st
from gridmap.maps._page import Chrome, Finish, LegendEntry, legend_html, map_frame
from gridmap.maps.aggregates import city_point_layers
from gridmap.maps.basemaps import NO_BASEMAP_BACKGROUND, Basemap, add_basemap, resolve_basemap
from gridmap.maps.labels import check_lang, label
from gridmap.maps.layers import (
    grid_counts,
    markers,
    name_labels,
    numbered_sites,
    shapes,
    speaker_and_service_layers,
)
from gridmap.maps.output import write_html
from gridmap.maps.simplify import aggregate_points, for_basemap, simplify_polygons
from gridmap.maps.zooms import count_zooms
from gridmap.party.dedicated import dedicated_grids
from gridmap.party.vocabulary import ORG_KINDS
from gridmap.walking import walk_bands

# The most counted cells the uncovered-household layer may carry; the cell grows until it fits.
MAX_CELLS = 15_000
CITY_GRIDS = 4_000
"""Beyond this many grids the district map colours communities, each with its grids' figures summed,
and leaves out the grid-level uncovered areas: a city of 12,000 grids stays a few megabytes. Grid
detail is one grid's map (`gridmap map --grid CODE`) or the served map's vector tiles."""
FIRST_CELL_M = 25.0

_GRID_FIELDS = {
    "code": "code",
    "name": "name",
    "community": "community_name",
    "party_branch": "party_branch",
    "worker_name": "worker_name",
    "households": "households",
    "party_members": "party_members",
    "center_households": "center_households",
}
_GRID_PROPS = {
    **_GRID_FIELDS,
    **{m.column: m.column for m in vocabulary.share_measures()},
    "uncovered_households": "uncovered_households",
    "grade": "grade",
    "reasons": "reasons",
}
"""Every property a grid's popup may show; a measure the analysis could not take is left out."""


def _grid_popup(shares: list[str]) -> str:
    """The grid popup's script: its fields, then each measure's share that the map carries."""
    measures = "".join(f'  ["{c}", gridmap.pct(p.{c})],\n' for c in shares)
    return (
        """
var missing = '<span style="color:#c51b7d">' + gridmap.t("missing") + "</span>";
return gridmap.table((p.name || "") + "（" + p.code + "）", [
  ["code", gridmap.text(p.code)],
  ["community", gridmap.text(p.community)],
  ["party_branch", p.party_branch ? gridmap.esc(p.party_branch) : missing],
  ["worker_name", p.worker_name ? gridmap.esc(p.worker_name) : missing],
  ["households", gridmap.num(p.households)],
  ["party_members", gridmap.num(p.party_members)],
  ["center_households", gridmap.num(p.center_households)],
"""
        + measures
        + """  ["uncovered_households", gridmap.num(p.uncovered_households)],
  ["grade", gridmap.text(p.grade)]
]).replace("</table></div>", "</table>" + (p.reasons && p.reasons.length ? "<b>" + gridmap.t("reasons")
  + "</b><ul>" + p.reasons.map(function (r) { return "<li>" + gridmap.esc(r) + "</li>"; }).join("")
  + "</ul>" : "") + "</div>");"""
    )


_FINDING_POPUP = """return gridmap.table(gridmap.t(p.kind), [
  ["severity", gridmap.text(gridmap.t(p.severity))], ["codes", gridmap.text(p.codes)],
  ["community", gridmap.text(p.community_code)], ["area_m2", gridmap.num(p.area_m2)]]);"""
SITE_POPUP = """return gridmap.table(gridmap.t("layer_sites") + " " + (p.rank || ""), [
  ["kind", gridmap.text(gridmap.t(p.kind))], ["address", gridmap.text(p.label)],
  ["newly_covered", gridmap.num(p.newly_covered)], ["radius_m", gridmap.num(p.radius_m)]]);"""
_STRAY_POPUP = """return gridmap.table(gridmap.t("layer_unassigned"), [
  ["code", gridmap.text(p.code)], ["layer", gridmap.text(p.layer)]]);"""

# Label keys the page's JavaScript looks up (popups, search box).
JS_KEYS = [
    "search",
    "zoom_in_hint",
    "not_found",
    "missing",
    *_GRID_PROPS,
    "status",
    "radius_m",
    "kind",
    "working",
    "broken",
    "severity",
    "codes",
    "area_m2",
    "newly_covered",
    "layer_sites",
    "speaker",
    "service",
    *vocabulary.FINDING_KINDS,
    *vocabulary.SEVERITY_TERMS,
]


class AnalysisLike(Protocol):
    """The parts of `gridmap.analysis.Analysis` a map draws (see docs/ARCHITECTURE.md)."""

    @property
    def grids(self) -> gpd.GeoDataFrame: ...
    @property
    def communities(self) -> gpd.GeoDataFrame: ...
    @property
    def streets(self) -> gpd.GeoDataFrame: ...
    @property
    def households(self) -> gpd.GeoDataFrame: ...
    @property
    def uncovered_areas(self) -> gpd.GeoDataFrame: ...
    @property
    def findings(self) -> gpd.GeoDataFrame: ...


def coverage_map(
    analysis: AnalysisLike,
    *,
    frames: Mapping[str, gpd.GeoDataFrame] | None = None,
    measure: str = "speaker",
    basemap: str | Basemap = "none",
    lang: str = "zh",
    sites: Any = None,
    title: str | None = None,
    data_date: dt.date | str | None = None,
    tianditu_key: str | None = None,
    tolerance_m: float = 2.0,
) -> folium.Map:
    """The district map: grids coloured by `measure`, boundaries, speakers, service points, gaps.

    `frames` supplies the speakers and service points (default: the analysis's own input layers);
    `sites` is a siting result (an object with a `sites` frame, or the frame).
    """
    language = check_lang(lang)
    chosen = vocabulary.measure(measure)
    column = chosen.column
    base = (
        basemap
        if isinstance(basemap, Basemap)
        else resolve_basemap(basemap, lang=language, tianditu_key=tianditu_key)
    )
    if analysis.grids.empty:
        raise NotFoundError("there are no grids to draw: import grids first (or run `gridmap demo`)")
    if column not in analysis.grids:
        notes = "; ".join(en for _, en in getattr(analysis, "notes", ())) or "its figures are missing"
        raise NotFoundError(f"measure {chosen.code} was not taken: {notes}")

    def display(
        frame: gpd.GeoDataFrame, *, coverage: bool = False, simplify: bool = True
    ) -> gpd.GeoDataFrame:
        out = simplify_polygons(frame, tolerance_m, coverage=coverage) if simplify else frame
        return for_basemap(out, base.crs)

    city = len(analysis.grids) > CITY_GRIDS
    # Points and counts show their detail once the grids are big enough on screen to carry it.
    zooms = count_zooms(analysis.grids)
    grids = _communities_as_units(analysis) if city else _grid_table(analysis, language)
    shown = display(grids, coverage=True)
    minx, miny, maxx, maxy = shown.total_bounds
    m = map_frame((minx, miny, maxx, maxy), background=None if base.tiles else NO_BASEMAP_BACKGROUND)
    if city:
        # Leaflet places each marker with a 3D transform, and a 3D transform makes each of a city's
        # hundreds of bubbles and names a compositing layer of its own: without a GPU (a browser
        # in a virtual machine, headless Chromium) committing them cost more than drawing the map.
        m.global_switches.disable_3d = True
    add_basemap(m, base, language)
    t = lambda key: label(key, language)  # noqa: E731 - a short alias keeps the layer list readable
    layers: dict[str, Any] = {}

    fills = st.measure_colors(grids[column], column)
    # A city's units are communities: their outlines are the community boundaries, drawn once.
    outline = {"color": st.COMMUNITY, "weight": 1.2} if city else {"color": "#4d4d4d", "weight": 0.8}
    grid_styles = [{**outline, "fillColor": c, "fillOpacity": 0.65, "opacity": 0.9} for c in fills]
    tooltip = f'gridmap.esc(p.name || p.code) + "：" + {_measure_js(column)}'
    carried = {key: name for key, name in _GRID_PROPS.items() if name in shown}
    shares = [m.column for m in vocabulary.share_measures() if m.column in carried]
    layers["grids"] = shapes(
        shown,
        t("layer_grids"),
        properties=carried,
        styles=grid_styles,
        popup=_grid_popup(shares),
        tooltip=tooltip,
    ).add_to(m)

    if "uncovered_areas" in chosen.layers and not analysis.uncovered_areas.empty and not city:
        areas = display(analysis.uncovered_areas)
        style = {
            "color": st.UNCOVERED_AREA,
            "weight": 0,
            "fillColor": st.UNCOVERED_AREA,
            "fillOpacity": 0.3,
        }
        layers["uncovered_areas"] = shapes(
            areas, t("layer_uncovered_areas"), properties={}, styles=style
        ).add_to(m)

    lacking = grids[~(_flag(grids, "has_party_branch") & _flag(grids, "has_worker"))]
    if not lacking.empty:
        style = {"color": st.GOVERNANCE, "weight": 2.5, "dashArray": "6 4", "fill": False}
        layers["governance"] = shapes(
            display(lacking, coverage=True), t("layer_governance"), properties={"code": "code"}, styles=style
        ).add_to(m)

    for key, frame, color, weight in (
        ("communities", None if city else analysis.communities, st.COMMUNITY, 1.6),
        ("streets", analysis.streets, st.STREET, 3.0),
    ):
        if frame is not None and not frame.empty:
            style = {"color": color, "weight": weight, "fill": False, "opacity": 0.9}
            layers[key] = shapes(
                display(frame, coverage=True), t(f"layer_{key}"), properties={"code": "code"}, styles=style
            ).add_to(m)

    # Analysis carries its input layers; a caller may pass others (e.g. fresher speakers).
    frames = frames if frames is not None else getattr(analysis, "frames", None) or {}

    # 专属网格 overlap base grids by design: a dashed outline of their own, named by their organisation.
    dedicated = dedicated_grids(frames.get("party_orgs"))
    if not dedicated.empty:
        kinds = {code: kind.label(language) for code, kind in ORG_KINDS.items()}
        layers["dedicated"] = shapes(
            display(dedicated.assign(kind=dedicated["kind"].map(kinds))),
            t("layer_dedicated"),
            properties={"code": "code", "name": "name", "kind": "kind", "community": "community_code"},
            styles={"color": st.DEDICATED, "weight": 2.5, "dashArray": "8 6", "fill": False},
            label="gridmap.esc(p.name)",
        ).add_to(m)
    speakers, service = frames.get("speakers"), frames.get("service_points")
    if speakers is not None and "speakers" in chosen.layers:
        speakers = _with_repair_gain(speakers, analysis, frames)
    shown_speakers = (
        None if speakers is None or "speakers" not in chosen.layers else display(speakers, simplify=False)
    )
    shown_service = (
        None if service is None or "service_points" not in chosen.layers else display(service, simplify=False)
    )
    units = {"street": display(analysis.streets), "community": display(analysis.communities)}
    if city:
        # Thousands of points are counted per street and community until the grids are big enough.
        layers.update(
            city_point_layers(
                m,
                shown_speakers,
                shown_service,
                t,
                grids=display(
                    analysis.grids[["code", "community_code", "street_code", "geometry"]], simplify=False
                ),
                units=units,
                detail_zoom=zooms[0],
            )
        )
    else:
        layers.update(speaker_and_service_layers(m, shown_speakers, shown_service, t, detail_zoom=zooms[0]))

    roads = frames.get("roads")
    if "walk_bands" in chosen.layers and roads is not None and len(roads) and service is not None:
        bands = walk_bands(roads, service, metric_crs(analysis.grids), vocabulary.LIFE_CIRCLES)
        for minutes, band in zip(bands["minutes"], bands.geometry, strict=True):
            term = vocabulary.WALK_BANDS[f"walk_band_{minutes}"]
            style = {"color": term.color, "weight": 0, "fillColor": term.color, "fillOpacity": 0.45}
            frame = gpd.GeoDataFrame(geometry=[band], crs=bands.crs)
            layers[term.code] = shapes(
                for_basemap(frame, base.crs), term.label(language), properties={}, styles=style
            ).add_to(m)

    gap = vocabulary.HOUSEHOLD_GAPS[chosen.gap]
    missed = _gap_households(analysis.households, gap)
    if not missed.empty:
        per_grid, cells = _gap_counts(missed, analysis.grids)
        # A city's opening zoom shows communities: a dot per community, not 12,000 per grid.
        overview = _gap_per_community(missed, analysis) if city else None
        layers["household_gap"] = grid_counts(
            for_basemap(per_grid, base.crs),
            for_basemap(cells, base.crs),
            gap.label(language),
            unit=t("households_unit"),
            color=gap.color,
            zooms=zooms,
            overview=None if overview is None else for_basemap(overview, base.crs),
        ).add_to(m)

    if not analysis.findings.empty:
        findings = analysis.findings.copy()
        findings["geometry"] = findings.geometry.representative_point()
        findings["codes"] = findings["codes"].map(_join_codes)
        shown_findings = display(findings, simplify=False)
        colors = json.dumps({k: v.color for k, v in vocabulary.FINDING_KINDS.items()})
        errors = (findings["severity"] == "error").to_numpy()
        # Errors must be fixed and are shown; warnings (e.g. a grid's household count) can be
        # one per grid at city scale, so they wait behind their own switch.
        for key, picked, show in (("findings", errors, True), ("findings_other", ~errors, False)):
            if picked.any():
                layers[key] = markers(
                    shown_findings[picked],
                    t(f"layer_{key}"),
                    properties={k: k for k in ("kind", "severity", "codes", "community_code", "area_m2")},
                    style_js=(
                        "{radius: 6, color: '#000', weight: 2, fillOpacity: 0.95, "
                        f"fillColor: ({colors})[p.kind] || '{st.FINDING_OTHER}'}}"
                    ),
                    popup=_FINDING_POPUP,
                    show=show,
                ).add_to(m)

    stray = getattr(analysis, "unassigned", None)
    if stray is not None and not stray.empty:
        layers["unassigned"] = markers(
            display(stray.assign(geometry=stray.geometry.representative_point()), simplify=False),
            t("layer_unassigned"),
            properties={k: k for k in ("code", "layer") if k in stray},
            style_js=f"{{radius: 7, color: '#000', weight: 2, fillOpacity: 1, fillColor: '{st.UNASSIGNED}'}}",
            popup=_STRAY_POPUP,
        ).add_to(m)

    if sites is not None:
        site_frame = site_frame_of(sites)
        if not site_frame.empty:
            layers["sites"] = numbered_sites(
                display(site_frame, simplify=False), t("layer_sites"), popup=SITE_POPUP
            ).add_to(m)

    # A city's map draws communities, not grids: grid names would label shapes that are not there.
    name_levels = [("street", units["street"]), ("community", units["community"])]
    names = name_labels(
        name_levels if city else [*name_levels, ("grid", shown)],
        t("layer_names"),
        lat=(miny + maxy) / 2,
    )
    if names is not None:
        layers["names"] = names.add_to(m)

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    counted = city and bool({"speakers_working", "speakers_broken", "service_points"} & set(layers))
    when = data_date or dt.date.today()
    colon = "：" if language == "zh" else ": "
    subtitle = f"{t('data_date')}{colon}{when}　{t('measure')}{colon}{chosen.label(language)}"
    Chrome(
        title=_escape(title or t("coverage_title")),
        subtitle=_escape(subtitle),
        legend=legend_html(
            chosen.label(language),
            [
                ("", st.measure_legend(column, language)),
                ("", _symbols(t, layers, gap, language, counted=counted)),
            ],
        ),
        lang=language,
        keys=JS_KEYS,
        search=True,
    ).add_to(m)
    Finish(layers, bounds=(minx, miny, maxx, maxy), search=True).add_to(m)
    return m


def _gap_households(households: gpd.GeoDataFrame, gap: vocabulary.HouseholdGap) -> gpd.GeoDataFrame:
    """The households a measure leaves out (not covered; for linkage: not linked)."""
    if gap.column not in households:
        return households.iloc[:0]
    return households[gap.left_out(households)]


def _gap_counts(
    missed: gpd.GeoDataFrame, grids: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Per grid: the count at the grid's inside point; and cells that never cross a grid's edge.

    Households in no grid are counted in cells of their own at both levels.
    """
    grid_code = missed["grid_code"].astype("string")
    counts = grid_code.value_counts()
    owned = grids[grids["code"].isin(counts.index)]
    per_grid = gpd.GeoDataFrame(
        {"count": owned["code"].map(counts).astype("int64").to_numpy()},
        geometry=owned.geometry.representative_point().to_numpy(),
        crs=grids.crs,
    )
    cells = _cells(missed.assign(_grid=grid_code.fillna("").to_numpy()))
    stray = _cells(missed[grid_code.isna().to_numpy()].assign(_grid=""))
    if not stray.empty:
        per_grid = pd.concat([per_grid, stray], ignore_index=True)
    return per_grid, cells


def _gap_per_community(missed: gpd.GeoDataFrame, analysis: AnalysisLike) -> gpd.GeoDataFrame:
    """Per community the count at its inside point; households of no known community in cells of their own."""
    community_of = analysis.grids.set_index("code")["community_code"]
    community = missed["grid_code"].map(community_of).astype("string")
    counts = community.value_counts()
    owned = analysis.communities[analysis.communities["code"].isin(counts.index)]
    per_community = gpd.GeoDataFrame(
        {"count": owned["code"].map(counts).astype("int64").to_numpy()},
        geometry=owned.geometry.representative_point().to_numpy(),
        crs=analysis.communities.crs,
    )
    lost = ~community.isin(owned["code"]).to_numpy(dtype=bool)
    stray = _cells(missed[lost].assign(_grid=""))
    return (
        pd.concat([per_community, stray.to_crs(per_community.crs)], ignore_index=True)
        if not stray.empty
        else per_community
    )


def _with_repair_gain(
    speakers: gpd.GeoDataFrame, analysis: AnalysisLike, frames: Mapping[str, gpd.GeoDataFrame]
) -> gpd.GeoDataFrame:
    """Speakers with `would_cover` (uncovered households in reach once repaired) on the broken ones."""
    if not hasattr(analysis, "frames"):
        return speakers
    gains = repairable_speakers(analysis, frames).set_index("code")["would_cover"]  # type: ignore[arg-type]
    return speakers.assign(would_cover=speakers["code"].map(gains))


def _grid_table(analysis: AnalysisLike, lang: vocabulary.Lang) -> gpd.GeoDataFrame:
    """Analysis.grids with the community's name and the reasons for each grade, for popups."""
    grids = analysis.grids.copy()
    why = grade_reasons(grids)
    grids["reasons"] = [[r.text(lang) for r in why[str(code)]] for code in grids["code"]]
    names = analysis.communities.set_index("code")["name"] if "name" in analysis.communities else pd.Series()
    grids["community_name"] = grids["community_code"].map(names).fillna(grids["community_code"])
    return grids


def _communities_as_units(analysis: AnalysisLike) -> gpd.GeoDataFrame:
    """Communities in the grids' place on a city's map: the same figure columns, named by their street."""
    units = analysis.communities.copy()
    streets = analysis.streets.set_index("code")["name"] if "name" in analysis.streets else pd.Series()
    units["community_name"] = units["street_code"].map(streets).fillna(units["street_code"])
    units["community_code"] = units["code"]
    for name in ("party_branch", "worker_name"):
        units[name] = None
    units["has_party_branch"] = units["grids_without_party_branch"] == 0
    units["has_worker"] = units["grids_without_worker"] == 0
    units["reasons"] = [[] for _ in range(len(units))]
    return units


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].fillna(False).astype(bool) if column in frame else pd.Series(True, index=frame.index)


def _join_codes(codes: Any) -> str:
    if isinstance(codes, str) or codes is None:
        return codes or ""
    return "、".join(str(c) for c in codes)


def _cells(households: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Households counted per grid (`_grid`) in the smallest cells that stay under MAX_CELLS."""
    size = FIRST_CELL_M
    cells = aggregate_points(households, size, by="_grid")
    while len(cells) > MAX_CELLS:
        size *= 2
        cells = aggregate_points(households, size, by="_grid")
    return cells


def _measure_js(column: str) -> str:
    return "gridmap.text(p.grade)" if column == "grade" else f"gridmap.pct(p.{column})"


def site_frame_of(sites: Any) -> gpd.GeoDataFrame:
    """Proposed sites as a frame with rank, kind, radius_m, newly_covered.

    Accepts a `gridmap.siting.SitingResult` (its `sites`, `kind`, per-site
    `gain`) or a frame with those columns.
    """
    frame = getattr(sites, "sites", sites).copy()
    kind = getattr(sites, "kind", "speakers")
    if "rank" not in frame:
        frame["rank"] = range(1, len(frame) + 1)
    if "kind" not in frame:
        frame["kind"] = "speaker" if kind == "speakers" else "service"
    if "newly_covered" not in frame:
        frame["newly_covered"] = frame.get("gain")
    if "radius_m" not in frame:
        frame["radius_m"] = getattr(sites, "radius_m", 0.0)
    if "label" not in frame:
        frame["label"] = frame.get("code")
    return frame


def _symbols(
    t: Any, drawn: Mapping[str, Any], gap: vocabulary.HouseholdGap, lang: vocabulary.Lang, *, counted: bool
) -> list[LegendEntry]:
    """Legend rows of every overlay the map has; `counted`: its points are counted when zoomed out."""
    rows = {
        "uncovered_areas": LegendEntry(t("layer_uncovered_areas"), st.UNCOVERED_AREA),
        "household_gap": LegendEntry(gap.label(lang), gap.color, "dot", "#fff"),
        "speakers_working": LegendEntry(t("layer_speakers_working"), st.SPEAKER, "dot", "#fff"),
        "speaker_ranges": LegendEntry(t("layer_speaker_ranges"), st.SPEAKER, "ring"),
        "speakers_broken": LegendEntry(t("layer_speakers_broken"), st.SPEAKER_BROKEN, "dot", "#fff"),
        "service_points": LegendEntry(t("layer_service_points"), st.SERVICE, "dot", "#fff"),
        "service_ranges": LegendEntry(t("layer_service_ranges"), st.SERVICE, "ring"),
        "findings": LegendEntry(t("layer_findings"), st.FINDING["error"], "dot", "#000"),
        "findings_other": LegendEntry(t("layer_findings_other"), st.FINDING["warning"], "dot", "#000"),
        "unassigned": LegendEntry(t("layer_unassigned"), st.UNASSIGNED, "dot", "#000"),
        "sites": LegendEntry(t("layer_sites"), st.SITE, "badge", "#fff"),
        **{code: LegendEntry(band.label(lang), band.color) for code, band in vocabulary.WALK_BANDS.items()},
        "aggregated": LegendEntry(t("aggregated_note"), st.SPEAKER, "pill", "#fff"),
        "governance": LegendEntry(t("layer_governance"), st.GOVERNANCE, "line"),
        "dedicated": LegendEntry(t("layer_dedicated"), st.DEDICATED, "dash"),
        "streets": LegendEntry(t("layer_streets"), st.STREET, "line"),
        "communities": LegendEntry(t("layer_communities"), st.COMMUNITY, "line"),
    }
    return [row for key, row in rows.items() if key in drawn or (key == "aggregated" and counted)]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_coverage_map(analysis: AnalysisLike, path: str | Path, **options: Any) -> Path:
    """Build the district map (options as for `coverage_map`) and write it as one offline HTML file."""
    return write_html(coverage_map(analysis, **options), path)
