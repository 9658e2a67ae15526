"""The console in headless Debian Chromium against a real server, with every other host cut off.

A planner signs in, searches an address, opens its grid and reads the action
list, then signs out; an editor drags a speaker and the grid's coverage
figure changes; an anonymous visitor sees no personal data. Screenshots go
to artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from playwright.sync_api import BrowserContext, Page

from api.main import create_app
from api.settings import ApiSettings
from gridmap.analysis import analyze
from gridmap.catalogue import LAYER_NAMES
from gridmap.crs import metric_crs
from gridmap.maps.styles import measure_colors
from gridmap.sample import load_sample
from gridmap.stores import open_store
from gridmap.topology import check_grids
from gridmap.vocabulary import MEASURES
from tests.api.serving import running_app
from tests.conftest import emptied
from tests.maps.browser import CHROMIUM, PageLog, chromium, guard_origin
from tests.maps.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)", allow_module_level=True)

VIEWER = "console-viewer-0123456789"
EDITOR = "console-editor-0123456789"
COMMUNITY = "420106001003"  # 4 working speakers; its grid 004 has the community's largest speaker gap
GAP_GRID = "420106001003004"
PHONE = re.compile(r"\b1[3-9]\d{9}\b")  # a whole mobile number (codes here start with 4 or letters)


@pytest.fixture(scope="module", params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """`(origin, store url)` of a real uvicorn server over the sample district, on a free loopback port."""
    if request.param == "gpkg":
        url = str(tmp_path_factory.mktemp("console") / "sample.gpkg")
    else:
        url = emptied(request.getfixturevalue("postgis_url"))
    with open_store(url) as store:
        load_sample(store)
    tokens = {
        VIEWER: {"role": "viewer", "name": "王规划"},
        EDITOR: {"role": "editor", "communities": [COMMUNITY], "name": "李网格"},
    }
    app = create_app(ApiSettings(store=url, tokens=json.dumps(tokens)))  # type: ignore[call-arg]
    with running_app(app) as origin:
        yield origin, url


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """Where screenshots are kept for people to look at (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with chromium(viewport=(1400, 900), offline=False) as context:
        yield context


def _open(browser: BrowserContext, origin: str) -> tuple[Page, PageLog, list[str]]:
    browser.clear_cookies()  # cookies ignore ports: each test starts signed out
    page = browser.new_page()
    log = guard_origin(page, origin)
    bodies: list[str] = []
    page.on("response", lambda r: bodies.append(r.url) if "/collections/" in r.url else None)
    page.goto(origin + "/")
    page.wait_for_function("() => window.gc && gc.loaded", timeout=60_000)
    return page, log, bodies


def _sign_in(page: Page, token: str) -> None:
    page.fill("#gc-token", token)
    page.click("#gc-login button")
    page.wait_for_function("() => window.gc && gc.loaded && gc.state.role !== 'anonymous'", timeout=60_000)


def _search(page: Page, text: str) -> None:
    page.fill("#gc-q", text)
    page.press("#gc-q", "Enter")
    page.wait_for_selector("#gc-actions, #gc-panel-grid h2", timeout=60_000)


def _clean(log: PageLog) -> None:
    assert log.blocked == [], "requests tried to leave the machine"
    assert log.page_errors == [] and log.console_errors == []


def test_planner_signs_in_finds_an_address_reads_the_action_list_and_signs_out(
    browser: BrowserContext, server: tuple[str, str], artifacts: Path
) -> None:
    origin, url = server
    with open_store(url) as store:
        buildings = store.read("buildings")
    address = str(buildings.loc[buildings["code"].str.startswith(GAP_GRID), "address"].iloc[0])
    page, log, requested = _open(browser, origin)
    _sign_in(page, VIEWER)
    assert "王规划" in page.inner_text("#gc-role")
    _search(page, address)
    panel = page.inner_text("#gc-panel-grid")
    assert GAP_GRID in panel and "评级原因" in panel and "广播覆盖率" in page.inner_text("#gc-reasons")
    actions = page.inner_text("#gc-actions")
    assert "建议新增广播站点" in actions and "新增覆盖" in actions
    assert re.search(r"共 242 户", actions)  # the grid's own count of households without a speaker
    assert re.search(r"\d{3}\*{4}\d{4}", actions) and not PHONE.search(
        actions
    )  # contacts masked for a viewer
    assert page.locator(".gc-site").count() >= 1  # proposed sites, numbered on the map
    page.screenshot(path=str(artifacts / "console_grid.png"))
    # Households and buildings come as vector tiles, never as a whole GeoJSON layer.
    assert not [u for u in requested if "/collections/households" in u or "/collections/buildings" in u]
    page.click("#gc-logout")
    page.wait_for_function("() => window.gc && gc.loaded && gc.state.role === 'anonymous'", timeout=60_000)
    assert page.locator("#gc-token").is_visible()
    _clean(log)
    page.close()


def test_anonymous_visitor_sees_no_personal_data(
    browser: BrowserContext, server: tuple[str, str], artifacts: Path
) -> None:
    origin, _ = server
    page, log, _ = _open(browser, origin)
    texts: list[str] = []
    page.on(
        "response", lambda r: texts.append(r.text()) if "json" in r.headers.get("content-type", "") else None
    )
    _search(page, GAP_GRID)
    page.wait_for_timeout(300)
    panel = page.inner_text("#gc-panel-grid")
    assert GAP_GRID in panel and "网格员电话" not in panel and "评级原因" not in panel
    assert page.evaluate("gc.layers.households === undefined")
    assert texts and not any(PHONE.search(t) or "contact_name" in t or "worker_name" in t for t in texts)
    page.screenshot(path=str(artifacts / "console_anonymous.png"))
    _clean(log)
    page.close()


def test_editor_drags_a_speaker_and_the_coverage_figure_changes(
    browser: BrowserContext, server: tuple[str, str], artifacts: Path
) -> None:
    origin, url = server
    with open_store(url) as store:
        frames = {name: store.read(name) for name in LAYER_NAMES}
    grid = frames["grids"].set_index("code").loc[GAP_GRID]
    target = grid.geometry.representative_point()
    speakers = frames["speakers"]
    working = speakers[(speakers["status"] == "working") & speakers["grid_code"].str.startswith(COMMUNITY)]
    metric = metric_crs(working)
    shifted = gpd.GeoSeries([target], crs=working.crs).to_crs(metric).iloc[0]
    nearest = working.iloc[int(working.to_crs(metric).geometry.distance(shifted).to_numpy().argmin())]
    before = analyze(frames).grids.set_index("code").loc[GAP_GRID, "speaker_share"]

    page, log, _ = _open(browser, origin)
    _sign_in(page, EDITOR)
    _search(page, GAP_GRID)
    assert page.inner_text("#gc-speaker-share") == f"{before * 100:.1f}%"
    page.evaluate(
        "([a, b]) => { gc.map.fitBounds(L.latLngBounds([a, b]).pad(0.4), {animate: false}); }",
        [[nearest.geometry.y, nearest.geometry.x], [target.y, target.x]],
    )
    code = str(nearest["code"])
    page.wait_for_function(f"() => !!gc.layers.speakers.byCode[{json.dumps(code)}]", timeout=30_000)
    page.click("#gc-move")
    box = page.locator("#gc-map").bounding_box()
    assert box is not None

    def screen(lat: float, lon: float) -> tuple[float, float]:
        x, y = page.evaluate(
            "([a, b]) => { const p = gc.map.latLngToContainerPoint([a, b]); return [p.x, p.y]; }", [lat, lon]
        )
        return box["x"] + x, box["y"] + y

    sx, sy = screen(nearest.geometry.y, nearest.geometry.x)
    tx, ty = screen(target.y, target.x)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=5)
    page.mouse.move(tx, ty, steps=5)
    page.mouse.up()
    page.wait_for_function(
        f"() => document.querySelector('#gc-speaker-share') && "
        f"document.querySelector('#gc-speaker-share').textContent !== {json.dumps(f'{before * 100:.1f}%')}",
        timeout=60_000,
    )
    after = float(page.inner_text("#gc-speaker-share").rstrip("%"))
    assert after > before * 100
    with open_store(url) as store:
        moved = store.read("speakers", codes=[code]).geometry.iloc[0]
    dropped = gpd.GeoSeries([moved, target], crs="EPSG:4326").to_crs(metric)
    assert dropped.iloc[0].distance(dropped.iloc[1]) < 30  # metres from where it was dropped
    assert "已保存" in page.inner_text("#gc-panel-grid")
    page.screenshot(path=str(artifacts / "console_editor.png"))
    _clean(log)
    page.close()


def test_editor_sees_the_topology_check_before_saving_a_redrawn_grid(
    browser: BrowserContext, server: tuple[str, str], artifacts: Path
) -> None:
    origin, url = server
    page, log, _ = _open(browser, origin)
    _sign_in(page, EDITOR)
    _search(page, GAP_GRID)
    fills = (
        "() => { const out = {}; gc.layers.grids.eachLayer(l => {"
        " out[l.feature.properties.code] = l.options.fillColor; }); return out; }"
    )
    with open_store(url) as store:
        grids = analyze({name: store.read(name) for name in LAYER_NAMES}).grids
    # The measure switch recolours every grid on the map by its own grade on that measure.
    for measure in ("speaker", "linkage"):
        page.select_option("#gc-measure", measure)
        shown = page.evaluate(fills)
        column = MEASURES[measure].column
        expected = dict(zip(grids["code"], measure_colors(grids[column], column), strict=True))
        assert len(shown) > 10 and shown == {code: expected[code] for code in shown}
    page.click("#gc-redraw")
    page.wait_for_selector("#gc-check")
    # Every vertex of the sample's grids is shared with a neighbour. Take one shared only with grids of
    # the editor's community: dragging it moves that corner for both grids at once.
    shared = page.evaluate(
        """([code, community]) => {
          const ring = f => (f.geometry.type === "MultiPolygon" ? f.geometry.coordinates[0][0]
                                                                 : f.geometry.coordinates[0]).slice(0, -1);
          const key = p => p[0].toFixed(7) + "," + p[1].toFixed(7);
          for (const p of ring(gc.grids[code])) {
            const holders = Object.keys(gc.grids).filter(c => ring(gc.grids[c]).some(q => key(q) === key(p)));
            const ours = holders.every(c => gc.grids[c].properties.community_code === community);
            if (holders.length === 2 && ours) {
              const r = gc.map.getContainer().getBoundingClientRect();
              const at = gc.map.latLngToContainerPoint([p[1], p[0]]);
              return {holders: holders, x: r.left + at.x, y: r.top + at.y};
            }
          }
          return null;
        }""",
        [GAP_GRID, COMMUNITY],
    )
    assert shared is not None and GAP_GRID in shared["holders"]
    (neighbour,) = set(shared["holders"]) - {GAP_GRID}
    assert "相邻" in page.inner_text("#gc-edit-status")  # the editor is told the neighbours move too
    centre = page.evaluate(
        "(code) => { const c = gc.map.latLngToContainerPoint("
        "L.geoJSON(gc.grids[code]).getBounds().getCenter());"
        " const r = gc.map.getContainer().getBoundingClientRect(); return [r.left + c.x, r.top + c.y]; }",
        GAP_GRID,
    )
    x, y = shared["x"], shared["y"]
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + (centre[0] - x) * 0.3, y + (centre[1] - y) * 0.3, steps=6)
    page.mouse.up()
    page.click("#gc-check")
    page.wait_for_selector("#gc-findings li, #gc-findings p")
    # The neighbour moved with it: no overlap, no gap, and the two can be saved together.
    assert "拓扑检查通过" in page.inner_text("#gc-findings") and page.locator("#gc-save").is_enabled()
    page.screenshot(path=str(artifacts / "console_redraw_check.png"))
    with open_store(url) as store:
        before = store.read("grids", codes=[GAP_GRID, neighbour]).set_index("code").geometry
    page.click("#gc-save")
    page.get_by_text("已保存网格").first.wait_for(timeout=60_000)
    with open_store(url) as store:
        after = store.read("grids", codes=[GAP_GRID, neighbour]).set_index("code").geometry
        mine = store.read("grids")
        mine = mine[mine["community_code"] == COMMUNITY]
        communities = store.read("communities", codes=[COMMUNITY])
    assert all(not before[c].equals(after[c]) for c in (GAP_GRID, neighbour))  # both redrawn
    kinds = set(check_grids(mine, communities)["kind"].astype(str))
    assert not kinds & {"overlap", "gap", "outside"}
    _clean(log)
    # An address that matches nothing is said in Chinese, not with the API's English detail.
    page.fill("#gc-q", "火星路1号")
    page.press("#gc-q", "Enter")
    page.wait_for_selector("#gc-results .gc-warn")
    said = page.inner_text("#gc-results .gc-warn")
    assert said.startswith("未找到“火星路1号”") and not re.search(r"[A-Za-z]{3,}", said)
    page.close()
