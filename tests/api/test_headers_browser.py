"""The console, /docs, the maps and the report's HTML still work in headless Chromium under their CSP.

A page the policy breaks logs a "Refused to …" console error and fires
`securitypolicyviolation`; both are collected and must stay empty.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext

from api.main import create_app
from gridmap.stores import open_store
from tests.api.conftest import VIEWER, district, settings_for
from tests.api.serving import running_app
from tests.maps.browser import CHROMIUM, chromium, guard_origin

pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)", allow_module_level=True)

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = str(tmp_path_factory.mktemp("csp") / "district.gpkg")
    with open_store(url) as store:
        store.replace_many(district())
    with running_app(create_app(settings_for(url))) as base:
        yield base


@pytest.fixture(scope="module")
def browser(origin: str) -> Iterator[BrowserContext]:
    with chromium(offline=False) as context:
        context.add_init_script(WATCH)
        signed_in = context.request.post(
            f"{origin}/login",
            data=json.dumps({"token": VIEWER}),
            headers={"Content-Type": "application/json"},
        )
        assert signed_in.ok, signed_in.text()
        yield context


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/", "() => document.querySelector('#gc-map.leaflet-container .leaflet-tile-pane') !== null"),
        ("/docs", "() => document.querySelector('.swagger-ui .opblock') !== null"),
        ("/maps/coverage", "() => window.gridmap && gridmap.renderedAt !== null"),
        ("/maps/grid/G1", "() => window.gridmap && gridmap.renderedAt !== null"),
        ("/reports/district.pdf?html=true", "() => document.querySelector('svg') !== null"),
    ],
)
def test_pages_work_under_their_policy(browser: BrowserContext, origin: str, path: str, ready: str) -> None:
    page = browser.new_page()
    log = guard_origin(page, origin)
    reply = page.goto(f"{origin}{path}", wait_until="load")
    assert reply is not None and reply.ok
    assert "content-security-policy" in reply.headers
    page.wait_for_function(ready, timeout=30_000)  # a function: a string would be eval'd, which CSP refuses
    page.wait_for_timeout(500)
    violations = page.evaluate("window.__csp")
    refused = [e for e in log.console_errors if "Content Security Policy" in e]
    assert violations == [] and refused == [] and log.page_errors == [], (violations, refused, log)
    page.close()
