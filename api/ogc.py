"""Query parameters of the OGC API – Features routes: read, checked (400 naming the parameter), documented.

Parts 1–3 define each parameter's syntax; FastAPI's own validation would
answer 422 and could not express `bbox` as a comma-separated array, so the
routes read `request.query_params` here and declare the parameters in the
OpenAPI document by hand (`ITEMS_PARAMETERS`, `FEATURE_PARAMETERS`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import Request

from api.errors import QueryParameterError
from gridmap import crs_uris, filtering
from gridmap.catalogue import Layer
from gridmap.crs_uris import CrsUri
from gridmap.errors import CRSError
from gridmap.stores import BBox, query
from gridmap.stores.conditions import Condition
from gridmap.texts import Message

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
FORMATS = ("json", "geojson")
FILTER_PARAMS = ("filter", "filter-lang", "filter-crs")
CURSOR_PARAMS = ("after", "before")
ITEMS_PARAMS = ("bbox", "bbox-crs", "crs", "datetime", "limit", "offset", *CURSOR_PARAMS, "f", *FILTER_PARAMS)


@dataclass(frozen=True)
class ItemsQuery:
    """What a request for /items asks, ready for `Store.query`."""

    bbox: BBox | None
    equals: dict[str, query.Value]
    where: Condition | None
    limit: int
    offset: int
    crs: CrsUri
    after: str | None = None
    before: str | None = None


@contextmanager
def named(parameter: str) -> Iterator[None]:
    """A library error about a query parameter becomes a 400 naming it."""
    try:
        yield
    except query.QueryError as exc:
        raise QueryParameterError(str(exc), field=exc.field) from None
    except CRSError as exc:
        raise QueryParameterError(str(exc), field=parameter) from None


def only(request: Request, allowed: Collection[str]) -> None:
    """400 for a query parameter the route does not define (/req/core/query-param-unknown)."""
    for key in request.query_params:
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or Message("case.nothing")
            raise QueryParameterError(Message("api.query.unknown", key=repr(key), known=known), key)
    fmt = request.query_params.get("f")
    if fmt is not None and fmt not in FORMATS:
        raise QueryParameterError(
            Message("api.query.one_of", name="f", choices=", ".join(FORMATS), value=repr(fmt)), "f"
        )


def _integer(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise QueryParameterError(Message("api.query.integer", name=name, value=repr(text)), name) from None
    if value < low or (high is not None and value > high):
        bound = (
            Message("api.query.between", low=low, high=high)
            if high is not None
            else Message("api.query.least", low=low)
        )
        raise QueryParameterError(Message("api.query.bound", name=name, bound=bound, value=value), name)
    return value


def limit(request: Request) -> int:
    """`limit`, capped at MAX_LIMIT (/req/core/fc-limit-response: a larger value is not an error)."""
    return min(_integer(request, "limit", DEFAULT_LIMIT, 1, None), MAX_LIMIT)


def crs(request: Request, name: str = "crs") -> CrsUri:
    """The CRS named by parameter `name` (CRS84 when absent); an unsupported one is a 400."""
    text = request.query_params.get(name)
    if text is None:
        return crs_uris.CRS84
    found = crs_uris.lookup(text)
    if found is None:
        supported = ", ".join(c.uri for c in crs_uris.SUPPORTED)
        raise QueryParameterError(
            Message("api.query.crs", name=name, value=repr(text), supported=supported), name
        )
    return found


def bbox(request: Request) -> BBox | None:
    """`bbox` (4 or 6 numbers, in `bbox-crs`) as a CRS84 box; one crossing the antimeridian is allowed."""
    text = request.query_params.get("bbox")
    if text is None:
        if "bbox-crs" in request.query_params:
            raise QueryParameterError(Message("api.query.without", name="bbox-crs", needs="bbox"), "bbox-crs")
        return None
    source = crs(request, "bbox-crs")
    shape = Message("api.query.bbox_shape")
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise QueryParameterError(shape, "bbox") from None
    if len(parts) not in (4, 6) or not all(math.isfinite(p) for p in parts):
        raise QueryParameterError(shape, "bbox")
    if len(parts) == 6:  # heights are not stored: drop them
        parts = [parts[0], parts[1], parts[3], parts[4]]
    box = (parts[0], parts[1], parts[2], parts[3])
    with named("bbox-crs"):
        if source != crs_uris.CRS84:
            if not source.lat_first and box[0] > box[2]:
                raise QueryParameterError(Message("api.query.bbox_order"), "bbox")
            box = crs_uris.bbox_to_crs84(box, source)
        return query.check_bbox(box)


def datetime_condition(request: Request, spec: Layer) -> Condition | None:
    text = request.query_params.get("datetime")
    if text is None:
        return None
    with named("datetime"):
        interval = filtering.parse_datetime(text)
    return filtering.in_force(spec, interval)


def filter_condition(request: Request, spec: Layer, allowed: Collection[str]) -> Condition | None:
    """`filter` in `filter-lang` (CQL2 text by default), over the properties `allowed`."""
    params = request.query_params
    text = params.get("filter")
    lang = params.get("filter-lang", "cql2-text")
    if lang not in filtering.LANGUAGES:
        choices = ", ".join(filtering.LANGUAGES)
        raise QueryParameterError(
            Message("api.query.one_of", name="filter-lang", choices=choices, value=repr(lang)), "filter-lang"
        )
    filter_crs = params.get("filter-crs")
    if filter_crs is not None and crs_uris.lookup(filter_crs) != crs_uris.CRS84:
        raise QueryParameterError(Message("api.query.filter_crs"), "filter-crs")
    if text is None:
        if "filter-lang" in params:
            raise QueryParameterError(
                Message("api.query.without", name="filter-lang", needs="filter"), "filter-lang"
            )
        return None
    with named("filter"):
        return filtering.cql2(spec, text, lang, allowed)


def items_query(request: Request, spec: Layer, allowed: Collection[str]) -> ItemsQuery:
    """Every parameter of /items; any other name must be a property to compare by equality."""
    params = request.query_params
    only(request, [*ITEMS_PARAMS, *spec.field_names])
    equal_to = {k: v for k, v in params.items() if k not in ITEMS_PARAMS}
    with named("filter"):
        equals = query.typed_equals(spec, equal_to)
    asked = (datetime_condition(request, spec), filter_condition(request, spec, allowed))
    conditions = [c for c in asked if c is not None]
    where = sa.and_(*conditions) if conditions else None
    offset = _integer(request, "offset", 0, 0, query.MAX_OFFSET)
    after, before = cursor(request, offset)
    return ItemsQuery(
        bbox=bbox(request),
        equals=equals,
        where=where,
        limit=limit(request),
        offset=offset,
        crs=crs(request),
        after=after,
        before=before,
    )


def cursor(request: Request, offset: int) -> tuple[str | None, str | None]:
    """`after` / `before`: the keyset cursor of the next and prev links (a code), instead of `offset`."""
    params = request.query_params
    after, before = params.get("after"), params.get("before")
    if after is not None and before is not None:
        raise QueryParameterError(Message("api.query.after_or_before"), "before")
    for name, value in (("after", after), ("before", before)):
        if value is None:
            continue
        if offset:
            raise QueryParameterError(Message("api.query.cursor_offset", name=name), name)
        if not value or any(ord(c) < 32 or c == "\x7f" for c in value):
            raise QueryParameterError(Message("api.query.cursor_code", name=name), name)
    return after, before


# -- the OpenAPI description of the parameters --------------------------------


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": description,
        "schema": schema,
    }


_CRS_SCHEMA = {"type": "string", "format": "uri", "enum": [c.uri for c in crs_uris.SUPPORTED]}
CRS_PARAMETER = _param(
    "crs",
    {**_CRS_SCHEMA, "default": crs_uris.CRS84.uri},
    "Coordinate system of the geometries returned (EPSG:4326 and EPSG:4490 are lat/lon). "
    "urn:gridmap:def:crs:GCJ-02 and BD-09 are gridmap extensions.",
)
F_PARAMETER = _param("f", {"type": "string", "enum": list(FORMATS)}, "Output format (GeoJSON)")
ITEMS_PARAMETERS: list[dict[str, Any]] = [
    _param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        f"Features per page; a larger value is served as {MAX_LIMIT}",
    ),
    _param(
        "offset",
        {"type": "integer", "minimum": 0, "default": 0},
        "Features skipped before the page (older links; the next links carry `after`, as cheap at any depth)",
    ),
    _param(
        "after",
        {"type": "string"},
        "A code: the page holds the features whose codes follow it, in code order (the next link's cursor)",
    ),
    _param(
        "before",
        {"type": "string"},
        "A code: the page holds the `limit` features whose codes precede it (the prev link's cursor)",
    ),
    _param(
        "bbox",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        "minx,miny,maxx,maxy (or with heights: minx,miny,minz,maxx,maxy,maxz) in bbox-crs; "
        "minx > maxx crosses the antimeridian",
    ),
    _param("bbox-crs", {**_CRS_SCHEMA, "default": crs_uris.CRS84.uri}, "Coordinate system of bbox"),
    CRS_PARAMETER,
    _param(
        "datetime",
        {"type": "string"},
        "An RFC 3339 date, date-time or interval (start/end, open with ..): the features in force then "
        "(layers with valid_from/valid_to; other layers are not filtered)",
    ),
    _param("filter", {"type": "string"}, "A CQL2 expression over the layer's queryables"),
    _param(
        "filter-lang",
        {"type": "string", "enum": list(filtering.LANGUAGES), "default": "cql2-text"},
        "Language of filter",
    ),
    _param(
        "filter-crs",
        {"type": "string", "format": "uri", "enum": [crs_uris.CRS84.uri]},
        "CRS of filter geometries",
    ),
    F_PARAMETER,
]
FEATURE_PARAMETERS: list[dict[str, Any]] = [CRS_PARAMETER, F_PARAMETER]
