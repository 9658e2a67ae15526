"""Bounded requests: oversized bodies are a 413 before parsing, deep JSON a 422, and every error is JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.limits import DEFAULT_MAX_BODY_BYTES, json_depth
from tests.api.conftest import ADMIN, bearer

ADMIN_JSON = {**bearer(ADMIN), "content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{", "b": "\\"[["}', 1),
        (b"[" * 50_000, 50_000),
        (b"3", 0),
    ],
)
def test_json_depth_ignores_brackets_in_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


_tricky = st.text(alphabet='[]{}"\\ab\n', max_size=6)
_values = st.recursive(
    _tricky | st.integers() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_tricky, inner, max_size=3),
    max_leaves=20,
)


@given(_values)
def test_json_depth_agrees_with_the_parsed_value(value: object) -> None:
    assert json_depth(json.dumps(value).encode()) == _depth(value)


def test_a_deep_body_is_a_json_422_on_every_route(client: TestClient) -> None:
    for url in ("/collections/speakers/items", "/lookup/batch"):
        response = client.post(url, content=b"[" * 50_000, headers=ADMIN_JSON)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid"
        assert "nested 50000 deep" in response.json()["detail"]
    # A legal GeoJSON MultiPolygon nests 8 deep and goes through.
    grid = {
        "type": "Feature",
        "id": "GDEEP",
        "properties": {"name": "新网格", "community_code": "C1"},
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[[[114.300, 30.500], [114.301, 30.500], [114.301, 30.501], [114.300, 30.500]]]],
        },
    }
    assert client.post("/collections/grids/items", json=grid, headers=bearer(ADMIN)).status_code == 201


def test_an_oversized_body_is_a_413_before_parsing(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=4096)
    big = json.dumps({"type": "FeatureCollection", "features": [], "pad": "x" * 5000}).encode()
    response = client.post("/collections/speakers/items", content=big, headers=ADMIN_JSON)
    assert response.status_code == 413
    assert response.json() == {
        "detail": "the request body is over the limit of 4,096 bytes (GRIDMAP_MAX_BODY_BYTES)",
        "code": "too_large",
    }

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        for _ in range(10):
            yield b" " * 1000

    streamed = client.post("/lookup/batch", content=chunks(), headers=ADMIN_JSON)
    assert streamed.status_code == 413
    assert client.get("/collections/speakers/items").status_code == 200


def test_the_default_limit_fits_the_largest_legal_batch() -> None:
    """10,000 households with every field (the write limit), as a client would send them."""
    feature = {
        "type": "Feature",
        "id": "H0000001",
        "properties": {
            "code": "H0000001",
            "address": "湖北省武汉市武昌区幸福街道幸福社区幸福路188号12栋3单元1203室",
            "building_code": "B0000001",
            "unit": "3",
            "room": "1203",
            "size": 3,
            "party_member": True,
            "center_household": False,
            "contact_name": "欧阳某某",
            "contact_phone": "13812341234",
        },
        "geometry": {"type": "Point", "coordinates": [114.30412345678, 30.50412345678]},
    }
    body = json.dumps({"type": "FeatureCollection", "features": [feature] * 10_000}, indent=2)
    assert len(body.encode()) < DEFAULT_MAX_BODY_BYTES


def test_every_error_is_json(reader: TestClient) -> None:
    for method, url in (("GET", "/no-such-route"), ("PATCH", "/collections/speakers")):
        response = reader.request(method, url)
        assert response.status_code in (404, 405)
        assert response.headers["content-type"].startswith("application/json")
    broken = reader.post("/collections/speakers/items", content=b'{"type": ', headers=ADMIN_JSON)
    assert broken.status_code == 422
    assert broken.headers["content-type"].startswith("application/json")


def test_an_unexpected_failure_is_a_json_500_without_its_text(client: TestClient) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals at /srv/gridmap")

    original = store.revision  # /health's one store read
    store.revision = explode
    try:
        response = client.get("/collections/speakers/items/K1")
        assert response.status_code == 200
        health = client.get("/health")
    finally:
        store.revision = original
    assert health.status_code == 500
    assert health.json() == {"detail": "internal error; the server log has the details", "code": "internal"}


NULS: list[tuple[str, str, dict[str, Any], str]] = [
    ("get", "/collections/grids/items/G1%00", {}, "path"),
    ("get", "/cases/C%00", {}, "path"),
    ("get", "/collections/grids/items?community_code=C1%00", {}, "community_code"),
    ("get", "/lookup?address=%E5%B9%B8%00", {}, "address"),
    ("get", "/history?layer=grids&code=G%001", {}, "code"),
    (
        "post",
        "/cases",
        {"json": {"category": "0102", "lon": 114.302, "lat": 30.502, "description": "a\0b"}},
        "description",
    ),
    (
        "put",
        "/collections/speakers/items/K1",
        {
            "json": {
                "type": "Feature",
                "geometry": None,
                "properties": {"code": "K1", "name": "喇叭\0", "status": "working"},
            }
        },
        "properties.name",
    ),
    (
        "post",
        "/lookup/batch",
        {"content": "address\n幸福\0路\n", "headers": {"content-type": "text/csv"}},
        "body",
    ),
    ("post", "/login", {"data": {"token": "abc\0def0123456789"}}, "body"),
]


def test_a_nul_anywhere_is_a_422_naming_where(reader: TestClient) -> None:
    """PostGIS answered 503 "store unavailable" to a NUL (6 routes); the GeoPackage stored it in case text."""
    failures = []
    for method, path, extra, field in NULS:
        options = dict(extra)
        headers = {**bearer(ADMIN), **options.pop("headers", {})}
        reply = reader.request(method.upper(), path, headers=headers, **options)
        if reply.status_code != 422 or reply.json()["errors"][0]["field"] != field:
            failures.append((path, field, reply.status_code, reply.text[:200]))
    assert failures == []
    cases = reader.get("/cases", headers=bearer(ADMIN)).json()["cases"]
    assert [c for c in cases if c["source"] != "system"] == []  # only those gridmap opens itself
