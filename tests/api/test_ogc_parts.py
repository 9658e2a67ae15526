"""OGC API – Features Parts 1–4, requirement by requirement, on both stores.

Part 1's core is also run whole by the public suite (`test_ogctests.py`); the
tests here cover what that suite does not check (datetime, HEAD, antimeridian
boxes, extents) and Parts 2 (CRS), 3 (queryables, CQL2 filters) and 4 (writes,
optimistic locking). `test_conformance_lists_exactly_the_classes_tested` ties
/conformance to these tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import shapely
from fastapi.testclient import TestClient

from api.features import CONFORMANCE
from gridmap.errors import ConfigError
from gridmap.stores import Store
from tests.api.conftest import ADMIN, EDITOR_C1, PHONE, VIEWER, bearer, district

F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
F2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
F4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"

# Each class /conformance declares, and the tests (here or in test_ogctests.py) that show it is met.
COVERED = {
    F1 + "core": [
        "test_ogctests.test_features_core_passes_whole",
        "test_datetime_selects_the_features_in_force",
        "test_head_answers_every_get",
        "test_bbox_crossing_the_antimeridian",
        "test_collections_carry_extents",
    ],
    F1 + "geojson": ["test_ogctests.test_features_core_passes_whole"],
    F1 + "oas30": ["test_ogctests.test_features_core_passes_whole", "test_openapi_describes_the_parameters"],
    F2 + "crs": [
        "test_collections_list_their_crs",
        "test_crs_writes_coordinates_in_its_axis_order",
        "test_bbox_crs_selects_in_that_system",
        "test_unsupported_crs_is_a_400",
    ],
    F3 + "queryables": ["test_queryables_follow_the_role"],
    F3 + "queryables-query-parameters": ["test_queryables_as_query_parameters"],
    F3 + "filter": ["test_cql2_text_filters", "test_bad_filters_are_400_naming_them"],
    F3 + "features-filter": ["test_cql2_text_filters", "test_filters_follow_the_role"],
    CQL2 + "cql2-text": ["test_cql2_text_filters"],
    CQL2 + "cql2-json": ["test_cql2_json_filters"],
    CQL2 + "basic-cql2": ["test_cql2_text_filters", "test_cql2_json_filters"],
    CQL2 + "advanced-comparison-operators": ["test_cql2_text_filters"],
    F4 + "create-replace-delete": ["test_create_replace_delete"],
    F4 + "update": ["test_patch_changes_only_what_it_names"],
    F4 + "optimistic-locking-etags": ["test_stale_if_match_is_412"],
    F4 + "features": ["test_create_replace_delete"],
}


def test_conformance_lists_exactly_the_classes_tested(reader: TestClient) -> None:
    from tests.api import test_ogctests

    assert set(reader.get("/conformance").json()["conformsTo"]) == set(COVERED)
    assert sorted(CONFORMANCE) == sorted(COVERED)
    for tests in COVERED.values():
        for name in tests:
            module, _, function = name.rpartition(".")
            assert callable((vars(test_ogctests) if module else globals())[function]), name


def items(
    client: TestClient, layer: str, headers: dict[str, str] | None = None, **params: object
) -> list[str]:
    reply = client.get(f"/collections/{layer}/items", params=params, headers=headers)
    assert reply.status_code == 200, reply.text
    return [f["id"] for f in reply.json()["features"]]


# -- Part 1 ------------------------------------------------------------------


@pytest.fixture
def dated(loaded: Store, make_client: Callable[..., TestClient]) -> TestClient:
    """The district with grid G1 in force since 2020-01-01, G2 since 2024-06-01 and G3 undated."""
    grids = district()["grids"]
    grids["valid_from"] = ["2020-01-01", "2024-06-01", None]
    loaded.replace("grids", grids)
    return make_client()


def test_datetime_selects_the_features_in_force(dated: TestClient) -> None:
    """/req/core/fc-time-response: an instant, a bounded and half-bounded intervals, against valid_from."""
    assert items(dated, "grids", datetime="2023-01-01") == ["G1", "G3"]
    assert items(dated, "grids", datetime="2019-01-01T12:00:00Z") == ["G3"]
    assert items(dated, "grids", datetime="2024-06-01") == ["G1", "G2", "G3"]
    assert items(dated, "grids", datetime="../2024-05-31") == ["G1", "G3"]
    assert items(dated, "grids", datetime="2024-06-01/..") == ["G1", "G2", "G3"]
    assert items(dated, "grids", datetime="2010-01-01/2019-12-31") == ["G3"]
    assert items(dated, "grids", datetime="2010-01-01/2020-01-01") == ["G1", "G3"]
    # A layer without validity dates is not filtered (features without a temporal property are kept).
    assert items(dated, "buildings", datetime="1900-01-01") == ["B1", "B2", "B3", "B4"]
    extent = dated.get("/collections/grids").json()["extent"]["temporal"]["interval"]
    assert extent == [["2020-01-01T00:00:00+08:00", None]]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/conformance",
        "/collections",
        "/collections/grids",
        "/collections/grids/items?limit=2",
        "/collections/grids/items/G1",
        "/collections/grids/queryables",
        "/openapi.json",
    ],
)
def test_head_answers_every_get(reader: TestClient, path: str) -> None:
    """HTTP 1.1 (/req/core/http): HEAD is answered like GET, without a body."""
    headers = {"Accept": "application/json"}
    got, head = reader.get(path, headers=headers), reader.head(path, headers=headers)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]


def test_bbox_crossing_the_antimeridian(store: Store) -> None:
    """/req/core/fc-bbox-response: minlon > maxlon is a box across the antimeridian, on both stores."""
    frames = district()
    points = frames["service_points"]
    far = points.iloc[[0, 0, 0]].reset_index(drop=True)
    far["code"] = ["P-east", "P-west", "P-zero"]
    far = far.set_geometry(
        [shapely.Point(179.5, 0.5), shapely.Point(-179.5, -0.5), shapely.Point(0.0, 0.0)], crs=points.crs
    )
    store.replace("service_points", far)
    page = store.query("service_points", bbox=(179.0, -1.0, -179.0, 1.0))
    assert sorted(page.frame["code"]) == ["P-east", "P-west"]
    assert sorted(store.read("service_points", bbox=(179.0, -1.0, -179.0, 1.0))["code"]) == [
        "P-east",
        "P-west",
    ]


def test_bbox_takes_six_numbers(reader: TestClient) -> None:
    assert items(reader, "buildings", bbox="114.3135,30.5035,0,114.3155,30.5055,100") == ["B3"]


def test_collections_carry_extents(reader: TestClient) -> None:
    """/req/core/rc-md-extent: the spatial extent in CRS84 covers every feature; dates where they exist."""
    grids = reader.get("/collections/grids").json()
    minx, miny, maxx, maxy = grids["extent"]["spatial"]["bbox"][0]
    assert minx <= 114.30 and miny <= 30.50 and maxx >= 114.32 and maxy >= 30.52
    assert maxx - minx < 0.03 and maxy - miny < 0.03
    assert grids["extent"]["spatial"]["crs"] == CRS84
    assert "temporal" in grids["extent"]
    assert "temporal" not in reader.get("/collections/buildings").json()["extent"]


def test_openapi_describes_the_parameters(reader: TestClient) -> None:
    """/req/core/fc-bbox-definition and friends: bbox an array of 4 or 6 numbers, form style, not exploded."""
    doc = reader.get("/openapi.json").json()
    params = {p["name"]: p for p in doc["paths"]["/collections/{layer}/items"]["get"]["parameters"]}
    bbox = params["bbox"]
    assert bbox["schema"] == {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}
    assert (bbox["style"], bbox["explode"], bbox["required"]) == ("form", False, False)
    assert params["limit"]["schema"]["type"] == "integer"
    assert params["datetime"]["schema"]["type"] == "string"
    assert {"crs", "bbox-crs", "filter", "filter-lang", "offset"} <= params.keys()
    assert "patch" in doc["paths"]["/collections/{layer}/items/{code}"]


# -- Part 2: coordinate systems ------------------------------------------------


def test_collections_list_their_crs(reader: TestClient) -> None:
    """/req/crs/fc-md-crs-list, /req/crs/fc-md-storageCrs: crs lists every system offered, CRS84 first."""
    grids = reader.get("/collections/grids").json()
    assert grids["crs"][0] == CRS84
    assert {CRS84, EPSG + "4326", EPSG + "4490", EPSG + "3857"} <= set(grids["crs"])
    assert grids["storageCrs"] == CRS84
    # GCJ-02 and BD-09 have no EPSG code: offered under gridmap's own URIs, marked as extensions.
    assert grids["x-gridmap-crs-extensions"] == ["urn:gridmap:def:crs:GCJ-02", "urn:gridmap:def:crs:BD-09"]


def _first_point(reply_json: dict[str, object]) -> list[float]:
    geometry = reply_json["geometry"]  # type: ignore[index]
    return list(geometry["coordinates"])  # type: ignore[index]


def test_crs_writes_coordinates_in_its_axis_order(reader: TestClient) -> None:
    """/req/crs/fc-crs-valid-value, /req/crs/ogc-crs-header: lat/lon for EPSG:4326 and 4490, x/y in 3857."""
    url = "/collections/speakers/items/K1"
    plain = reader.get(url)
    assert plain.headers["Content-Crs"] == f"<{CRS84}>"
    assert _first_point(plain.json()) == pytest.approx([114.3045, 30.505])
    for code in ("4326", "4490"):
        reply = reader.get(url, params={"crs": EPSG + code})
        assert reply.headers["Content-Crs"] == f"<{EPSG}{code}>"
        assert _first_point(reply.json()) == pytest.approx([30.505, 114.3045])
    mercator = reader.get(url, params={"crs": EPSG + "3857"})
    assert _first_point(mercator.json()) == pytest.approx([12724318.7, 3568629.5], abs=1.0)
    page = reader.get("/collections/speakers/items", params={"crs": EPSG + "4326", "status": "working"})
    assert page.headers["Content-Crs"] == f"<{EPSG}4326>"
    assert page.json()["features"][0]["geometry"]["coordinates"] == pytest.approx([30.505, 114.3045])
    gcj = reader.get(url, params={"crs": "urn:gridmap:def:crs:GCJ-02"}).json()
    lon, lat = _first_point(gcj)
    assert 0.001 < abs(lon - 114.3045) < 0.01 and 0.001 < abs(lat - 30.505) < 0.01  # the GCJ-02 offset


def test_bbox_crs_selects_in_that_system(reader: TestClient) -> None:
    """/req/crs/fc-bbox-crs-action: the box is read in bbox-crs (EPSG:4326 lat/lon), not ignored."""
    assert items(reader, "buildings", bbox="114.3135,30.5035,114.3155,30.5055") == ["B3"]
    lat_lon = {"bbox": "30.5035,114.3135,30.5055,114.3155", "bbox-crs": EPSG + "4326"}
    assert items(reader, "buildings", **lat_lon) == ["B3"]
    as_lon_lat = reader.get("/collections/buildings/items", params={"bbox": lat_lon["bbox"]})
    assert as_lon_lat.status_code == 400  # without bbox-crs the same numbers are lon/lat: latitude 114
    metres = {"bbox": "12725320,3568435,12725543,3568694", "bbox-crs": EPSG + "3857"}  # the same box
    assert items(reader, "buildings", **metres) == ["B3"]


@pytest.mark.parametrize("param", ["crs", "bbox-crs"])
def test_unsupported_crs_is_a_400(reader: TestClient, param: str) -> None:
    params = {param: EPSG + "32650", "bbox": "114.3,30.5,114.32,30.52"}
    reply = reader.get("/collections/buildings/items", params=params)
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["field"] == param


# -- Part 3: queryables and filters --------------------------------------------


def test_queryables_follow_the_role(reader: TestClient) -> None:
    """/req/queryables/get-queryables-op: a JSON Schema of the properties each role may filter by."""
    public = reader.get("/collections/grids/queryables")
    assert public.headers["content-type"].startswith("application/schema+json")
    schema = public.json()
    assert schema["type"] == "object" and schema["$id"].endswith("/collections/grids/queryables")
    assert {"code", "name", "community_code"} <= schema["properties"].keys()
    assert "worker_phone" not in schema["properties"] and "worker_name" not in schema["properties"]
    viewer = reader.get("/collections/households/queryables", headers=bearer(VIEWER)).json()["properties"]
    assert "contact_phone" not in viewer and viewer["size"]["type"] == "integer"
    admin = reader.get("/collections/households/queryables", headers=bearer(ADMIN)).json()["properties"]
    assert admin["contact_phone"]["type"] == "string" and admin["party_member"]["type"] == "boolean"
    assert reader.get("/collections/households/queryables").status_code == 403
    links = reader.get("/collections/grids").json()["links"]
    assert any(link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables" for link in links)


def test_queryables_as_query_parameters(reader: TestClient) -> None:
    """/req/queryables-query-parameters: each queryable is a query parameter testing equality."""
    assert items(reader, "grids", community_code="C1") == ["G1", "G2"]
    assert items(reader, "buildings", floors=6) == ["B1", "B2"]


def test_cql2_text_filters(reader: TestClient) -> None:
    """/req/filter, /req/basic-cql2, /req/advanced-comparison-operators in CQL2 text, run by the store."""
    assert items(reader, "buildings", filter="floors > 10") == ["B3"]
    assert items(reader, "buildings", filter="floors >= 6 AND NOT (name = '3栋')") == ["B2", "B3"]
    assert items(reader, "buildings", filter="floors = 3 OR code = 'B1'") == ["B1", "B4"]
    assert items(reader, "buildings", filter="floors <> 6") == ["B3", "B4"]
    assert items(reader, "buildings", filter="address LIKE '%幸福路%'") == ["B1", "B2"]
    assert items(reader, "buildings", filter="floors BETWEEN 4 AND 10") == ["B1", "B2"]
    assert items(reader, "buildings", filter="code IN ('B1', 'B4')") == ["B1", "B4"]
    assert items(reader, "buildings", filter="code NOT IN ('B1', 'B4')") == ["B2", "B3"]
    assert items(reader, "grids", filter="party_branch IS NULL") == ["G3"]
    assert items(reader, "grids", filter="party_branch IS NOT NULL") == ["G1", "G2"]
    viewer = bearer(VIEWER)
    assert items(reader, "households", viewer, filter="party_member = true AND size < 5") == ["H1"]
    # Filters combine with the other parameters.
    assert items(reader, "buildings", filter="floors = 6", bbox="114.30,30.51,114.31,30.52") == ["B2"]
    assert items(reader, "buildings", filter="floors < 100", limit=1, offset=2) == ["B3"]


def test_cql2_json_filters(reader: TestClient) -> None:
    expression = {
        "op": "and",
        "args": [
            {"op": ">=", "args": [{"property": "floors"}, 6]},
            {"op": "=", "args": [{"property": "address"}, "武汉市武昌区和平大道12号"]},
        ],
    }
    params = {"filter": json.dumps(expression, ensure_ascii=False), "filter-lang": "cql2-json"}
    assert items(reader, "buildings", **params) == ["B3"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filter": "height > 3"}, "height"),
        ({"filter": "floors > "}, "filter"),
        ({"filter": "floors > 'tall'"}, "floors"),
        ({"filter": "name > 3"}, "name"),
        ({"filter": "S_INTERSECTS(geometry, POINT(114.3 30.5))"}, "filter"),
        ({"filter": '{"op": "="}', "filter-lang": "cql2-json"}, "filter"),
        ({"filter": "floors = 6", "filter-lang": "ecql"}, "filter-lang"),
        ({"filter-lang": "cql2-text"}, "filter-lang"),
    ],
)
def test_bad_filters_are_400_naming_them(reader: TestClient, params: dict[str, str], field: str) -> None:
    """An unknown property or an expression that cannot be read: 400, the property or parameter named."""
    reply = reader.get("/collections/buildings/items", params=params)
    assert reply.status_code == 400, reply.text
    assert reply.json()["errors"][0]["field"] == field


def test_filters_follow_the_role(reader: TestClient) -> None:
    """A property a role reads masked cannot be filtered on (403), exactly like equality filters."""
    probe = {"filter": f"contact_phone = '{PHONE}'"}
    assert (
        reader.get("/collections/grids/items", params={"filter": "worker_name = '张三'"}).status_code == 403
    )
    assert (
        reader.get("/collections/households/items", params=probe, headers=bearer(VIEWER)).status_code == 403
    )
    assert items(reader, "households", bearer(ADMIN), **probe) == ["H1"]


# -- Part 4: writes and optimistic locking --------------------------------------


SPEAKER = {
    "type": "Feature",
    "id": "K9",
    "properties": {"name": "9号喇叭", "status": "working", "radius_m": 300},
    "geometry": {"type": "Point", "coordinates": [114.302, 30.502]},
}


def test_create_replace_delete(client: TestClient) -> None:
    """/req/create-replace-delete: POST 201 with Location, PUT 200, DELETE 204, each with its status."""
    admin = bearer(ADMIN)
    created = client.post("/collections/speakers/items", json=SPEAKER, headers=admin)
    assert created.status_code == 201
    assert created.headers["Location"].endswith("/collections/speakers/items/K9")
    replaced = client.put(
        "/collections/speakers/items/K9", json={**SPEAKER, "properties": {"name": "新"}}, headers=admin
    )
    assert replaced.status_code == 200 and replaced.json()["properties"]["name"] == "新"
    assert replaced.headers["ETag"] == client.get("/collections/speakers/items/K9").headers["ETag"]
    assert client.delete("/collections/speakers/items/K9", headers=admin).status_code == 204
    assert client.get("/collections/speakers/items/K9").status_code == 404


def test_patch_changes_only_what_it_names(client: TestClient) -> None:
    """/req/update: PATCH is a merge patch; the properties it leaves out keep their values."""
    before = client.get("/collections/speakers/items/K2").json()
    patched = client.patch(
        "/collections/speakers/items/K2",
        json={"properties": {"status": "working"}},
        headers=bearer(EDITOR_C1),
    )
    assert patched.status_code == 403  # K2 lies in C2, outside the editor's communities
    patched = client.patch(
        "/collections/speakers/items/K2", json={"properties": {"status": "working"}}, headers=bearer(ADMIN)
    )
    assert patched.status_code == 200, patched.text
    after = client.get("/collections/speakers/items/K2").json()
    assert after["properties"]["status"] == "working"
    assert after["properties"]["name"] == before["properties"]["name"]
    assert after["geometry"] == before["geometry"]
    moved = {"geometry": {"type": "Point", "coordinates": [114.316, 30.516]}}
    assert (
        client.patch("/collections/speakers/items/K2", json=moved, headers=bearer(ADMIN)).status_code == 200
    )
    assert client.get("/collections/speakers/items/K2").json()["geometry"]["coordinates"] == [114.316, 30.516]
    wrong = client.patch(
        "/collections/speakers/items/K2", json={"properties": {"colour": "red"}}, headers=bearer(ADMIN)
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "colour"


def test_patch_keeps_a_phone_read_masked(client: TestClient) -> None:
    editor = bearer(EDITOR_C1)
    reply = client.patch("/collections/households/items/H1", json={"properties": {"size": 4}}, headers=editor)
    assert reply.status_code == 200, reply.text
    stored = client.get("/collections/households/items/H1", headers=bearer(ADMIN)).json()["properties"]
    assert (stored["size"], stored["contact_phone"]) == (4, PHONE)


def test_stale_if_match_is_412(client: TestClient) -> None:
    """/req/optimistic-locking-etags: a write naming a version no longer stored changes nothing (412)."""
    admin = bearer(ADMIN)
    url = "/collections/speakers/items/K1"
    first = client.get(url).headers["ETag"]
    assert client.get(url, headers=bearer(VIEWER)).headers["ETag"] == first  # one tag per stored version
    # Editor A saves with the tag it read: accepted, and the tag moves on.
    saved = client.patch(url, json={"properties": {"name": "A"}}, headers={**admin, "If-Match": first})
    assert saved.status_code == 200
    second = saved.headers["ETag"]
    assert second != first
    # Editor B, who read before A saved, is refused whatever the method; nothing changes.
    for method, body in (
        ("PATCH", {"properties": {"name": "B"}}),
        ("PUT", SPEAKER | {"id": "K1"}),
        ("DELETE", None),
    ):
        stale = client.request(method, url, json=body, headers={**admin, "If-Match": first})
        assert stale.status_code == 412, (method, stale.text)
        assert stale.json()["code"] == "precondition_failed"
    assert client.get(url).json()["properties"]["name"] == "A"
    assert (
        client.put(url, json=SPEAKER | {"id": "K1"}, headers={**admin, "If-Match": second}).status_code == 200
    )
    assert client.delete(url, headers={**admin, "If-Match": "*"}).status_code == 204


# -- CORS -----------------------------------------------------------------------


def test_cors_lets_the_named_origins_read(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cors_origins="https://maps.example.cn")
    origin = {"Origin": "https://maps.example.cn"}
    reply = client.get("/collections/grids/items", headers=origin)
    assert reply.headers["access-control-allow-origin"] == "https://maps.example.cn"
    assert "access-control-allow-credentials" not in reply.headers
    assert "Content-Crs" in reply.headers["access-control-expose-headers"]
    preflight = client.options(
        "/collections/households/items",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    writes = client.options(
        "/collections/grids/items", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert writes.status_code == 400  # writes are not shared with other origins
    other = client.get("/collections/grids/items", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_cors_wildcard_never_with_credentials(make_client: Callable[..., TestClient], store_url: str) -> None:
    client = make_client(cors_origins="*")
    reply = client.get("/collections", headers={"Origin": "https://a.example"})
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in reply.headers
    from api.main import create_app
    from tests.api.conftest import settings_for

    with pytest.raises(ConfigError, match="name the origins"):
        create_app(settings_for(store_url, cors_origins="*", cors_credentials=True))
    assert (
        make_client()
        .get("/collections", headers={"Origin": "https://a.example"})
        .headers.get("access-control-allow-origin")
        is None
    )
