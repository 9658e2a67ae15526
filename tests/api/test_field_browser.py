"""The grid worker's phone page (/field) in headless Chromium at phone size, with mocked geolocation.

张三 works grid G1 (community C1). Online, they record a visit and a patrol; offline, a visit, a
patrol and a case report more, which wait on the phone; back online, those records reach the store
exactly once each. The page shows G1's households only, and the server refuses another community's list.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from playwright.sync_api import BrowserContext, Page

from api.main import create_app
from api.settings import ApiSettings
from gridmap.stores import Store, open_store
from gridmap.stores.cases import CASES_TABLE
from tests.api.conftest import district
from tests.api.serving import running_app
from tests.cases.conftest import empty_book
from tests.conftest import emptied
from tests.maps.browser import chromium, guard_origin
from tests.maps.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

WORKER = "field-worker-zhang-0123456789"
TOKENS = {WORKER: {"role": "editor", "communities": ["C1"], "name": "张三"}}
PHONE = (390, 844)
G1_PLACES = [(30.5045, 114.3045), (30.5050, 114.3060), (30.5060, 114.3070)]


def _layers() -> dict[str, gpd.GeoDataFrame]:
    """The test district with two more households in G1 (H3, H4), every household's grid set."""
    layers = district()
    households = layers["households"]
    extra = households.iloc[[0, 0]].copy()
    extra["code"] = ["H3", "H4"]
    extra["address"] = ["武汉市武昌区幸福路88号3栋2单元201室", "武汉市武昌区幸福路88号3栋2单元202室"]
    extra["center_household"] = False
    extra = extra.set_geometry([shapely.Point(114.3046, 30.5046), shapely.Point(114.3047, 30.5047)])
    households = gpd.GeoDataFrame(pd.concat([households, extra], ignore_index=True), crs=households.crs)
    households["grid_code"] = households["code"].map({"H1": "G1", "H2": "G3", "H3": "G1", "H4": "G1"})
    layers["households"] = households
    return layers


def _empty_field_book(store: Store) -> None:
    """Visits and patrols left by an earlier test in the session's PostGIS database are removed."""
    book = store.visit_book()
    book.replace(pd.DataFrame(), pd.DataFrame())
    book.replace_patrols(pd.DataFrame())


@pytest.fixture(scope="module", params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(origin, store URL) of a real uvicorn server over the test district."""
    if request.param == "gpkg":
        url = str(tmp_path_factory.mktemp("field") / "district.gpkg")
    else:
        url = emptied(request.getfixturevalue("postgis_url"))
    with open_store(url) as store:
        store.replace_many(_layers())
        _empty_field_book(store)
        empty_book(store)
    app = create_app(ApiSettings(store=url, tokens=json.dumps(TOKENS)))  # type: ignore[call-arg]
    with running_app(app) as origin:
        yield origin, url


@pytest.fixture(scope="module")
def phone() -> Iterator[BrowserContext]:
    with chromium(viewport=PHONE, offline=False) as context:
        context.grant_permissions(["geolocation"])
        yield context


def _at(phone: BrowserContext, place: tuple[float, float]) -> None:
    phone.set_geolocation({"latitude": place[0], "longitude": place[1], "accuracy": 5})


def _visit(page: Page, code: str) -> None:
    item = page.locator(f'#fd-due li[data-code="{code}"]')
    item.locator("button.fd-go").click()
    item.locator("button.fd-met").click()
    item.locator(".fd-done").wait_for()


def _patrol(page: Page, phone: BrowserContext) -> None:
    _at(phone, G1_PLACES[0])
    page.click("#fd-patrol")
    for place in G1_PLACES:
        _at(phone, place)
        page.wait_for_function(
            "([lat, lon]) => { const p = JSON.parse(localStorage.getItem('gridmap-field-patrol') || 'null');"
            " return p && p.fixes.some(f => f[0] === lon && f[1] === lat); }",
            arg=list(place),
        )
    page.click("#fd-patrol")


def _waiting(page: Page, count: int) -> None:
    """Wait until the bar says `count` records wait on the phone ("离线 · 待发送 2 条"; none: "在线")."""
    text = f"离线 · 待发送 {count} 条" if count else "在线"
    page.wait_for_function(
        "(text) => document.getElementById('fd-net').textContent === text", arg=text, timeout=30_000
    )


def test_records_made_offline_arrive_once_when_the_signal_returns(
    phone: BrowserContext, server: tuple[str, str]
) -> None:
    origin, url = server
    phone.clear_cookies()
    phone.grant_permissions(["geolocation"], origin=origin)
    page = phone.new_page()
    log = guard_origin(page, origin)
    page.goto(origin + "/field")
    page.fill("#fd-token", WORKER)
    page.click("#fd-login button")
    page.wait_for_selector('#fd-due li[data-code="H1"]', timeout=60_000)
    shown = page.eval_on_selector_all("#fd-due li", "items => items.map(i => i.dataset.code)")
    assert sorted(shown) == ["H1", "H3", "H4"]  # G1's households, never H2 of G3
    refused = page.evaluate("() => fetch('/visits/due?grid=G3').then(r => r.status)")
    assert refused == 403

    _visit(page, "H1")
    _patrol(page, phone)
    _waiting(page, 0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "field.png"), full_page=True)

    phone.set_offline(True)
    _visit(page, "H3")
    _patrol(page, phone)
    page.click("#fd-case")
    page.select_option("#fd-case-category", "0102")
    page.fill("#fd-case-text", "楼道堆放杂物")
    page.click("#fd-case-form button[type=submit]")
    _waiting(page, 3)
    with open_store(url) as store:
        assert len(store.visit_book().visits()) == 1 and len(store.visit_book().patrols()) == 1
    phone.set_offline(False)
    _waiting(page, 0)

    with open_store(url) as store:
        visits = store.visit_book().visits()
        patrols = store.visit_book().patrols()
        cases, _ = store.case_book().query([CASES_TABLE.c.source == "grid_worker"])
    assert sorted(v["household_code"] for v in visits) == ["H1", "H3"]
    assert len({v["key"] for v in visits}) == 2 and {v["visitor"] for v in visits} == {"张三"}
    assert len(patrols) == 2 and len({p["key"] for p in patrols}) == 2
    assert all(p["grid_code"] == "G1" and p["points"] >= 3 and p["inside_m"] > 100 for p in patrols)
    assert [(c["category"], c["grid_code"], c["description"]) for c in cases] == [
        ("0102", "G1", "楼道堆放杂物")
    ]
    assert log.blocked == [] and log.page_errors == []
    page.close()


def test_the_page_is_made_for_a_thumb(phone: BrowserContext, server: tuple[str, str], tmp_path: Path) -> None:
    origin, _ = server
    page = phone.new_page()
    page.goto(origin + "/field")
    page.wait_for_selector('#fd-due li[data-code="H4"]', timeout=60_000)  # H1 and H3 were visited
    heights = page.eval_on_selector_all(
        "button:not([hidden])",
        "bs => bs.filter(b => b.offsetParent).map(b => b.getBoundingClientRect().height)",
    )
    assert heights and min(heights) >= 48
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE[0]  # nothing wider than the phone
    page.close()


def _kept(page: Page, path: str, seconds: float = 30.0) -> None:
    """Wait until the page's service worker keeps the answer to `path`."""
    deadline = time.monotonic() + seconds
    script = "(path) => caches.match(path, {ignoreVary: true}).then(r => !!r)"
    while not page.evaluate(script, path):
        assert time.monotonic() < deadline, f"{path} not kept by the service worker"
        time.sleep(0.1)


def test_the_page_opens_offline_after_a_first_visit(phone: BrowserContext, server: tuple[str, str]) -> None:
    """Opened once online, the page reloads with no signal: today's list from what its service worker
    kept, a visit queued on the phone; back online, that visit reaches the store once."""
    origin, url = server
    phone.clear_cookies()
    page = phone.new_page()
    log = guard_origin(page, origin)
    page.goto(origin + "/field")
    page.fill("#fd-token", WORKER)
    page.click("#fd-login button")
    page.wait_for_selector('#fd-due li[data-code="H4"]', timeout=60_000)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
    shown = page.eval_on_selector_all("#fd-due li", "items => items.map(i => i.dataset.code)")
    for path in ("/field", "/static/console/field.js", "/session", "/visits/due?grid=G1"):
        _kept(page, path)
    with open_store(url) as store:
        before = [v["key"] for v in store.visit_book().visits()]

    phone.set_offline(True)
    assert page.evaluate("() => fetch('/health').then(r => r.status, () => 'no answer')") == "no answer"
    page.reload()
    page.wait_for_selector('#fd-due li[data-code="H4"]', timeout=30_000)
    assert page.eval_on_selector_all("#fd-due li", "items => items.map(i => i.dataset.code)") == shown
    assert page.text_content("#fd-who") == "张三 · 今日工作"
    _visit(page, "H4")
    _waiting(page, 1)
    with open_store(url) as store:
        assert [v["key"] for v in store.visit_book().visits()] == before

    phone.set_offline(False)
    _waiting(page, 0)
    with open_store(url) as store:
        added = [v for v in store.visit_book().visits() if v["key"] not in before]
    assert [(v["household_code"], v["visitor"]) for v in added] == [("H4", "张三")]
    assert log.blocked == [] and log.page_errors == []
    page.close()
