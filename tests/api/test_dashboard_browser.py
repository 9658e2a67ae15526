"""The 街道网格化综合管理中心 dashboard in headless Chromium against a real server, on both stores.

The store holds four cases of today (Beijing): A and B of G1 dispatched and due a minute after
midnight (due today, overdue), C of G1 closed and awaiting its follow-up, D of G3 just reported. The
editor of C1 sees due today 2, overdue 2, awaiting 1, no broken speaker, response 100 % (A) and
resolution 1 / 3 (D); the admin also sees D, the broken speaker K2 and the repair ticket the server
opens for it (accepted at once, due tomorrow): response 4 / 5 (C), resolution 1 / 5.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from playwright.sync_api import BrowserContext, Page

from api.main import create_app
from api.settings import ApiSettings
from gridmap.stores import open_store
from gridmap.stores.cases import EVENT_COLUMNS
from tests.api.conftest import district
from tests.api.serving import running_app
from tests.api.test_console_browser import _clean, _open, _sign_in, artifacts, browser
from tests.conftest import emptied

pytestmark = pytest.mark.browser
__all__ = ["artifacts", "browser"]

EDITOR = "dash-editor-c1-0123456789"
CENTRE = "dash-admin-centre-0123456789"
TOKENS = {
    EDITOR: {"role": "editor", "communities": ["C1"], "name": "幸福社区网格长"},
    CENTRE: {"role": "admin", "name": "街道指挥中心"},
}


def today_cases() -> pd.DataFrame:
    midnight = dt.datetime.combine(
        dt.datetime.now(ZoneInfo("Asia/Shanghai")).date(), dt.time(), tzinfo=ZoneInfo("Asia/Shanghai")
    ).astimezone(dt.UTC)

    def at(seconds: int) -> dt.datetime:
        return midnight + dt.timedelta(seconds=seconds)

    g1 = {"grid_code": "G1", "community_code": "C1", "street_code": "S1", "category": "0102"}
    dispatched = {**g1, "status": "dispatched", "department": "cgj", "response_on_time": True}
    return pd.DataFrame(
        [
            {**dispatched, "code": "A", "reported_at": at(1), "dispatched_at": at(2), "due_at": at(60)},
            {**dispatched, "code": "B", "reported_at": at(3), "dispatched_at": at(4), "due_at": at(61)},
            {**g1, "code": "C", "status": "closed", "department": "cgj", "reported_at": at(5),
             "response_on_time": True, "closed_at": at(9), "solved_level": "grid"},
            {"code": "D", "grid_code": "G3", "community_code": "C2", "street_code": "S1", "category": "0102",
             "status": "reported", "reported_at": at(6)},
        ]
    )  # fmt: skip


@pytest.fixture(scope="module", params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "gpkg":
        url = str(tmp_path_factory.mktemp("dashboard-console") / "district.gpkg")
    else:
        url = emptied(request.getfixturevalue("postgis_url"))
    with open_store(url) as store:
        store.replace_many(district())
        store.case_book().replace(today_cases(), pd.DataFrame(columns=list(EVENT_COLUMNS)))
    app = create_app(ApiSettings(store=url, tokens=json.dumps(TOKENS)))  # type: ignore[call-arg]
    with running_app(app) as origin, open_store(url) as store:
        for _ in range(600):  # the builder opens K2's repair ticket after its first publish
            if store.case_book().count() == 5:
                break
            time.sleep(0.1)
        yield origin


def _dashboard(page: Page) -> dict[str, str]:
    page.click('#gc-tabs [data-panel="dashboard"]')
    page.wait_for_selector("#gc-dash-counts", timeout=60_000)
    tiles = page.locator(".gc-tile")
    return {
        str(tiles.nth(i).get_attribute("data-count") or tiles.nth(i).get_attribute("data-rate")): tiles.nth(
            i
        ).inner_text()
        for i in range(tiles.count())
    }


def test_the_command_centre_dashboard(browser: BrowserContext, server: str, artifacts: Path) -> None:
    page, log, _ = _open(browser, server)
    _sign_in(page, EDITOR)
    tiles = _dashboard(page)
    assert page.inner_text("#gc-dash-title") == "街道网格化综合管理中心"
    assert [tiles[k].split() for k in ("due_today", "overdue", "awaiting_review", "broken_speakers")] == [
        ["2", "今日到期"],
        ["2", "超期"],
        ["1", "待回访"],
        ["0", "故障广播"],
    ]
    assert tiles["response_rate"].split() == ["100.0%", "响应率", "A"]
    assert tiles["resolution_rate"].split() == ["33.3%", "解决率", "D"]
    assert tiles["satisfaction_rate"].split() == ["—", "满意率"]
    assert "没有故障广播" in page.inner_text("#gc-dash-broken")
    _clean(log)
    page.close()

    page, log, _ = _open(browser, server)
    _sign_in(page, CENTRE)
    tiles = _dashboard(page)
    assert tiles["broken_speakers"].split() == ["1", "故障广播"]
    assert tiles["response_rate"].split() == ["80.0%", "响应率", "C"]
    assert tiles["resolution_rate"].split() == ["20.0%", "解决率", "D"]
    assert tiles["due_today"].split() == ["2", "今日到期"]
    assert "K2" in page.inner_text("#gc-dash-broken") and "和平网格" in page.inner_text("#gc-dash-broken")
    page.screenshot(path=str(artifacts / "console_dashboard.png"))
    _clean(log)
    page.close()
