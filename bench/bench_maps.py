"""Map benchmark: gridmap's offline coverage map against a plain folium map of the same data.

    .venv/bin/python -m bench.bench_maps [--scale 20] [--households 1000000] [--repeat 3]

Workloads: the sample district (`gridmap.sample.generate(1)`), and
`generate(scale)` (1,220 grids at scale 20) with households topped up to
`--households` as in bench.workload (copies of random households, same point,
new code). Each is analysed once (`gridmap.analysis.analyze`, timed apart).

Measured for each map: HTML size; generation time (building the folium map
and writing the HTML, median of `--repeat`); time to first render in headless
Chromium (navigation start to two animation frames after the load event,
median of `--repeat` fresh pages).

The plain folium map is what one would write first: `folium.Map()` with its
default OpenStreetMap tiles and CDN assets, every grid as `folium.GeoJson`
(full geometry, all figures in a tooltip), speakers and service points as
GeoJson points, the uncovered households in a `FastMarkerCluster`. The machine
has no internet, so for the render measurement its CDN scripts are answered
from the same installed packages (as a warm browser cache would) and its
other CDN files with empty bodies; tile requests are refused.
Writes bench/RESULTS.md section "maps".
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import folium
import geopandas as gpd
from folium.plugins import FastMarkerCluster
from playwright.sync_api import BrowserContext, Route

from bench.common import WORK, median_seconds, table, write_section
from bench.workload import densify
from gridmap.analysis import Analysis, analyze
from gridmap.maps import coverage_map, write_html
from gridmap.maps.assets import CSS_ASSETS, JS_ASSETS
from gridmap.sample import generate
from tests.maps.browser import LOCAL_SCHEMES, chromium

TARGET_MB = 10.0
TARGET_GENERATION_S = 20.0
TARGET_RENDER_S = 2.0

_FIRST_RENDER_JS = """() => new Promise(resolve => requestAnimationFrame(
    () => requestAnimationFrame(() => resolve(performance.now()))))"""


def plain_folium(analysis: Analysis, frames: dict[str, gpd.GeoDataFrame]) -> folium.Map:
    """The same data the naive way: default tiles and CDN assets, full geometry, DOM-heavy layers."""
    grids = analysis.grids.drop(columns=["worker_phone"])
    minx, miny, maxx, maxy = grids.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=13)
    fields = ["code", "name", "party_branch", "worker_name", "households", "speaker_share", "grade"]
    folium.GeoJson(
        grids[[*fields, "geometry"]], name="网格", tooltip=folium.GeoJsonTooltip(fields=fields)
    ).add_to(m)
    for layer in ("speakers", "service_points"):
        folium.GeoJson(frames[layer][["code", "name", "radius_m", "geometry"]], name=layer).add_to(m)
    uncovered = analysis.households[~analysis.households["speaker_covered"]]
    FastMarkerCluster(list(zip(uncovered.geometry.y, uncovered.geometry.x, strict=True))).add_to(m)
    folium.LayerControl().add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _local_cdn(route: Route) -> None:
    """Answer folium's CDN requests from the installed packages; refuse everything else remote."""
    url = route.request.url
    if url.startswith(LOCAL_SCHEMES):
        route.continue_()
        return
    name = url.rsplit("/", 1)[-1].split("?")[0]
    for asset in (*JS_ASSETS.values(), *CSS_ASSETS.values()):
        if asset.file.name == name:
            kind = "text/css" if name.endswith(".css") else "application/javascript"
            route.fulfill(status=200, body=asset.file.read_bytes(), content_type=kind)
            return
    if name.endswith((".js", ".css")):
        route.fulfill(status=200, body="", content_type="text/plain")
    else:
        route.abort()


def first_render_s(context: BrowserContext, html: Path, repeat: int) -> float:
    """Median seconds from navigation start to two frames after `load`, each on a fresh page."""
    times = []
    for _ in range(repeat):
        page = context.new_page()
        page.route("**/*", _local_cdn)
        page.goto(html.resolve().as_uri(), wait_until="load", timeout=180_000)
        times.append(page.evaluate(_FIRST_RENDER_JS) / 1000)
        page.close()
    return statistics.median(times)


def measure(
    label: str, frames: dict[str, gpd.GeoDataFrame], repeat: int, context: BrowserContext
) -> tuple[list[list[object]], list[str]]:
    start = time.perf_counter()
    analysis = analyze(frames)
    analysis_s = time.perf_counter() - start
    n_grids, n_households = len(analysis.grids), len(analysis.households)
    rows: list[list[object]] = []
    notes: list[str] = []
    for name, build in (
        ("gridmap (offline)", lambda p: write_html(coverage_map(analysis, frames=frames), p)),
        # folium's own save: CDN links as folium writes them.
        ("plain folium (CDN)", lambda p: plain_folium(analysis, frames).save(str(p))),
    ):
        path = WORK / f"maps_{label.split()[0]}_{name.split()[0]}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        generation = median_seconds(lambda b=build, p=path: b(p), repeat)
        size_mb = path.stat().st_size / 1e6
        render = first_render_s(context, path, repeat)
        rows.append(
            [
                label,
                f"{n_grids:,}",
                f"{n_households:,}",
                name,
                f"{size_mb:.1f}",
                f"{generation:.1f}",
                f"{render:.2f}",
            ]
        )
        if name.startswith("gridmap"):
            ok = size_mb <= TARGET_MB and generation <= TARGET_GENERATION_S and render <= TARGET_RENDER_S
            notes.append(
                f"- {label}: {size_mb:.1f} MB, {generation:.1f} s to generate, "
                f"{render:.2f} s to first render "
                f"(goals ≤ {TARGET_MB:.0f} MB, ≤ {TARGET_GENERATION_S:.0f} s, ≤ {TARGET_RENDER_S:.0f} s): "
                f"{'met' if ok else 'NOT met'}; analysis beforehand {analysis_s:.1f} s"
            )
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    city = generate(args.scale)
    city["households"] = densify(city["households"], args.households)
    rows: list[list[object]] = []
    notes: list[str] = []
    with chromium() as context:
        for label, frames in (("sample (scale 1)", generate(1)), (f"city (scale {args.scale})", city)):
            r, n = measure(label, frames, args.repeat, context)
            rows += r
            notes += n
            print(table(["workload", "grids", "households", "map", "HTML MB", "generate s", "render s"], r))
    body = f"""
Workload: `python -m bench.bench_maps --scale {args.scale} --households {args.households}`; sample district
and the scale-{args.scale} district topped up to {args.households:,} households; coverage map by speaker
share with every layer (boundaries, speakers, service points, uncovered households, findings).
Generation = building the map and writing the HTML (median of {args.repeat}); render = navigation start to
two animation frames after `load` in headless Chromium (median of {args.repeat} fresh pages); plain folium's
CDN files answered locally (see the script's docstring).

{table(["workload", "grids", "households", "map", "HTML MB", "generate s", "render s"], rows)}

{chr(10).join(notes)}
"""
    write_section("maps", body)


if __name__ == "__main__":
    main()
