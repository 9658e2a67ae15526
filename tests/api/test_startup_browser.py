"""The console in Chromium while the server builds its first analysis: it waits, then shows the figures."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

import api.coverage
from api.main import create_app
from api.settings import ApiSettings
from gridmap.analysis import Analysis
from gridmap.serving import Documents
from gridmap.stores import open_store
from tests.api.conftest import district
from tests.api.serving import running_app
from tests.maps.browser import CHROMIUM, chromium, guard_origin

pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)", allow_module_level=True)

VIEWER = "startup-viewer-0123456789"


@pytest.fixture
def held_server(tmp_path: Path) -> Iterator[tuple[str, threading.Event]]:
    """A server whose first analysis waits for the event; `(origin, event)`."""
    url = str(tmp_path / "district.gpkg")
    with open_store(url) as store:
        store.replace_many(district())
    release = threading.Event()
    render = api.coverage.documents

    def slow(analysis: Analysis, streets: Collection[str] | None = None) -> Documents:
        release.wait(120)
        return render(analysis, streets)

    settings = ApiSettings(  # type: ignore[call-arg]
        store=url,
        tokens=json.dumps({VIEWER: {"role": "viewer"}}),
        builder="thread",
        serving_dir=tmp_path / "serving",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.coverage, "documents", slow)
        with running_app(create_app(settings), analysed=False) as origin:
            try:
                yield origin, release
            finally:
                release.set()


def test_the_console_waits_for_the_first_analysis(held_server: tuple[str, threading.Event]) -> None:
    origin, release = held_server
    with chromium(viewport=(1200, 800), offline=False) as context:
        page = context.new_page()
        log = guard_origin(page, origin)
        statuses: list[int] = []
        page.on("response", lambda r: statuses.append(r.status) if "/coverage" in r.url else None)
        page.goto(origin + "/")
        page.wait_for_function("() => window.gc && gc.loaded", timeout=60_000)
        page.fill("#gc-token", VIEWER)
        page.click("#gc-login button")
        page.wait_for_function("() => window.gc && gc.ready && gc.state.role === 'viewer'", timeout=60_000)
        page.wait_for_timeout(1_500)
        assert statuses and set(statuses) == {503}, statuses  # asked, told to wait, no figures yet
        assert not page.evaluate("() => !!(gc.figures && Object.keys(gc.figures).length)")
        release.set()
        page.wait_for_function(
            "() => window.gc && gc.figures && Object.keys(gc.figures).length === 3", timeout=60_000
        )
        assert statuses[-1] == 200
        assert log.page_errors == [] and log.blocked == []
