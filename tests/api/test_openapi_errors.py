"""The OpenAPI document declares the error bodies the API really sends, and the 401/403/404 it answers."""

from __future__ import annotations

import json

import jsonschema
from fastapi.testclient import TestClient

from tests.api.conftest import bearer


def _resolved(doc: dict, schema: dict) -> dict:
    ref = schema.get("$ref", "")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_every_operation_declares_its_errors(reader: TestClient) -> None:
    doc = reader.get("/openapi.json").json()
    text = json.dumps(doc)
    assert "HTTPValidationError" not in text  # FastAPI's shape, which no response had
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"], ref
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            for status in ("401", "403", "422") + (("404",) if "{" in path else ()):
                assert status in operation["responses"], (method, path, status)


def test_error_bodies_match_the_declared_schema(reader: TestClient) -> None:
    doc = reader.get("/openapi.json").json()
    schema = doc["components"]["schemas"]["Error"]
    replies = {
        ("/lookup/batch", "post", "422"): reader.post("/lookup/batch", json={"queries": "x"}),
        ("/collections/{layer}/items/{code}", "get", "404"): reader.get("/collections/grids/items/G404"),
        ("/collections/{layer}/items/{code}", "get", "403"): reader.get("/collections/households/items/H1"),
        ("/coverage", "get", "401"): reader.get("/coverage", headers=bearer("not-a-configured-token-xyz")),
        ("/export/{layer}", "get", "422"): reader.get("/export/grids", params={"format": "dwg"}),
    }
    for (path, method, status), reply in replies.items():
        assert str(reply.status_code) == status, (path, reply.text)
        declared = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        assert _resolved(doc, declared) == schema
        jsonschema.validate(reply.json(), schema)
