"""Security headers on every response: API, errors, static files, console, docs, maps."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.headers import FIXED, INLINE, STRICT
from tests.api.conftest import VIEWER, bearer


@pytest.mark.parametrize(
    ("path", "policy"),
    [
        ("/health", STRICT),
        ("/collections/grids/items", STRICT),
        ("/collections/nowhere/items", STRICT),  # a 404
        ("/static/console/console.js", STRICT),
        ("/docs", INLINE),
        ("/maps/coverage", INLINE),
        ("/reports/district.pdf?html=true", INLINE),
    ],
)
def test_every_response_carries_the_security_headers(reader: TestClient, path: str, policy: str) -> None:
    reply = reader.get(path, headers={**bearer(VIEWER), "Accept": "text/html"})
    assert reply.headers["content-security-policy"] == policy
    for name, value in FIXED.items():
        assert reply.headers[name] == value
    assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy


def test_the_console_may_run_only_its_own_scripts(reader: TestClient) -> None:
    reply = reader.get("/", headers={"Accept": "text/html"})
    assert reply.status_code == 200
    assert "script-src 'self';" in reply.headers["content-security-policy"]


def test_a_refused_body_carries_them_too(reader: TestClient) -> None:
    reply = reader.post("/lookup/batch", content=b"[" * 100, headers={"Content-Type": "application/json"})
    assert reply.status_code == 422
    assert reply.headers["x-content-type-options"] == "nosniff"
