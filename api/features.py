"""OGC API – Features (Core, GeoJSON, OpenAPI 3.0) over the seven catalogue layers, plus writes.

Collection names come only from the catalogue (`get_layer` is the allow-list);
filters compare catalogue fields with bound values, never SQL text: the store
cuts each page in the database (`Store.query`), so a page costs the same
whatever the layer's size.
Writes go through the importer's validation and write (`import_source`, from memory), so an edit is
checked exactly like a file import and a bad one changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Body, Header, Path, Request, Response
from fastapi.responses import JSONResponse

from api import ogc, openapi
from api.auth import Caller, Principal
from api.errors import BadRequestError, PreconditionFailedError
from gridmap import crs_uris, filtering
from gridmap.catalogue import LAYER_NAMES, Layer, get_layer
from gridmap.errors import ConflictError, NotFoundError, PermissionDeniedError, Problem, ValidationError
from gridmap.export import geojson_features, record_features
from gridmap.frames import empty_frame
from gridmap.ingest import Mode, features_source, import_source
from gridmap.ingest.values import text_problems
from gridmap.privacy import PUBLIC_HIDDEN, Role, protect, protect_records
from gridmap.stores import BBox, Receipt, Store, query, receipt
from gridmap.stores.query import PageRequest, Records
from gridmap.texts import Message

router = APIRouter(tags=["features"])

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
OPENAPI_JSON = openapi.MEDIA_TYPE
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]
MAX_WRITE = 10_000
# Documented as an enum so clients see the allowed names; checked by `get_layer` (404 when unknown).
LayerParam = Annotated[
    str, Path(description="A layer of the catalogue", json_schema_extra={"enum": list(LAYER_NAMES)})
]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _json(body: dict[str, Any], media_type: str = "application/json", status: int = 200) -> JSONResponse:
    return JSONResponse(body, media_type=media_type, status_code=status)


@router.get("/", summary="Landing page")
async def landing(request: Request) -> JSONResponse:
    """Links to the API description, the conformance classes and the collections."""
    ogc.only(request, ["f"])
    base = _base(request)
    return _json(
        {
            "title": "gridmap",
            "description": "Community grid governance layers (网格化管理) as OGC API – Features",
            "links": [
                {"href": f"{base}/", "rel": "self", "type": "application/json", "title": "This document"},
                {
                    "href": f"{base}/openapi.json",
                    "rel": "service-desc",
                    "type": OPENAPI_JSON,
                    "title": "The API definition",
                },
                {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html", "title": "API docs"},
                {
                    "href": f"{base}/conformance",
                    "rel": "conformance",
                    "type": "application/json",
                    "title": "Conformance classes",
                },
                {"href": f"{base}/collections", "rel": "data", "type": "application/json", "title": "Layers"},
            ],
        }
    )


@router.get("/conformance", summary="Conformance classes")
async def conformance(request: Request) -> JSONResponse:
    ogc.only(request, ["f"])
    return _json({"conformsTo": CONFORMANCE})


_EXTENTS: dict[tuple[int, str], tuple[str, tuple[BBox | None, str | None]]] = {}


def _stored_extent(store: Store, layer: str) -> tuple[BBox | None, str | None]:
    """`Store.extent`, worked out again only when the store has changed (a city's layer takes a scan)."""
    revision = store.revision()
    known = _EXTENTS.get((id(store), layer))
    if known is None or known[0] != revision:
        known = (revision, store.extent(layer))
        _EXTENTS[(id(store), layer)] = known
    return known[1]


def _extent(store: Store, spec: Layer) -> dict[str, Any]:
    """The spatial extent (CRS84) and, for layers with validity dates, the temporal one."""
    box, first_day = _stored_extent(store, spec.name)
    extent: dict[str, Any] = {
        "spatial": {"bbox": [list(box) if box else [-180.0, -90.0, 180.0, 90.0]], "crs": crs_uris.CRS84.uri}
    }
    if filtering.has_validity(spec):
        start = f"{first_day}T00:00:00+08:00" if first_day else None
        extent["temporal"] = {
            "interval": [[start, None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return extent


def _collection(base: str, store: Store, spec: Layer) -> dict[str, Any]:
    href = f"{base}/collections/{spec.name}"
    return {
        "id": spec.name,
        "title": f"{spec.label_zh} {spec.label_en}",
        "description": f"{spec.label_en}: {', '.join(spec.field_names)}",
        "itemType": "feature",
        "extent": _extent(store, spec),
        "crs": [c.uri for c in crs_uris.SUPPORTED],
        "storageCrs": crs_uris.CRS84.uri,
        "x-gridmap-crs-extensions": crs_uris.EXTENSION_URIS,
        "links": [
            {"href": href, "rel": "self", "type": "application/json", "title": spec.label_en},
            {"href": f"{href}/items", "rel": "items", "type": GEOJSON, "title": f"{spec.label_en} features"},
            {
                "href": f"{href}/queryables",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": "application/schema+json",
                "title": f"{spec.label_en}: the properties a filter may use",
            },
        ],
    }


@router.get("/collections", summary="The layers this caller may read")
def collections(request: Request, caller: Caller) -> JSONResponse:
    ogc.only(request, ["f"])
    base = _base(request)
    readable = [get_layer(name) for name in LAYER_NAMES if caller.can_read(name)]
    store = _store(request)
    return _json(
        {
            "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
            "collections": [_collection(base, store, spec) for spec in readable],
        }
    )


@router.get("/collections/{layer}", summary="One layer")
def collection(request: Request, caller: Caller, layer: LayerParam) -> JSONResponse:
    ogc.only(request, ["f"])
    spec = get_layer(layer)
    caller.require_read(spec.name)
    return _json(_collection(_base(request), _store(request), spec))


_JSON_TYPES = {"text": "string", "integer": "integer", "real": "number", "boolean": "boolean"}


@router.get(
    "/collections/{layer}/queryables",
    summary="The properties this caller may filter the layer by (JSON Schema)",
    responses={200: {"content": {"application/schema+json": {}}}},
)
def queryables(request: Request, caller: Caller, layer: LayerParam) -> JSONResponse:
    """Personal fields appear only for the roles that read them unmasked (as for every filter)."""
    ogc.only(request, ["f"])
    spec = get_layer(layer)
    caller.require_read(spec.name)
    properties: dict[str, Any] = {}
    for name in filterable(spec, caller.role):
        f = spec.get(name)
        prop: dict[str, Any] = {"title": f"{f.label_zh} {f.label_en}", "type": _JSON_TYPES[f.type]}
        if f.choices:
            prop["enum"] = list(f.choices)
        properties[name] = prop
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_base(request)}/collections/{spec.name}/queryables",
        "type": "object",
        "title": f"{spec.label_zh} {spec.label_en}",
        "properties": properties,
        "additionalProperties": False,
    }
    return _json(body, media_type="application/schema+json")


def parse_bbox(value: str | None) -> BBox | None:
    """A `minlon,minlat,maxlon,maxlat` parameter (`gridmap.stores.query.parse_bbox`); malformed is a 422."""
    if value is None:
        return None
    with _bad_request():
        return query.parse_bbox(value)


@contextmanager
def _bad_request() -> Iterator[None]:
    """A query the library cannot read becomes a 422 naming the parameter at fault."""
    try:
        yield
    except query.QueryError as exc:
        raise BadRequestError(str(exc), field=exc.field) from None


def filterable(spec: Layer, role: Role) -> list[str]:
    """Fields `role` may filter by: those it reads unmasked, so a filter cannot probe hidden values."""
    hidden = set(spec.personal_fields) if role is not Role.ADMIN else set()
    if role is Role.ANONYMOUS:
        hidden |= set(PUBLIC_HIDDEN)
    return [name for name in spec.field_names if name not in hidden]


def _check_equality_fields(spec: Layer, role: Role, params: Mapping[str, str]) -> None:
    """A property a role reads masked cannot be compared (403), as in `filter`."""
    allowed = filterable(spec, role)
    for key in params:
        if key in spec.field_names and key not in allowed:
            raise PermissionDeniedError(Message("error.filter_role", layer=spec.name, field=key))


def _records_in_crs(records: Records, target: crs_uris.CrsUri) -> Records:
    if target == crs_uris.CRS84 or len(records) == 0:
        return records
    return dataclasses.replace(records, geometries=crs_uris.from_crs84(records.geometries, target))


def _content_crs(response: Response, target: crs_uris.CrsUri) -> Response:
    response.headers["Content-Crs"] = f"<{target.uri}>"
    return response


@router.get(
    "/collections/{layer}/items",
    summary="Features of a layer (GeoJSON), filtered by bbox, datetime, CQL2 and field equality",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
    openapi_extra={"parameters": ogc.ITEMS_PARAMETERS},
)
def items(request: Request, caller: Caller, layer: LayerParam) -> Response:
    """Any other query parameter named after a field of the layer filters by equality (`?grid_code=G01`)."""
    spec = get_layer(layer)
    caller.require_read(spec.name)
    _check_equality_fields(spec, caller.role, request.query_params)
    asked = ogc.items_query(request, spec, filterable(spec, caller.role))
    limit, offset = asked.limit, asked.offset
    page = _store(request).query_records(
        spec.name,
        PageRequest(
            bbox=asked.bbox,
            equals=asked.equals,
            where=asked.where,
            limit=limit,
            offset=offset,
            after=asked.after,
            before=asked.before,
        ),
    )
    features = record_features(_records_in_crs(protect_records(spec, page.records, caller.role), asked.crs))
    links = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON},
        {
            "href": f"{_base(request)}/collections/{spec.name}",
            "rel": "collection",
            "type": "application/json",
        },
        *_page_links(request, asked, page),
    ]
    body: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if page.matched is not None:  # omitted where counting would cost a scan (OGC API allows it)
        body["numberMatched"] = page.matched
    body["numberReturned"] = len(features)
    body["timeStamp"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    body["links"] = links
    return _content_crs(_json(body, media_type=GEOJSON), asked.crs)


def _page_links(request: Request, asked: ogc.ItemsQuery, page: query.RecordPage) -> list[dict[str, str]]:
    """`next` and `prev`: keyset cursors on the page's last and first codes (`stores.query`).

    A next link carries `after=<last code>`, so following it costs what the first
    page did at any depth; a prev link carries `before=<first code>`. A page asked
    by `offset` (a link a client kept from before) still gets an offset prev link.
    """
    codes = page.records.column("code")
    backwards = asked.before is not None
    keyed = backwards or asked.after is not None
    bare = request.url.remove_query_params(["offset", "after", "before"])
    links = []
    if len(codes) and (page.more or backwards):
        nxt = bare.include_query_params(after=str(codes[-1]), limit=asked.limit)
        links.append({"href": str(nxt), "rel": "next", "type": GEOJSON, "title": "next page"})
    if keyed and len(codes) and (page.more or not backwards):
        prev = bare.include_query_params(before=str(codes[0]), limit=asked.limit)
        links.append({"href": str(prev), "rel": "prev", "type": GEOJSON, "title": "previous page"})
    elif not keyed and asked.offset > 0:
        back = request.url.include_query_params(offset=max(asked.offset - asked.limit, 0), limit=asked.limit)
        links.append({"href": str(back), "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return links


def _one(store: Store, spec: Layer, code: str) -> gpd.GeoDataFrame:
    frame = store.read(spec.name, codes=[code])
    if len(frame) == 0:
        raise NotFoundError(Message("error.no_feature", layer=spec.name, codes=repr(code)))
    return frame


def etag(frame: gpd.GeoDataFrame) -> str:
    """The strong entity tag of a stored feature: a digest of everything stored about it.

    Computed from the stored values, not the caller's (masked) view, so every
    role sees the same tag for the same version and an edit changes it.
    """
    return _etag_of(geojson_features(frame)[0])


def _etag_of(stored: dict[str, Any]) -> str:
    """`etag` of a stored feature already in GeoJSON."""
    text = json.dumps(stored, sort_keys=True, ensure_ascii=False, default=str)
    return '"' + hashlib.blake2b(text.encode(), digest_size=12).hexdigest() + '"'


def _check_if_match(if_match: str | None, current: gpd.GeoDataFrame, what: str) -> None:
    """412 when `If-Match` names no version of the feature as stored now (`*` matches any)."""
    if if_match is None:
        return
    wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in wanted or etag(current) in wanted:
        return
    raise PreconditionFailedError(
        Message("api.features.changed", what=what, sent=if_match, now=etag(current))
    )


@router.get(
    "/collections/{layer}/items/{code}",
    summary="One feature by code",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
    openapi_extra={"parameters": ogc.FEATURE_PARAMETERS},
)
def item(request: Request, caller: Caller, layer: LayerParam, code: str) -> Response:
    ogc.only(request, ["crs", "f"])
    target = ogc.crs(request)
    spec = get_layer(layer)
    caller.require_read(spec.name)
    stored = _store(request).read_records(spec.name, [code])
    if not len(stored):
        raise NotFoundError(Message("error.no_feature", layer=spec.name, codes=repr(code)))
    as_stored = record_features(stored)[0]
    tag = _etag_of(as_stored)
    shown = _records_in_crs(protect_records(spec, stored, caller.role), target)
    # An admin reading CRS84 sees the feature as stored: its GeoJSON is made once.
    feature = as_stored if shown is stored else record_features(shown)[0]
    base = _base(request)
    feature["links"] = [
        {"href": f"{base}/collections/{spec.name}/items/{code}", "rel": "self", "type": GEOJSON},
        {"href": f"{base}/collections/{spec.name}", "rel": "collection", "type": "application/json"},
    ]
    response = _content_crs(_json(feature, media_type=GEOJSON), target)
    response.headers["ETag"] = tag
    return response


# -- writes ----------------------------------------------------------------

_FEATURE_BODY = Body(
    description="A GeoJSON Feature or FeatureCollection in WGS84; the code is `properties.code` or `id`",
    examples=[
        {
            "type": "Feature",
            "id": "S01",
            "properties": {"name": "1号喇叭", "radius_m": 300, "status": "working"},
            "geometry": {"type": "Point", "coordinates": [114.30, 30.59]},
        }
    ],
)


_PATCH_BODY = Body(
    description="The properties to change (null clears one) and/or a new geometry, in WGS84",
    examples=[{"properties": {"status": "broken"}}],
)
IfMatch = Annotated[
    str | None, Header(description="The ETag the feature was read with: 412 when it has changed since")
]


def _features_of(spec: Layer, body: Any, code: str | None = None) -> list[dict[str, Any]]:
    """The features of a request body, each with `properties.code` set; malformed input is a 422.

    Values are checked here, before the body is written to a file for the
    importer: a NUL or a list would not survive that trip as sent.
    """
    if not isinstance(body, dict) or body.get("type") not in ("Feature", "FeatureCollection"):
        raise BadRequestError(Message("api.features.body_type"), field="type")
    raw = body.get("features") if body["type"] == "FeatureCollection" else [body]
    if not isinstance(raw, list) or not raw:
        raise BadRequestError(Message("api.features.empty"), field="features")
    if len(raw) > MAX_WRITE:
        raise BadRequestError(Message("api.features.too_many", most=MAX_WRITE), field="features")
    out: list[dict[str, Any]] = []
    for i, feature in enumerate(raw):
        where = f"features.{i}" if body["type"] == "FeatureCollection" else "feature"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise BadRequestError(Message("api.features.not_feature", where=where), field=where)
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise BadRequestError(
                Message("api.features.properties", where=where), field=f"{where}.properties"
            )
        given = props.get("code", feature.get("id"))
        if code is not None:
            if given is not None and str(given) != code:
                raise BadRequestError(
                    Message("api.features.code_differs", given=repr(given), code=repr(code)), "code"
                )
            given = code
        if given is None or (isinstance(given, str) and not given.strip()):
            raise BadRequestError(Message("api.features.no_code", where=where), field=f"{where}.code")
        geometry = feature.get("geometry")
        if geometry is not None and not isinstance(geometry, dict):
            raise BadRequestError(Message("api.features.geometry", where=where), field=f"{where}.geometry")
        out.append({"type": "Feature", "properties": {**props, "code": given}, "geometry": geometry})
    _check_values(spec, out)
    for feature in out:
        feature["properties"]["code"] = str(feature["properties"]["code"]).strip()
    codes = [f["properties"]["code"] for f in out]
    if len(set(codes)) != len(codes):
        raise BadRequestError(Message("api.features.twice"), field="code")
    return out


def _check_values(spec: Layer, features: list[dict[str, Any]]) -> None:
    """422 naming the feature and field of every value that is not a single value or not storable text."""
    problems: list[Problem] = []
    for i, feature in enumerate(features):
        for name, value in feature["properties"].items():
            if name not in spec.field_names:
                fields = ", ".join(spec.field_names)
                problems.append(Problem(i + 1, name, f"{spec.name} has no such field (its fields: {fields})"))
            elif isinstance(value, list | dict):
                problems.append(Problem(i + 1, name, "must be a single value, not a JSON list or object"))
        if _dimensions(feature["geometry"]) > 2:
            problems.append(
                Problem(i + 1, "geometry", "has Z (height) or M values, which gridmap does not keep")
            )
    if not problems:
        for f in spec.fields:
            if f.type == "text":
                raw = pd.Series(
                    [_text_or_none(feature["properties"].get(f.name)) for feature in features], dtype=object
                )
                problems += text_problems(f, raw)
    if problems:
        raise ValidationError(Message("api.features.body"), sorted(problems, key=lambda p: p.row or 0))


def _dimensions(geometry: Any) -> int:
    """The most numbers in any position of a GeoJSON geometry (2 for lon/lat, 3 with a height)."""
    if not isinstance(geometry, dict):
        return 0
    if geometry.get("type") == "GeometryCollection":
        return max((_dimensions(g) for g in geometry.get("geometries") or ()), default=0)
    most, stack = 0, [geometry.get("coordinates")]
    while stack:
        item = stack.pop()
        if isinstance(item, list) and item and all(isinstance(v, int | float) for v in item):
            most = max(most, len(item))
        elif isinstance(item, list):
            stack.extend(item)
    return most


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _write(
    store: Store,
    spec: Layer,
    features: list[dict[str, Any]],
    caller: Principal,
    action: str,
    *,
    before: gpd.GeoDataFrame,
    mode: Mode,
    if_match: str | None = None,
) -> Receipt:
    """Import the features (all or nothing), once the caller may make the result so.

    The importer validates and derives grid codes, then hands over the frame
    exactly as it would be stored: that frame, and `before` (what it replaces),
    are what the write authorisation judges. The receipt holds the rows as the
    committing transaction left them: what the reply reports.
    """
    _keep_masked_values(spec, features, before)

    def judge(after: gpd.GeoDataFrame) -> None:
        caller.authorise(store, spec.name, after=after, before=before, action=action)
        if if_match is not None:  # once more, just before the write: an edit may have landed meanwhile
            code = str(after["code"].iat[0])
            _check_if_match(if_match, _one(store, spec, code), f"{spec.name} {code}")

    with receipt() as got:
        import_source(store, spec.name, features_source(features), crs="wgs84", mode=mode, check=judge)
    return got


def _keep_masked_values(spec: Layer, features: list[dict[str, Any]], existing: gpd.GeoDataFrame) -> None:
    """A personal field sent back exactly as it was shown masked (138****1234) keeps its stored value.

    Editors read phones and names masked; without this, saving a feature they
    had read would overwrite the real number with its mask.
    """
    if not spec.personal_fields or len(existing) == 0:
        return
    shown = protect(spec, existing, Role.VIEWER).set_index("code")
    stored = existing.set_index("code")
    for feature in features:
        props, code = feature["properties"], feature["properties"]["code"]
        if code not in stored.index:
            continue
        for name in spec.personal_fields:
            real, masked = stored.at[code, name], shown.at[code, name]
            if name in props and not pd.isna(masked) and props[name] == masked and masked != real:
                props[name] = real


def _written(
    request: Request, spec: Layer, codes: list[str], caller: Principal, got: Receipt
) -> dict[str, Any]:
    """The features as the write committed them; as stored now when it changed nothing (sent as they were)."""
    frame = got.rows.get(spec.name)
    if frame is None:
        frame = _store(request).read(spec.name, codes=codes)
    frame = frame[frame["code"].isin(codes).to_numpy(dtype=bool)]
    return {"type": "FeatureCollection", "features": geojson_features(protect(spec, frame, caller.role))}


@router.post(
    "/collections/{layer}/items",
    status_code=201,
    summary="Add features (editor inside their communities, or admin)",
    responses={201: {"content": {GEOJSON: {}}}, 409: {"description": "A code already exists"}},
)
def create_items(
    request: Request, caller: Caller, layer: LayerParam, body: Annotated[Any, _FEATURE_BODY]
) -> JSONResponse:
    spec = get_layer(layer)
    caller.require_writer(spec.name, Message("api.action.adding", layer=spec.name))
    features = _features_of(spec, body)
    codes = [f["properties"]["code"] for f in features]
    store = _store(request)
    taken = store.read(spec.name, codes=codes)
    if len(taken):
        raise ConflictError.taken(spec.name, taken["code"].astype(str).tolist())
    # Create-only: should another request create one of these codes meanwhile, the store's key refuses it.
    got = _write(
        store,
        spec,
        features,
        caller,
        Message("api.action.adding", layer=spec.name),
        before=taken,
        mode="create",
    )
    response = _json(_written(request, spec, codes, caller, got), media_type=GEOJSON, status=201)
    if len(codes) == 1:
        # Percent-encoded: a header is Latin-1, and a code may be Chinese (the write has committed by now).
        response.headers["Location"] = (
            f"{_base(request)}/collections/{spec.name}/items/{quote(codes[0], safe='')}"
        )
    return response


@router.put(
    "/collections/{layer}/items/{code}",
    summary="Replace one feature (editor inside their communities, or admin)",
    responses={200: {"content": {GEOJSON: {}}}},
)
def replace_item(
    request: Request,
    caller: Caller,
    layer: LayerParam,
    code: str,
    body: Annotated[Any, _FEATURE_BODY],
    if_match: IfMatch = None,
) -> JSONResponse:
    spec = get_layer(layer)
    caller.require_writer(spec.name, Message("api.action.changing", layer=spec.name))
    features = _features_of(spec, body, code)
    store = _store(request)
    existing = _one(store, spec, code)
    _check_if_match(if_match, existing, f"{spec.name} {code}")
    action = Message("api.action.changing_some", layer=spec.name, codes=code)
    got = _write(store, spec, features, caller, action, before=existing, mode="append", if_match=if_match)
    return _replied(request, spec, code, caller, got)


def _replied(request: Request, spec: Layer, code: str, caller: Principal, got: Receipt) -> JSONResponse:
    """The feature as its write committed it (as now stored when the write changed nothing), in the
    caller's view, with its new ETag."""
    committed = got.rows.get(spec.name)
    mine = None if committed is None else committed[(committed["code"] == code).to_numpy(dtype=bool)]
    stored = _one(_store(request), spec, code) if mine is None or mine.empty else mine.reset_index(drop=True)
    response = _json(geojson_features(protect(spec, stored, caller.role))[0], media_type=GEOJSON)
    response.headers["ETag"] = etag(stored)
    return response


@router.patch(
    "/collections/{layer}/items/{code}",
    summary="Change properties or the geometry of one feature (editor inside their communities, or admin)",
    responses={200: {"content": {GEOJSON: {}}}, 412: {"description": "If-Match names a stale version"}},
)
def update_item(
    request: Request,
    caller: Caller,
    layer: LayerParam,
    code: str,
    body: Annotated[Any, _PATCH_BODY],
    if_match: IfMatch = None,
) -> JSONResponse:
    """A JSON merge patch (RFC 7396) of the feature: properties given replace, null clears, absent stay."""
    spec = get_layer(layer)
    caller.require_writer(spec.name, Message("api.action.changing", layer=spec.name))
    store = _store(request)
    existing = _one(store, spec, code)
    _check_if_match(if_match, existing, f"{spec.name} {code}")
    if not isinstance(body, dict):
        raise BadRequestError(Message("api.features.patch_object"), field="body")
    props = body.get("properties", {})
    if not isinstance(props, dict):
        raise BadRequestError(Message("api.features.patch_properties"), field="properties")
    unknown = sorted(set(props) - set(spec.field_names))
    if unknown:
        raise BadRequestError(
            Message("api.features.no_field", layer=spec.name, field=repr(unknown[0])), field=unknown[0]
        )
    current = geojson_features(protect(spec, existing, caller.role))[0]
    merged = {k: v for k, v in {**current["properties"], **props}.items() if k in spec.field_names}
    geometry = body["geometry"] if "geometry" in body else current["geometry"]
    feature = {"type": "Feature", "properties": {**merged, "code": code}, "geometry": geometry}
    features = _features_of(spec, feature, code)
    action = Message("api.action.changing_some", layer=spec.name, codes=code)
    got = _write(store, spec, features, caller, action, before=existing, mode="append", if_match=if_match)
    return _replied(request, spec, code, caller, got)


@router.put(
    "/collections/{layer}/items",
    summary="Replace several existing features in one write (editor inside their communities, or admin)",
    responses={200: {"content": {GEOJSON: {}}}},
)
def replace_items(
    request: Request, caller: Caller, layer: LayerParam, body: Annotated[Any, _FEATURE_BODY]
) -> JSONResponse:
    """All or nothing, one revision: two grids sharing a redrawn edge are saved together, so neither
    is ever stored overlapping the other."""
    spec = get_layer(layer)
    caller.require_writer(spec.name, Message("api.action.changing", layer=spec.name))
    features = _features_of(spec, body)
    codes = [str(f["properties"]["code"]) for f in features]
    store = _store(request)
    existing = store.read(spec.name, codes=codes)
    missing = sorted(set(codes) - set(existing["code"].astype(str)))
    if missing:
        raise NotFoundError(Message("error.no_feature", layer=spec.name, codes=", ".join(map(repr, missing))))
    got = _write(
        store,
        spec,
        features,
        caller,
        Message("api.action.changing_some", layer=spec.name, codes=", ".join(codes)),
        before=existing,
        mode="append",
    )
    return _json(_written(request, spec, codes, caller, got), media_type=GEOJSON)


@router.delete(
    "/collections/{layer}/items/{code}",
    status_code=204,
    summary="Delete one feature (editor inside their communities, or admin)",
)
def delete_item(
    request: Request, caller: Caller, layer: LayerParam, code: str, if_match: IfMatch = None
) -> Response:
    spec = get_layer(layer)
    caller.require_writer(spec.name, Message("api.action.deleting", layer=spec.name))
    store = _store(request)
    existing = _one(store, spec, code)
    _check_if_match(if_match, existing, f"{spec.name} {code}")
    caller.authorise(
        store,
        spec.name,
        after=empty_frame(spec),
        before=existing,
        action=Message("api.action.deleting_some", layer=spec.name, codes=code),
    )
    store.delete(spec.name, [code])
    return Response(status_code=204)
