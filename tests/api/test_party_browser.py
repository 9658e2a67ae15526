"""The console's party tree in headless Chromium: a community's tree, then a group's building on the map."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from shapely.geometry import box

from api.main import create_app
from api.settings import ApiSettings
from gridmap.party.register import save_org
from gridmap.stores import open_store
from tests.api.serving import running_app
from tests.maps.browser import CHROMIUM, chromium, guard_origin
from tests.party.conftest import NAMES, district, load_chain, org

pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)", allow_module_level=True)

VIEWER = "party-console-viewer-0123456789"
DEDICATED = org(
    "PD1", "building_org", "PC2", "dedicated", "C2", area_wkt=box(114.314, 30.504, 114.317, 30.507).wkt
)
"""A 商圈楼宇 organisation's 专属网格 inside community C2, over base grid G3."""
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = str(tmp_path_factory.mktemp("party") / "party.gpkg")
    with open_store(url) as store:
        load_chain(store)
        save_org(store, DEDICATED, by="test")
    tokens = {VIEWER: {"role": "viewer", "name": "王规划"}}
    app = create_app(ApiSettings(store=url, tokens=json.dumps(tokens)))  # type: ignore[call-arg]
    with running_app(app) as served:
        yield served


def test_a_community_tree_leads_to_its_building(origin: str) -> None:
    with chromium(viewport=(1400, 900), offline=False) as browser:
        page = browser.new_page()
        log = guard_origin(page, origin)
        page.goto(origin + "/")
        page.wait_for_function("() => window.gc && gc.loaded", timeout=60_000)
        page.fill("#gc-token", VIEWER)
        page.click("#gc-login button")
        page.wait_for_function("() => window.gc && gc.loaded && gc.state.role === 'viewer'", timeout=60_000)
        page.click('#gc-tabs [data-panel="party"]')
        page.wait_for_selector("#gc-party-tree")
        page.click('details[data-org="PC1"] > summary')  # open the community's 大党委
        page.click('details[data-org="PG1"] > summary')
        tree = page.inner_text("#gc-party-tree")
        assert "PC1组织" in tree and "PG1组织" in tree and "楼栋党小组" in tree
        assert not any(name in tree for name in NAMES) and "王**" in tree  # the secretary masked
        page.click('button[data-building="B1"]')
        page.wait_for_function("() => gc.partyBuilding === 'B1'", timeout=30_000)
        centre = page.evaluate("() => { const c = gc.map.getCenter(); return [c.lng, c.lat]; }")
        x0, y0, x1, y1 = district()["buildings"].set_index("code").loc["B1"].geometry.bounds
        assert x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1
        assert page.evaluate("() => gc.map.getZoom()") >= 17
        assert log.blocked == [] and log.page_errors == [] and log.console_errors == []


def test_the_console_map_draws_a_dedicated_grid_dashed_and_named(origin: str) -> None:
    with chromium(viewport=(1400, 900), offline=False) as browser:
        page = browser.new_page()
        log = guard_origin(page, origin)
        page.goto(origin + "/")
        page.wait_for_function("() => window.gc && gc.loaded", timeout=60_000)
        assert page.evaluate("() => gc.layers.dedicated === undefined")  # nothing before signing in
        page.fill("#gc-token", VIEWER)
        page.click("#gc-login button")
        page.wait_for_function("() => window.gc && gc.loaded && gc.layers.dedicated", timeout=60_000)
        drawn = page.evaluate(
            """() => gc.layers.dedicated.getLayers().map(l => ({
                   dash: l.options.dashArray, fill: l.options.fill, label: l.getTooltip().getContent(),
                   open: l.isTooltipOpen(), bounds: l.getBounds().toBBoxString()}))"""
        )
        assert drawn == [
            {
                "dash": "8 6",
                "fill": False,
                "label": "PD1组织",
                "open": True,
                "bounds": "114.314,30.504,114.317,30.507",
            }
        ]
        page.evaluate("() => gc.map.fitBounds(gc.layers.dedicated.getBounds().pad(1.5), {animate: false})")
        page.wait_for_timeout(500)
        label = page.locator(".gc-dedicated")
        assert label.count() == 1 and label.inner_text() == "PD1组织" and label.is_visible()
        assert "专属网格" in page.inner_text(".gc-legend")
        overlays = page.evaluate(
            "() => document.querySelector('.leaflet-control-layers-overlays').textContent"
        )
        assert "专属网格" in (overlays or "")
        grid = page.evaluate("() => Object.values(gc.layers.grids._layers)[0].options")
        assert not grid.get("dashArray")  # the base grids stay solid
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "console_dedicated.png"))
        assert log.blocked == [] and log.page_errors == [] and log.console_errors == []
