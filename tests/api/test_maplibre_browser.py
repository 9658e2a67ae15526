"""A MapLibre GL page on another origin draws gridmap's tiles and items, in headless Debian Chromium.

The page is served by a second local server on another port (a web
developer's own site); gridmap allows that origin by CORS. MapLibre loads
gridmap's style (/tiles/style.json), its vector tiles and the OGC API items;
every grid's name is drawn exactly once, from the label layer.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from playwright.sync_api import Route
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from api.main import create_app
from gridmap.stores import Store
from tests.api.conftest import district, settings_for
from tests.api.serving import running_app
from tests.maps.browser import CHROMIUM, chromium
from tests.maps.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)", allow_module_level=True)

MAPLIBRE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "maplibre-gl" / "dist"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="/maplibre-gl.css">
<script src="/maplibre-gl.js"></script>
<style>body{margin:0} #map{width:900px;height:700px}</style>
</head><body><div id="map"></div>
<script>
const gridmap = new URLSearchParams(location.search).get("gridmap");
window.errors = [];
window.result = null;
const map = new maplibregl.Map({
  container: "map", style: gridmap + "/tiles/style.json", center: [114.31, 30.51], zoom: 15.2,
});
map.on("error", (e) => window.errors.push(String(e.error && e.error.message || e)));
map.on("load", async () => {
  const items = await (await fetch(gridmap + "/collections/speakers/items")).json();
  map.addSource("items", {type: "geojson", data: items});
  map.addLayer({id: "items", type: "circle", source: "items",
                paint: {"circle-radius": 7, "circle-color": "#e31a1c"}});
  map.once("idle", () => {
    window.result = {
      labels: map.queryRenderedFeatures({layers: ["grids-labels"]}).map((f) => f.properties.name),
      items: map.queryRenderedFeatures({layers: ["items"]}).map((f) => f.properties.code),
      gridLines: map.queryRenderedFeatures({layers: ["grids-line"]}).length,
      streets: map.queryRenderedFeatures({layers: ["streets-labels"]}).map((f) => f.properties.name),
    };
  });
});
</script></body></html>
"""


def _site() -> FastAPI:
    """The web developer's own site: the page and MapLibre, nothing of gridmap."""
    site = FastAPI()

    @site.get("/")
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @site.get("/maplibre-gl.js")
    def script() -> FileResponse:
        return FileResponse(MAPLIBRE / "maplibre-gl.js", media_type="text/javascript")

    @site.get("/maplibre-gl.css")
    def css() -> FileResponse:
        return FileResponse(MAPLIBRE / "maplibre-gl.css", media_type="text/css")

    return site


@pytest.fixture
def origins(loaded: Store, store_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(the page's origin, gridmap's origin): two servers on two ports, gridmap allowing the page's."""
    with running_app(_site(), analysed=False) as site:  # a plain page site: no analysis to wait for
        settings = settings_for(store_url, serving_dir=tmp_path / "serving", cors_origins=site)
        with running_app(create_app(settings)) as gridmap:
            yield site, gridmap


def test_maplibre_on_another_origin_draws_tiles_items_and_each_grid_name_once(
    origins: tuple[str, str],
) -> None:
    site, gridmap = origins
    blocked: list[str] = []
    with chromium(viewport=(900, 700), offline=False, webgl=True) as context:
        page = context.new_page()

        def guard(route: Route) -> None:  # the two local servers only: nothing else may load
            if route.request.url.startswith((site, gridmap, "blob:", "data:")):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        page.route("**/*", guard)
        page.goto(f"{site}/?gridmap={gridmap}", wait_until="load")
        try:
            page.wait_for_function("() => window.result !== null", timeout=60_000)
        except PlaywrightTimeout:
            raise AssertionError(f"the map never drew: {page.evaluate('window.errors')}") from None
        result = page.evaluate("window.result")
        errors = page.evaluate("window.errors")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "maplibre-other-origin.png"))
    assert errors == [] and blocked == []
    names = sorted(district()["grids"]["name"])
    assert sorted(result["labels"]) == names  # every grid, each name once
    assert sorted(result["items"]) == ["K1", "K2"]
    assert result["gridLines"] > 0
    assert result["streets"] == ["幸福街道"]
