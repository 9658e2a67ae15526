"""GET /lookup and POST /lookup/batch through the real app, on both stores."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gridmap.crs import from_wgs84
from tests.api.conftest import VIEWER, bearer

ADDRESS_VARIANTS = [
    ("武汉市武昌区幸福路88号3栋", "exact"),
    ("幸福路88号3栋", "normalized"),
    ("幸福路８８号３栋", "normalized"),  # full-width digits
    ("幸福路八十八号三栋", "normalized"),  # Chinese numerals
    ("幸福路88号3幢", "normalized"),  # 幢 for 栋
    ("幸福路88号3号楼", "normalized"),
    ("幸福路88号3栋2单元301室", "normalized"),  # with unit and room
    ("湖北省武汉市武昌区幸福路88号3栋", "normalized"),  # with province and city prefix
    ("幸福 路 88 号 3 栋。", "normalized"),  # spaces and punctuation
    ("幸福璐88号3栋", "fuzzy"),  # a typo
]


@pytest.mark.parametrize(("address", "method"), ADDRESS_VARIANTS)
def test_address_variants_find_building_and_grid(reader: TestClient, address: str, method: str) -> None:
    reply = reader.get("/lookup", params={"address": address})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["building"]["code"] == "B1"
    assert body["grid"]["code"] == "G1"
    assert body["grid"]["name"] == "幸福一网格"
    assert body["grid"]["party_branch"] == "幸福一网格党支部"
    assert body["community"] == {"code": "C1", "name": "幸福社区"}
    assert body["street"] == {"code": "S1", "name": "幸福街道"}
    assert body["match"]["method"] == method
    assert 0.85 <= body["match"]["score"] <= 1.0


def test_numbers_are_never_confused(reader: TestClient) -> None:
    body = reader.get("/lookup", params={"address": "幸福路88号8栋"}).json()
    assert body["building"]["code"] == "B2"
    assert body["grid"]["code"] == "G2"


def test_non_chinese_address(reader: TestClient) -> None:
    body = reader.get("/lookup", params={"address": "221b baker street"}).json()
    assert body["building"]["code"] == "B4"
    assert body["grid"]["code"] == "G3"
    assert body["community"]["code"] == "C2"


def test_unknown_address_is_404_with_suggestions(reader: TestClient) -> None:
    reply = reader.get("/lookup", params={"address": "幸福路99号3栋"})
    assert reply.status_code == 404
    body = reply.json()
    assert body["code"] == "not_found"
    assert 1 <= len(body["suggestions"]) <= 5
    assert {"code", "address", "score"} <= set(body["suggestions"][0])
    assert "B1" in {s["code"] for s in body["suggestions"]}


def test_point_lookup_in_wgs84(reader: TestClient) -> None:
    body = reader.get("/lookup", params={"lon": 114.3145, "lat": 30.5045}).json()
    assert body["grid"]["code"] == "G3"
    assert body["community"]["code"] == "C2"
    assert body["building"] is None
    assert body["match"] == {"method": "point", "score": 1.0}


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "cgcs2000", "EPSG:4490"])
@pytest.mark.parametrize(("lon", "lat", "grid"), [(114.3045, 30.5045, "G1"), (114.3001, 30.5199, "G2")])
def test_offset_systems_find_the_same_grid(
    reader: TestClient, crs: str, lon: float, lat: float, grid: str
) -> None:
    x, y = from_wgs84([lon], [lat], crs)
    assert reader.get("/lookup", params={"lon": lon, "lat": lat}).json()["grid"]["code"] == grid
    reply = reader.get("/lookup", params={"lon": float(x[0]), "lat": float(y[0]), "crs": crs})
    assert reply.status_code == 200, reply.text
    assert reply.json()["grid"]["code"] == grid


def test_gcj02_offset_matters(reader: TestClient) -> None:
    """A WGS84 point just inside G1 sent as if it were GCJ-02 lands elsewhere (~500 m off)."""
    wgs = reader.get("/lookup", params={"lon": 114.3095, "lat": 30.5095}).json()["grid"]["code"]
    gcj = reader.get("/lookup", params={"lon": 114.3095, "lat": 30.5095, "crs": "gcj02"})
    assert wgs == "G1"
    assert gcj.status_code == 404 or gcj.json()["grid"]["code"] != "G1"


def test_shared_edge_goes_to_smallest_code(reader: TestClient) -> None:
    assert reader.get("/lookup", params={"lon": 114.305, "lat": 30.51}).json()["grid"]["code"] == "G1"
    # The corner shared by G1, G2 and G3.
    assert reader.get("/lookup", params={"lon": 114.31, "lat": 30.51}).json()["grid"]["code"] == "G1"
    # The edge between G2 and G3.
    assert reader.get("/lookup", params={"lon": 114.31, "lat": 30.515}).json()["grid"]["code"] == "G2"


def test_outside_is_404(reader: TestClient) -> None:
    reply = reader.get("/lookup", params={"lon": 114.40, "lat": 30.50})
    assert reply.status_code == 404
    assert reply.json()["code"] == "outside"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 114.3}, "lat"),
        ({"lat": 30.5}, "lon"),
        ({}, "lon"),
        ({"lon": "abc", "lat": 30.5}, "lon"),
        ({"lon": 200, "lat": 30.5}, "lon"),
        ({"lon": 114.3, "lat": 95}, "lat"),
        ({"lon": 114.3, "lat": 30.5, "crs": "mars"}, "crs"),
        ({"address": ""}, "address"),
        ({"address": "   "}, "address"),
        ({"address": "幸福路88号3栋", "lon": 114.3, "lat": 30.5}, "address"),
        ({"address": "x" * 400}, "address"),
    ],
)
def test_malformed_input_is_422_naming_the_field(
    reader: TestClient, params: dict[str, object], field: str
) -> None:
    reply = reader.get("/lookup", params=params)
    assert reply.status_code == 422, reply.text
    body = reply.json()
    assert field in {e["field"] for e in body["errors"]}
    assert field in body["detail"] or body["errors"]


def test_worker_name_only_with_a_token(reader: TestClient) -> None:
    anonymous = reader.get("/lookup", params={"address": "幸福路88号3栋"}).json()
    viewer = reader.get("/lookup", params={"address": "幸福路88号3栋"}, headers=bearer(VIEWER)).json()
    assert anonymous["grid"]["worker_name"] is None
    assert viewer["grid"]["worker_name"] == "张三"
    assert "worker_phone" not in viewer["grid"]


def test_batch_json_keeps_input_order(reader: TestClient) -> None:
    gcj_x, gcj_y = from_wgs84([114.3045], [30.5045], "gcj02")
    items = [
        {"lon": 114.3145, "lat": 30.5045},
        {"address": "幸福路88号3幢"},
        {"address": "no such place at all"},
        {"lon": 114.40, "lat": 30.50},
        {"address": "幸福路88号8栋"},
        {"lon": float(gcj_x[0]), "lat": float(gcj_y[0]), "crs": "gcj02"},
    ]
    reply = reader.post("/lookup/batch", json={"items": items})
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["status"] for r in results] == ["ok", "ok", "not_found", "outside", "ok", "ok"]
    assert [r.get("grid", {}).get("code") for r in results] == ["G3", "G1", None, None, "G2", "G1"]
    assert results[2]["suggestions"] == []
    suggested = reader.post("/lookup/batch", json={"items": items[2:3], "suggest": True}).json()["results"]
    assert suggested[0]["suggestions"]
    by_query = reader.post("/lookup/batch?suggest=true", json={"items": items[2:3]}).json()["results"]
    assert by_query[0]["suggestions"] == suggested[0]["suggestions"]


def test_batch_csv_upload_and_body(reader: TestClient) -> None:
    csv_text = "地址\n幸福路88号8栋\n幸福路88号3栋\n"
    uploaded = reader.post("/lookup/batch", files={"file": ("q.csv", csv_text.encode("gb18030"), "text/csv")})
    assert uploaded.status_code == 200, uploaded.text
    assert [r["building"]["code"] for r in uploaded.json()["results"]] == ["B2", "B1"]
    points = "lon,lat,crs\n114.3145,30.5045,wgs84\n114.3045,30.5045,\n"
    raw = reader.post("/lookup/batch", content=points.encode(), headers={"Content-Type": "text/csv"})
    assert raw.status_code == 200, raw.text
    assert [r["grid"]["code"] for r in raw.json()["results"]] == ["G3", "G1"]


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"lon": 114.3}]},
        {"items": [{"address": "x", "lon": 114.3, "lat": 30.5}]},
        {"items": [{}]},
        {"items": [{"lon": 114.3, "lat": 30.5, "crs": "nowhere"}]},
        {"items": [{"address": "a"}] * 10_001},
        {"nothing": 1},
        "not a batch",
    ],
)
def test_batch_rejects_malformed_input(reader: TestClient, body: object) -> None:
    reply = reader.post("/lookup/batch", json=body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["errors"]


def test_batch_rejects_bad_csv(reader: TestClient) -> None:
    reply = reader.post("/lookup/batch", content=b"name\nfoo\n", headers={"Content-Type": "text/csv"})
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "file"
    broken = reader.post("/lookup/batch", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422
