"""A worker serves at once: lookups, pages and /health before the first analysis is published."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator

import pytest
from fastapi.testclient import TestClient

import api.coverage
from gridmap.analysis import Analysis
from gridmap.serving import Documents
from tests.api.conftest import VIEWER, bearer


@pytest.fixture
def held() -> Iterator[threading.Event]:
    """The first analysis held back until the event is set (released at the end in any case)."""
    release = threading.Event()
    render = api.coverage.documents

    def slow(analysis: Analysis, streets: Collection[str] | None = None) -> Documents:
        release.wait(60)
        return render(analysis, streets)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.coverage, "documents", slow)  # what the builder resolves when it starts
        yield release
    release.set()


def test_requests_are_served_while_the_first_analysis_is_built(
    make_client: Callable[..., TestClient], held: threading.Event
) -> None:
    client = make_client(startup_wait_seconds=0.0)
    viewer = bearer(VIEWER)

    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["analysis"] == "building" and "counts" not in health.json()
    point = client.get("/lookup", params={"lon": 114.3045, "lat": 30.5045})
    assert point.status_code == 200 and point.json()["grid"]["code"] == "G1"
    page = client.get("/collections/grids/items", params={"limit": 2}, headers=viewer)
    assert page.status_code == 200 and len(page.json()["features"]) == 2

    waiting = client.get("/coverage", headers=viewer)
    assert waiting.status_code == 503
    assert waiting.headers["Retry-After"] == "5"
    assert waiting.json()["code"] == "not_ready"
    assert client.get("/coverage/gaps", headers=viewer).status_code == 503

    held.set()
    deadline = time.monotonic() + 60
    while client.get("/health").json()["analysis"] != "published":
        assert time.monotonic() < deadline, "the first analysis was not published"
        time.sleep(0.1)
    assert client.get("/health").json()["counts"]["grids"] == 3
    covered = client.get("/coverage", headers=viewer)
    assert covered.status_code == 200 and covered.json()["totals"]["households"] > 0


def test_a_server_told_to_wait_takes_requests_only_with_the_analysis(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(startup_wait_seconds=900.0)
    assert client.get("/health").json()["analysis"] == "published"
    assert client.get("/coverage", headers=bearer(VIEWER)).status_code == 200
