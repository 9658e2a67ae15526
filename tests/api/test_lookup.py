"""GET /lookup and POST /lookup/batch through the real app, on both stores."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from gridmap.crs import from_wgs84
from gridmap.vocabulary import MATCH_METHODS
from tests.api.conftest import ADMIN, EDITOR_C1, VIEWER, WORKER_PHONE, bearer

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
    ("幸福社区幸福路88号3栋", "normalized"),  # the store's community before the road
    ("幸福街道幸福社区幸福路88号3栋", "normalized"),  # and its street
    ("幸福路88号3-1-301", "normalized"),  # building-unit-room
    ("幸福路88号3栋东门", "fuzzy"),  # extra words on the same road
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


@pytest.mark.parametrize("address", ["幸福璐88号3栋", "幸福里88号3栋", "幸福社区幸福里88号3栋"])
def test_a_road_not_in_the_register_is_404_with_the_intended_building_first(
    reader: TestClient, address: str
) -> None:
    reply = reader.get("/lookup", params={"address": address})
    assert reply.status_code == 404, reply.text
    assert reply.json()["suggestions"][0]["code"] == "B1"


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
    assert body["building"] == {"code": "B3", "name": "12号", "address": "武汉市武昌区和平大道12号"}
    assert body["match"] == {"method": "point", "score": 1.0}
    outside_buildings = reader.get("/lookup", params={"lon": 114.3155, "lat": 30.5045}).json()
    assert outside_buildings["grid"]["code"] == "G3"
    assert outside_buildings["building"] is None


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


@pytest.mark.parametrize(
    ("token", "worker_name", "worker_phone"),
    [
        (None, None, None),
        (VIEWER, "张三", "139****1111"),
        (EDITOR_C1, "张三", "139****1111"),
        (ADMIN, "张三", WORKER_PHONE),
    ],
)
def test_what_each_role_gets_from_a_lookup(
    reader: TestClient, token: str | None, worker_name: str | None, worker_phone: str | None
) -> None:
    headers = bearer(token) if token else {}
    by_address = reader.get("/lookup", params={"address": "幸福路88号3栋"}, headers=headers).json()
    by_point = reader.get("/lookup", params={"lon": 114.3045, "lat": 30.5045}, headers=headers).json()
    batch = reader.post("/lookup/batch", json=[{"address": "幸福路88号3栋"}], headers=headers).json()
    for grid in (by_address["grid"], by_point["grid"], batch["results"][0]["grid"]):
        assert grid == {
            "code": "G1",
            "name": "幸福一网格",
            "party_branch": "幸福一网格党支部",
            "worker_name": worker_name,
            "worker_phone": worker_phone,
        }


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
    assert [r["row"] for r in results] == [1, 2, 3, 4, 5, 6]
    assert results[2]["suggestions"] is None  # not searched for
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
    ("item", "reason"),
    [
        ({"lon": 114.3}, "both lon and lat"),
        ({"address": "x", "lon": 114.3, "lat": 30.5}, "not both"),
        ({}, "give an address"),
        ({"lon": 114.3, "lat": 30.5, "crs": "nowhere"}, "unknown coordinate system"),
        ({"address": ""}, "address"),
        ({"lon": 500, "lat": 30.5}, "lon"),
        ({"address": "幸福路88号3栋", "extra": {"nested": 1}}, "extra fields"),
        ("not an object", "expected an object"),
    ],
)
def test_a_bad_item_gets_its_own_error_and_the_others_are_answered(
    reader: TestClient, item: object, reason: str
) -> None:
    items = [{"address": "幸福路88号3栋", "id": "T-1"}, item, {"lon": 114.3145, "lat": 30.5045, "id": 7}]
    reply = reader.post("/lookup/batch", json={"items": items})
    assert reply.status_code == 200, reply.text
    first, bad, last = reply.json()["results"]
    assert (first["status"], first["grid"]["code"], first["input"]) == ("ok", "G1", {"id": "T-1"})
    assert (bad["status"], bad["row"]) == ("invalid", 2)
    assert reason in bad["detail"] and "item 2" in bad["detail"]
    assert (last["status"], last["grid"]["code"], last["input"]) == ("ok", "G3", {"id": 7})


@pytest.mark.parametrize("body", [{"items": [{"address": "a"}] * 10_001}, {"nothing": 1}, "not a batch"])
def test_batch_rejects_a_body_that_is_not_a_batch(reader: TestClient, body: object) -> None:
    reply = reader.post("/lookup/batch", json=body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["errors"]


def test_csv_batch_rows_crs_pass_through_and_csv_reply(reader: TestClient) -> None:
    gcj_x, gcj_y = from_wgs84([114.3045], [30.5045], "gcj02")
    text = (
        "工单号,地址,经度,纬度,坐标系,备注\n"
        "A-1,幸福社区幸福路88号3栋,,,,急\n"
        "A-2,,,,,no address\n"
        f"A-3,,{gcj_x[0]:.8f},{gcj_y[0]:.8f},gcj02,\n"
        "A-4,,114.3145,30.5045,mars,\n"
        "A-5,幸福里88号3栋,,,,\n"
    )
    as_json = reader.post("/lookup/batch", content=text.encode(), headers={"Content-Type": "text/csv"})
    assert as_json.status_code == 200, as_json.text
    results = as_json.json()["results"]
    assert [r["row"] for r in results] == [2, 3, 4, 5, 6]
    assert [r["status"] for r in results] == ["ok", "invalid", "ok", "invalid", "not_found"]
    assert "row 3" in results[1]["detail"] and "unknown coordinate system" in results[3]["detail"]
    assert results[0]["input"]["工单号"] == "A-1" and results[0]["input"]["备注"] == "急"
    assert results[2]["grid"]["code"] == "G1" and results[2]["building"]["code"] == "B1"

    reply = reader.post(
        "/lookup/batch?suggest=true",
        content=text.encode("gb18030"),
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert [r["工单号"] for r in rows] == ["A-1", "A-2", "A-3", "A-4", "A-5"]
    assert rows[0]["地址"] == "幸福社区幸福路88号3栋" and rows[0]["备注"] == "急"
    assert (rows[0]["status"], rows[0]["grid_code"], rows[0]["community_name"]) == ("ok", "G1", "幸福社区")
    assert (rows[0]["street_name"], rows[0]["building_code"], rows[0]["match_method"]) == (
        "幸福街道",
        "B1",
        "normalized",
    )
    assert rows[0]["match_score"] == "1.0" and rows[0]["worker_name"] == ""
    assert rows[1]["status"] == "invalid" and "row 3" in rows[1]["detail"]
    assert rows[4]["status"] == "not_found" and rows[4]["suggestions"].startswith(
        "武汉市武昌区幸福路88号3栋 (B1)"
    )


def test_anonymous_suggestions_are_capped_per_batch(reader: TestClient) -> None:
    items = [{"address": f"无此路{i}号"} for i in range(150)]
    anonymous = reader.post("/lookup/batch?suggest=true", json=items).json()["results"]
    searched = [r["suggestions"] is not None for r in anonymous]
    assert searched == [True] * 100 + [False] * 50
    viewer = reader.post("/lookup/batch?suggest=true", json=items, headers=bearer(VIEWER)).json()["results"]
    assert all(r["suggestions"] is not None for r in viewer)


def test_batch_rejects_bad_csv(reader: TestClient) -> None:
    reply = reader.post("/lookup/batch", content=b"name\nfoo\n", headers={"Content-Type": "text/csv"})
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "file"
    broken = reader.post("/lookup/batch", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422


def test_a_number_the_register_lacks_is_interpolated_or_404_naming_candidate_grids(
    reader: TestClient,
) -> None:
    # 和平大道12号 (G3) is registered, its building 3 is not; 幸福路88号 has buildings in G1 and G2.
    body = reader.get("/lookup", params={"address": "和平社区和平大道12号3栋"}).json()
    assert (body["grid"]["code"], body["building"]) == ("G3", None)
    assert body["match"] == {"method": "interpolated", "score": 0.8, "disagrees": [], "between": [12]}
    reply = reader.get("/lookup", params={"address": "幸福路88号5栋"})
    assert reply.status_code == 404
    assert reply.json()["candidates"] == ["G1", "G2"] and reply.json()["suggestions"]
    assert "grid G1 / G2" in reply.json()["detail"]
    unknown = reader.get("/lookup", params={"address": "幸福里88号5栋"}).json()
    assert "candidates" not in unknown  # a road the register lacks: never a grid
    disagree = reader.get("/lookup", params={"address": "和平社区幸福路88号3栋"}).json()
    assert disagree["building"]["code"] == "B1" and disagree["match"]["disagrees"] == ["和平社区"]

    text = "地址\n和平大道12号3栋\n幸福路88号5栋\n"
    reply = reader.post(
        "/lookup/batch", content=text.encode(), headers={"Content-Type": "text/csv", "Accept": "text/csv"}
    )
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert (rows[0]["status"], rows[0]["grid_code"], rows[0]["match_method"]) == ("ok", "G3", "interpolated")
    assert (rows[1]["status"], rows[1]["candidates"]) == ("not_found", "G1 | G2")


def test_the_match_methods_are_the_vocabulary_s(reader: TestClient) -> None:
    schema = reader.get("/openapi.json").json()["components"]["schemas"]["MatchOut"]
    assert schema["properties"]["method"]["enum"] == list(MATCH_METHODS)
    assert "interpolated" in MATCH_METHODS and "interpolated" in schema["properties"]["method"]["description"]


ZH_404 = "未找到与地址 '幸福路99号3栋' 相符的楼栋；该门牌号可能位于网格 G1 / G2"
EN_404 = "no building matches the address '幸福路99号3栋'; its house number may lie in grid G1 / G2"


@pytest.mark.parametrize(
    ("accept", "detail"),
    [
        (None, ZH_404),
        ("zh-CN,zh;q=0.9,en;q=0.8", ZH_404),
        ("en-US,en;q=0.9", EN_404),
        ("fr, en;q=0.5, zh;q=0.1", EN_404),
    ],
)
def test_the_404_detail_is_in_the_caller_s_language_and_the_codes_are_not(
    reader: TestClient, accept: str | None, detail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chinese unless Accept-Language prefers English; `code` and the suggestions read the same."""
    monkeypatch.delenv("GRIDMAP_LANG")
    headers = {"Accept-Language": accept} if accept else {}
    reply = reader.get("/lookup", params={"address": "幸福路99号3栋"}, headers=headers)
    assert reply.status_code == 404
    body = reply.json()
    assert body["detail"] == detail
    assert body["code"] == "not_found" and "B1" in {s["code"] for s in body["suggestions"]}


@pytest.mark.parametrize(
    ("accept", "detail"), [("zh", "lat 必须在 -90 到 90 之间"), ("en", "lat must be between -90 and 90")]
)
def test_a_422_says_what_is_wrong_in_the_caller_s_language(
    reader: TestClient, accept: str, detail: str
) -> None:
    reply = reader.get("/lookup", params={"lon": 114.3, "lat": 95}, headers={"Accept-Language": accept})
    assert reply.status_code == 422
    body = reply.json()
    assert body["code"] == "invalid"
    assert body["detail"] == detail and body["errors"] == [{"field": "lat", "reason": detail}]
