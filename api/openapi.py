"""Serve the OpenAPI description as version 3.0 (the OGC API – Features OAS30 class).

FastAPI emits OpenAPI 3.1 (JSON Schema 2020-12); clients that implement the
OGC conformance class expect 3.0, so the few 3.1-only constructs are rewritten.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel

OPENAPI_VERSION = "3.0.3"
MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"


def _null_free(options: list[Any]) -> tuple[list[Any], bool]:
    kept = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
    return kept, len(kept) != len(options)


def _schema_30(node: Any) -> Any:
    """Rewrite one JSON Schema 2020-12 node (recursively) into its OpenAPI 3.0 form."""
    if isinstance(node, list):
        return [_schema_30(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _schema_30(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        if key in out and isinstance(out[key], list):
            kept, had_null = _null_free(out[key])
            if had_null:
                out["nullable"] = True
                if len(kept) == 1:
                    del out[key]
                    only = kept[0]
                    if "$ref" in only:
                        out["allOf"] = [only]
                    else:
                        out = {**only, **out}
                else:
                    out[key] = kept
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        if len(types) != len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0] if types else "string"
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
            out[plain] = out[bound]
            out[bound] = True
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "contentMediaType" in out:
        out.pop("contentMediaType")
        out["format"] = "binary"
    return out


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` inlined, for request bodies declared by hand."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(n) for n in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return resolve(defs[ref.removeprefix("#/$defs/")])
        return {k: resolve(v) for k, v in node.items()}

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def _walk(node: Any) -> Any:
    """Find every `schema` object of the document and rewrite it."""
    if isinstance(node, list):
        return [_walk(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "schema":
            out[key] = _schema_30(value)
        elif key == "schemas" and isinstance(value, dict):
            out[key] = {name: _schema_30(s) for name, s in value.items()}
        else:
            out[key] = _walk(value)
    return out


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error: what went wrong, a short code, and for a 422 or 400 the fields at fault.",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["reason"],
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "reason": {"type": "string"},
                    "row": {"type": "integer", "nullable": True},
                    "code": {"type": "string", "nullable": True},
                    "location": {"type": "string"},
                },
            },
        },
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERRORS = {
    "401": "The token (Bearer, or the Basic password) is unknown, or the session ended",
    "403": "The caller's role may not do this",
    "404": "No such layer, feature or resource",
    "422": "A parameter or the body is invalid; `errors` names each field",
}
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "patch", "head")


def _document_errors(doc: dict[str, Any]) -> None:
    """Every operation declares the error body it really sends (not FastAPI's HTTPValidationError), and
    the 401, 403, 404 and 422 any of them can answer."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name in _FASTAPI_422:
        schemas.pop(name, None)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                if status == "404" and "{" not in path and status not in responses:
                    continue
                declared = responses.setdefault(status, {"description": description})
                declared["content"] = {"application/json": {"schema": ERROR_REF}}


def openapi_30(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document in 3.0 form, built once and cached on the app."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        doc = _walk(doc)
        _document_errors(doc)
        doc["openapi"] = OPENAPI_VERSION
        app.openapi_schema = doc
    return app.openapi_schema


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /openapi.json and /docs) serve the 3.0 document.

    /openapi.json is sent as the media type its `service-desc` link names
    (OGC API – Features /req/oas30/oas-impl), not as plain JSON.
    """
    app.openapi = lambda: openapi_30(app)  # type: ignore[method-assign]
    path = app.openapi_url or "/openapi.json"
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != path]

    async def document(_: Request) -> Response:
        return JSONResponse(app.openapi(), media_type=MEDIA_TYPE)

    app.add_route(path, document, methods=["GET"], include_in_schema=False)
