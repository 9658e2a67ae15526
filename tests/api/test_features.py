"""OGC API – Features reads through the real app, on both stores, with each role's view."""

from __future__ import annotations

import itertools
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.features import CONFORMANCE
from gridmap.catalogue import LAYER_NAMES
from tests.api.conftest import ADMIN, EDITOR_C1, PHONE, VIEWER, WORKER_PHONE, bearer


def test_landing_page_links(reader: TestClient) -> None:
    body = reader.get("/").json()
    rels = {link["rel"]: link for link in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels.keys()
    desc = reader.get(rels["service-desc"]["href"])
    assert desc.json()["openapi"].startswith("3.0")
    assert desc.headers["content-type"] == rels["service-desc"]["type"]
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert reader.get(rels["conformance"]["href"]).json()["conformsTo"] == CONFORMANCE


def test_collections_depend_on_role(reader: TestClient) -> None:
    anonymous = [c["id"] for c in reader.get("/collections").json()["collections"]]
    viewer = [c["id"] for c in reader.get("/collections", headers=bearer(VIEWER)).json()["collections"]]
    assert "households" not in anonymous
    assert viewer == list(LAYER_NAMES)
    one = reader.get("/collections/grids").json()
    assert one["id"] == "grids"
    assert {link["rel"] for link in one["links"]} >= {"self", "items"}
    assert reader.get("/collections/households").status_code == 403
    assert reader.get("/collections/nope").status_code == 404
    assert reader.get("/collections/nope/items").json()["code"] == "unknown_layer"


def test_items_paging(reader: TestClient) -> None:
    first = reader.get("/collections/buildings/items", params={"limit": 3})
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/geo+json")
    body = first.json()
    assert body["type"] == "FeatureCollection"
    assert (body["numberMatched"], body["numberReturned"]) == (4, 3)
    assert [f["id"] for f in body["features"]] == ["B1", "B2", "B3"]
    following = next(link["href"] for link in body["links"] if link["rel"] == "next")
    rest = reader.get(following).json()
    assert [f["id"] for f in rest["features"]] == ["B4"]
    assert not any(link["rel"] == "next" for link in rest["links"])
    assert reader.get("/collections/buildings/items", params={"offset": 10}).json()["features"] == []


def _links(body: dict[str, object]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in body["links"]}  # type: ignore[attr-defined, index]


def _walk(reader: TestClient, params: dict[str, object], headers: dict[str, str] | None = None) -> list[dict]:
    """Every page of a selection, following the next links from the first."""
    pages = [reader.get("/collections/buildings/items", params=params, headers=headers).json()]
    while "next" in _links(pages[-1]):
        assert len(pages) < 10
        pages.append(reader.get(_links(pages[-1])["next"], headers=headers).json())
    return pages


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"limit": 1}, ["B1", "B2", "B3", "B4"]),
        ({"limit": 3}, ["B1", "B2", "B3", "B4"]),
        ({"limit": 1, "bbox": "114.3035,30.5035,114.3155,30.5155"}, ["B1", "B2", "B3"]),
        ({"limit": 1, "floors": "6"}, ["B1", "B2"]),
        (
            {"limit": 1, "bbox": "114.3035,30.5035,114.3175,30.5175", "filter": "floors > 5"},
            ["B1", "B2", "B3"],
        ),
    ],
)
def test_next_links_carry_the_last_code_and_walk_every_feature_once(
    reader: TestClient, params: dict[str, object], expected: list[str]
) -> None:
    pages = _walk(reader, params)
    assert [f["id"] for page in pages for f in page["features"]] == expected
    assert {page["numberMatched"] for page in pages} == {len(expected)}
    assert sum(page["numberReturned"] for page in pages) == len(expected)
    for page in pages[:-1]:
        following = dict(parse_qsl(urlsplit(_links(page)["next"]).query))
        # The cursor replaces the offset; the filters and the limit travel with it.
        assert following == {**{k: str(v) for k, v in params.items()}, "after": page["features"][-1]["id"]}
    assert "prev" not in _links(pages[0])
    for before, page in itertools.pairwise(pages):  # prev goes back to the page before
        back = reader.get(_links(page)["prev"]).json()
        assert [f["id"] for f in back["features"]] == [f["id"] for f in before["features"]]
        assert "before=" in _links(page)["prev"]


def test_prev_links_stop_at_the_first_page_and_lead_forward_again(reader: TestClient) -> None:
    url = "/collections/buildings/items"
    back = reader.get(url, params={"limit": 2, "before": "B4"}).json()
    assert [f["id"] for f in back["features"]] == ["B2", "B3"]
    first = reader.get(_links(back)["prev"]).json()
    assert [f["id"] for f in first["features"]] == ["B1"] and "prev" not in _links(first)
    assert [f["id"] for f in reader.get(_links(first)["next"]).json()["features"]] == ["B2", "B3"]


def test_offset_links_clients_kept_still_work(reader: TestClient) -> None:
    body = reader.get("/collections/buildings/items", params={"limit": 2, "offset": 1}).json()
    assert [f["id"] for f in body["features"]] == ["B2", "B3"]
    assert (body["numberMatched"], body["numberReturned"]) == (4, 2)
    links = _links(body)
    assert "offset=0" in links["prev"] and "after=B3" in links["next"]
    assert [f["id"] for f in reader.get(links["next"]).json()["features"]] == ["B4"]


def test_items_last_page_tells_number_matched_past_the_count(
    reader: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the count's cap, numberMatched is left out until a page with no next page ends the selection."""
    for module in ("gridmap.stores.postgis", "gridmap.stores.geopackage"):
        monkeypatch.setattr(f"{module}.COUNT_LIMIT", 2)
    url = "/collections/buildings/items"
    first = reader.get(url, params={"limit": 3}).json()
    assert "numberMatched" not in first and first["numberReturned"] == 3
    following = next(link["href"] for link in first["links"] if link["rel"] == "next")
    last = reader.get(following).json()  # a cursor page: it does not know how many came before
    assert "numberMatched" not in last and last["numberReturned"] == 1
    assert not any(link["rel"] == "next" for link in last["links"])
    by_offset = reader.get(url, params={"limit": 3, "offset": 3}).json()
    assert (by_offset["numberMatched"], by_offset["numberReturned"]) == (4, 1)
    whole = reader.get(url, params={"limit": 2, "offset": 2}).json()  # full, and nothing after it
    assert (whole["numberMatched"], whole["numberReturned"]) == (4, 2)
    assert "numberMatched" not in reader.get(url, params={"offset": 10}).json()  # past the end: unknown


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": "unlimited"},
        {"offset": -1},
        {"offset": 99999999999999999999},  # past every database's integers
        {"after": "B1", "offset": 2},
        {"before": "B3", "after": "B1"},
        {"after": ""},
        {"before": "B\x01"},
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "1,3,2,0"},  # minlat above maxlat
        {"bbox": "1,2,190,3"},
        {"bbox-crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},  # without a bbox
        {"nonsense": "1"},
        {"floors": "x"},
        {"f": "xml"},
        {"datetime": "yesterday"},
        {"datetime": "2024-05-01/2024-01-01"},
        {"crs": "http://www.opengis.net/def/crs/EPSG/0/2000"},
    ],
)
def test_items_answer_400_naming_an_invalid_or_unknown_parameter(
    reader: TestClient, params: dict[str, object]
) -> None:
    """/req/core/query-param-invalid and /req/core/query-param-unknown: 400, with the parameter named."""
    reply = reader.get("/collections/buildings/items", params=params)
    assert reply.status_code == 400, reply.text
    assert reply.json()["errors"][0]["field"] == next(iter(params))


@pytest.mark.parametrize(
    "path", ["/conformance", "/collections", "/collections/grids", "/collections/grids/items/G1"]
)
def test_other_resources_refuse_unknown_parameters(reader: TestClient, path: str) -> None:
    reply = reader.get(path, params={"ooga": "booga"})
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["field"] == "ooga"


def test_limit_above_the_maximum_is_served_at_the_maximum(reader: TestClient) -> None:
    """/req/core/fc-limit-response: a limit past the maximum is capped, not refused."""
    reply = reader.get("/collections/buildings/items", params={"limit": 10_001})
    assert reply.status_code == 200
    assert reply.json()["numberReturned"] == 4
    reply = reader.get("/collections/buildings/items", params={"limit": 1_000_000_000, "offset": 1})
    assert [f["id"] for f in reply.json()["features"]] == ["B2", "B3", "B4"]


def test_bbox_and_property_filters(reader: TestClient) -> None:
    boxed = reader.get(
        "/collections/buildings/items", params={"bbox": "114.3135,30.5035,114.3155,30.5055"}
    ).json()
    assert [f["id"] for f in boxed["features"]] == ["B3"]
    by_community = reader.get("/collections/grids/items", params={"community_code": "C1"}).json()
    assert [f["id"] for f in by_community["features"]] == ["G1", "G2"]
    by_number = reader.get("/collections/buildings/items", params={"floors": "6"}).json()
    assert [f["id"] for f in by_number["features"]] == ["B1", "B2"]
    both = reader.get(
        "/collections/speakers/items", params={"status": "broken", "bbox": "114.3,30.5,114.32,30.52"}
    )
    assert [f["id"] for f in both.json()["features"]] == ["K2"]
    flags = reader.get(
        "/collections/households/items", params={"party_member": "true"}, headers=bearer(VIEWER)
    )
    assert [f["id"] for f in flags.json()["features"]] == ["H1"]


def test_filters_cannot_probe_hidden_fields(reader: TestClient) -> None:
    assert reader.get("/collections/grids/items", params={"worker_name": "张三"}).status_code == 403
    probe = {"contact_phone": PHONE}
    assert (
        reader.get("/collections/households/items", params=probe, headers=bearer(VIEWER)).status_code == 403
    )
    admin = reader.get("/collections/households/items", params=probe, headers=bearer(ADMIN)).json()
    assert [f["id"] for f in admin["features"]] == ["H1"]


def test_one_item(reader: TestClient) -> None:
    reply = reader.get("/collections/grids/items/G1")
    assert reply.status_code == 200
    feature = reply.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == "G1"
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert reader.get("/collections/grids/items/NOPE").status_code == 404


def test_personal_fields_by_role(reader: TestClient) -> None:
    anonymous = reader.get("/collections/grids/items/G1").json()["properties"]
    assert "worker_phone" not in anonymous and "worker_name" not in anonymous
    viewer = reader.get("/collections/grids/items/G1", headers=bearer(VIEWER)).json()["properties"]
    assert viewer["worker_name"] == "张三"
    assert viewer["worker_phone"] == "139****1111"
    editor = reader.get("/collections/households/items/H1", headers=bearer(EDITOR_C1)).json()["properties"]
    assert editor["contact_phone"] == "138****1234"
    assert editor["contact_name"] == "赵*"
    admin = reader.get("/collections/households/items/H1", headers=bearer(ADMIN)).json()["properties"]
    assert admin["contact_phone"] == PHONE
    admin_grid = reader.get("/collections/grids/items/G1", headers=bearer(ADMIN)).json()["properties"]
    assert admin_grid["worker_phone"] == WORKER_PHONE


@pytest.mark.parametrize("token", [None, VIEWER, EDITOR_C1])
def test_no_full_phone_below_admin_anywhere(reader: TestClient, token: str | None) -> None:
    headers = bearer(token) if token else {}
    for layer in ("grids", "households"):
        text = reader.get(f"/collections/{layer}/items", headers=headers).text
        assert PHONE not in text and WORKER_PHONE not in text


def test_households_need_a_token(reader: TestClient) -> None:
    assert reader.get("/collections/households/items").status_code == 403
    assert reader.get("/collections/households/items/H1").status_code == 403


def test_unknown_token_is_401(reader: TestClient) -> None:
    reply = reader.get("/collections", headers=bearer("not-a-configured-token-at-all"))
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith('Bearer realm="gridmap", Basic realm="gridmap"')


def test_an_offset_past_the_end_is_an_empty_page(reader: TestClient) -> None:
    reply = reader.get("/collections/buildings/items", params={"offset": 2**53, "limit": 5})
    assert reply.status_code == 200, reply.text
    assert reply.json()["features"] == []
