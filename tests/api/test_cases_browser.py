"""The case inbox in headless Chromium against a real server, on both stores.

A resident reports a case at an address from the console; the community's
editor accepts and dispatches it, the department handles it, the editor
checks and closes it, each from their own inbox; the statistics table shows
the closed case, and the case is drawn on the map with its grid selected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from api.main import create_app
from api.settings import ApiSettings
from gridmap.stores import open_store
from tests.api.conftest import district
from tests.api.serving import running_app
from tests.api.test_console_browser import _clean, _open, _sign_in, artifacts, browser
from tests.cases.conftest import ADDRESS_G1, empty_book
from tests.conftest import emptied

pytestmark = pytest.mark.browser
__all__ = ["artifacts", "browser"]  # fixtures shared with the console's browser tests

EDITOR = "cases-editor-c1-0123456789"
CITY = "cases-department-0123456789"
TOKENS = {
    EDITOR: {"role": "editor", "communities": ["C1"], "name": "幸福社区网格长"},
    CITY: {"role": "department", "departments": ["cgj"], "name": "城管中队"},
}


@pytest.fixture(scope="module", params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The origin of a real uvicorn server over the small test district, no cases yet."""
    if request.param == "gpkg":
        url = str(tmp_path_factory.mktemp("cases-console") / "district.gpkg")
    else:
        url = emptied(request.getfixturevalue("postgis_url"))
    with open_store(url) as store:
        store.replace_many(district())
        empty_book(store)
    app = create_app(ApiSettings(store=url, tokens=json.dumps(TOKENS)))  # type: ignore[call-arg]
    with running_app(app) as origin:
        yield origin


def _inbox(page: Page) -> None:
    page.click('#gc-tabs [data-panel="cases"]')
    page.wait_for_selector("#gc-case-report", timeout=60_000)


def _step(page: Page, code: str, action: str, status_zh: str) -> None:
    page.click(f'button[data-code="{code}"][data-action="{action}"]')
    page.wait_for_function(
        "([code, zh]) => { const row = document.querySelector(`tr[data-row='${code}'] .gc-case-status`);"
        " return row && row.textContent.startsWith(zh); }",
        arg=[code, status_zh],
        timeout=60_000,
    )


def _closed(page: Page) -> str:
    return page.inner_text("#gc-case-stats tr[data-stat='C1'] .gc-stat-closed")


def test_report_dispatch_handle_check_close_from_the_console(
    browser: BrowserContext, server: str, artifacts: Path
) -> None:
    page, log, _ = _open(browser, server)
    _inbox(page)
    page.select_option("#gc-case-category", "0102")
    page.fill("#gc-case-address", ADDRESS_G1)
    page.fill("#gc-case-description", "楼下垃圾堆放")
    page.click("#gc-case-report button[type=submit]")
    page.wait_for_function("() => document.getElementById('gc-case-reported').textContent.includes('已上报')")
    assert "网格 G1" in page.inner_text("#gc-case-reported")
    code = str(page.evaluate("gc.lastCase"))
    assert page.locator("#gc-case-stats").count() == 0  # a visitor reports, but reads no inbox
    _clean(log)
    page.close()

    page, log, _ = _open(browser, server)
    _sign_in(page, EDITOR)
    _inbox(page)
    assert _closed(page) == "0"
    _step(page, code, "accept", "立案")
    _step(page, code, "dispatch", "派遣")
    _clean(log)
    page.close()

    page, log, _ = _open(browser, server)
    _sign_in(page, CITY)
    _inbox(page)
    assert page.locator(f"tr[data-row='{code}']").count() == 1
    assert page.locator(f'button[data-code="{code}"][data-action="check"]').count() == 0
    _step(page, code, "handle", "处置")
    _clean(log)
    page.close()

    page, log, _ = _open(browser, server)
    _sign_in(page, EDITOR)
    _inbox(page)
    _step(page, code, "check", "核查")
    _step(page, code, "close", "结案")
    assert _closed(page) == "1"
    page.click(f"a[data-show='{code}']")
    page.wait_for_function(
        "() => gc.current === 'G1' && gc.layers.cases.getLayers().length === 1", timeout=30_000
    )
    page.screenshot(path=str(artifacts / "console_cases.png"))
    _clean(log)
    page.close()


def test_heat_map_of_cases_by_category_and_month(
    browser: BrowserContext, server: str, artifacts: Path
) -> None:
    page, log, _ = _open(browser, server)
    _sign_in(page, EDITOR)
    _inbox(page)
    for description in ("占道经营", "占道经营又来了"):
        page.select_option("#gc-case-category", "0102")
        page.fill("#gc-case-address", ADDRESS_G1)
        page.fill("#gc-case-description", description)
        page.click("#gc-case-report button[type=submit]")
        page.wait_for_function(
            "() => document.getElementById('gc-case-reported').textContent.includes('已上报')"
        )
        page.evaluate("document.getElementById('gc-case-reported').textContent = ''")
    page.select_option("#gc-case-kind", "01")
    page.click("#gc-case-spread")
    page.wait_for_function("() => document.getElementById('gc-case-spread-note').textContent.includes('件')")
    shown = page.inner_text("#gc-case-spread-note")
    assert shown.startswith("共 ") and int(shown.split()[1]) >= 2
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1  # drawn by Leaflet.heat
    page.screenshot(path=str(artifacts / "console_cases_heat.png"))
    page.select_option("#gc-case-kind", "05")  # 突发事件: none reported
    page.click("#gc-case-spread")
    page.wait_for_function("() => document.getElementById('gc-case-spread-note').textContent === '共 0 件'")
    _clean(log)
    page.close()
