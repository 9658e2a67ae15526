"""Console and meeting report: time to first map and to a grid panel, a pan, and a street's PDF report.

Serves the sample district and the shared 1,000,000-household city workload
from PostGIS with the real app (uvicorn), and drives the console in Debian's
headless Chromium (Playwright) with every other host cut off. Times are the
page's own clocks (`gc.timings`): first map = boundaries drawn, grid panel =
from the search answer to the action list shown. A pan at zoom 16 waits for
the households' vector tiles of the new view, never for the whole layer.

    python -m bench.bench_console [--households 1000000] [--skip-city]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import psycopg
import uvicorn
from playwright.sync_api import sync_playwright

from api.main import create_app
from api.settings import ApiSettings
from bench.common import table, write_section
from bench.workload import city
from gridmap.analysis import analyze
from gridmap.catalogue import LAYER_NAMES
from gridmap.meeting import html_to_pdf, report_html
from gridmap.sample import generate
from gridmap.stores import open_store

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PORT = 8161
VIEWER = "bench-viewer-0123456789"


@contextmanager
def database(frames: dict[str, gpd.GeoDataFrame]) -> Iterator[str]:
    """A fresh PostGIS database holding `frames` (COPY), dropped afterwards."""
    name = f"gridmap_bench_console_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        with open_store(url) as store:
            store.replace_many(frames)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def serving(url: str) -> Iterator[str]:
    app = create_app(ApiSettings(store=url, tokens=json.dumps({VIEWER: {"role": "viewer"}})))  # type: ignore[call-arg]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=PORT, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{PORT}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def drive(origin: str, grid: str) -> dict[str, Any]:
    """Open the console signed in, search a grid, then pan at zoom 16: the page's own timings (ms)."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        whole_layers: list[str] = []

        def guard(route: Any) -> None:
            url = route.request.url
            if not url.startswith(origin):
                route.abort()
                return
            if "/collections/households/items" in url or "/collections/buildings/items" in url:
                whole_layers.append(url)
            route.continue_()

        page.route("**/*", guard)
        page.goto(origin + "/")
        page.wait_for_function("window.gc && gc.ready", timeout=600_000)
        anonymous_first_map = page.evaluate("gc.timings.firstMap")
        page.request.post(origin + "/login", data={"token": VIEWER})
        start = time.perf_counter()
        page.goto(origin + "/")
        page.wait_for_function("window.gc && gc.ready", timeout=600_000)
        first_map = page.evaluate("gc.timings.firstMap")
        page.wait_for_function("window.gc && gc.loaded", timeout=900_000)
        figures = (time.perf_counter() - start) * 1000
        panels = []
        for _ in range(2):  # the first panel may still build the analysis; the second is the steady state
            page.fill("#gc-q", grid)
            page.evaluate("gc.panelAt = null")
            page.press("#gc-q", "Enter")
            page.wait_for_function(
                "window.gc && gc.panelAt !== null && !!document.querySelector('#gc-actions')", timeout=900_000
            )
            panels.append(page.evaluate("gc.timings.gridPanel"))
            page.evaluate("gc.current = null")
        page.evaluate("() => { gc.map.setZoom(16, {animate: false}); }")
        page.wait_for_timeout(1500)
        pan = page.evaluate(
            """() => new Promise(resolve => {
                 const t0 = performance.now();
                 gc.layers.households.once("load", () => resolve(performance.now() - t0));
                 gc.map.panBy([600, 300], {animate: false});
               })"""
        )
        browser.close()
    return {
        "anonymous_first_map": anonymous_first_map,
        "first_map": first_map,
        "figures": figures,
        "panel_first": panels[0],
        "panel": panels[1],
        "pan": pan,
        "whole_layer_requests": len(whole_layers),
    }


def street_report_seconds(frames: dict[str, gpd.GeoDataFrame]) -> tuple[float, float]:
    """(layout, PDF) seconds of the first street's meeting report (the analysis is not counted)."""
    analysis = analyze(frames)
    street = str(analysis.streets["code"].iloc[0])
    start = time.perf_counter()
    text = report_html(analysis, frames, "street", street)
    laid_out = time.perf_counter() - start
    start = time.perf_counter()
    html_to_pdf(text)
    return laid_out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--skip-city", action="store_true")
    args = parser.parse_args()
    workloads = [("sample district (24,451 households)", lambda: generate(scale=1))]
    if not args.skip_city:
        workloads.append(
            (f"city workload ({args.households:,} households)", lambda: city(20, args.households, 8000, 2000))
        )
    rows, reports = [], []
    for name, build in workloads:
        frames = build()
        with database(frames) as url:
            with open_store(url) as store:
                frames = {layer: store.read(layer) for layer in LAYER_NAMES}
            grid = str(analyze(frames).grids.sort_values("uncovered_households")["code"].iloc[-1])
            with serving(url) as origin:
                t = drive(origin, grid)
        print(name, t)
        rows.append(
            [
                name,
                f"{t['anonymous_first_map']:.0f}",
                f"{t['first_map']:.0f}",
                f"{t['figures'] / 1000:.1f}",
                f"{t['panel_first'] / 1000:.1f}",
                f"{t['panel']:.0f}",
                f"{t['pan']:.0f}",
                t["whole_layer_requests"],
            ]
        )
        layout, pdf = street_report_seconds(frames)
        reports.append([name, f"{layout:.1f}", f"{pdf:.1f}", f"{layout + pdf:.1f}"])
    body = "\n\n".join(
        [
            "Console (`/`, PostGIS store, headless Chromium, signed in as a viewer). First map: streets and "
            "communities drawn, from navigation start. Coverage colours: until every grid's figures are "
            "on the map (the analysis is computed by the server on first use). Grid panel: search answer to "
            "action list shown, first time and again. Pan: a 600 × 300 px pan at zoom 16 until the "
            "households' vector tiles of the new view are drawn. Whole-layer requests: GeoJSON requests "
            "for all households or buildings (there should be none).",
            table(
                [
                    "workload",
                    "first map, anonymous (ms)",
                    "first map, viewer (ms)",
                    "coverage colours (s)",
                    "grid panel, first (s)",
                    "grid panel, again (ms)",
                    "pan (ms)",
                    "whole-layer requests",
                ],
                rows,
            ),
            "Meeting report of one street (`report_html` then Chromium's print-to-PDF, the analysis "
            "excluded):",
            table(["workload", "layout (s)", "PDF (s)", "total (s)"], reports),
            "Machine shared with other work (seven other developers' tests and benchmarks ran at the "
            "same time): figures are upper bounds.",
        ]
    )
    write_section("console", body)


if __name__ == "__main__":
    main()
