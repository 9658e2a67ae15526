"""`/cases` over HTTP on both stores: intake, transitions, confinement, filters, formats, statistics."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from gridmap.errors import ConfigError
from gridmap.stores import Store
from tests.api.conftest import ADMIN, EDITOR_C1, VIEWER, bearer
from tests.cases.conftest import ADDRESS_G1, ADDRESS_G3, empty_book

CITY = "department-cgj-token-0123456789"
WATER = "department-swj-token-0123456789"
EDITOR_C2 = "editor-c2-token-0123456789abc"
TOKENS = {
    VIEWER: {"role": "viewer"},
    EDITOR_C1: {"role": "editor", "communities": ["C1"], "name": "幸福社区网格长"},
    EDITOR_C2: {"role": "editor", "communities": ["C2"], "name": "和平社区网格长"},
    CITY: {"role": "department", "departments": ["cgj"], "name": "城管中队"},
    WATER: {"role": "department", "departments": ["swj"], "name": "水务所"},
    ADMIN: {"role": "admin", "name": "指挥中心"},
}
INTAKE_PER_MINUTE = 3


@pytest.fixture
def api(loaded: Store, store_url: str, tmp_path: Path) -> Iterator[TestClient]:
    # Every speaker works, so the builder opens no repair ticket among the cases these tests count.
    loaded.upsert("speakers", loaded.read("speakers").assign(status="working"))
    empty_book(loaded)
    # The analysis is built in a thread, in a folder of the test's own: a builder process per test
    # spent seconds of CPU importing gridmap, mostly for nothing, as the test had ended meanwhile.
    settings = ApiSettings(  # type: ignore[call-arg]
        store=store_url,
        tokens=json.dumps(TOKENS),
        case_intake_per_minute=INTAKE_PER_MINUTE,
        builder="thread",
        serving_dir=tmp_path / "serving",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def new_case(api: TestClient, address: str = ADDRESS_G1, category: str = "0102", token: str = ADMIN) -> str:
    body = {
        "category": category,
        "address": address,
        "reporter_name": "张三丰",
        "reporter_phone": "13812341234",
    }
    reply = api.post("/cases", json=body, headers=bearer(token))
    assert reply.status_code == 201, reply.text
    return str(reply.json()["code"])


def move(api: TestClient, code: str, action: str, token: str, **body: str) -> dict[str, object]:
    reply = api.post(f"/cases/{code}/{action}", json=body, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    result: dict[str, object] = reply.json()
    return result


def test_anonymous_intake_is_routed_masked_and_rate_limited(api: TestClient) -> None:
    body = {"category": "0102", "address": ADDRESS_G1, "reporter_phone": "13812341234", "source": "resident"}
    for _ in range(INTAKE_PER_MINUTE):
        reply = api.post("/cases", json=body)
        assert reply.status_code == 201
        case = reply.json()
        assert (case["grid_code"], case["community_code"], case["status"]) == ("G1", "C1", "reported")
        assert "reporter_phone" not in case
    limited = api.post("/cases", json=body)
    assert limited.status_code == 429 and "at most 3 a minute" in limited.json()["detail"]
    assert api.post("/cases", json=body, headers=bearer(VIEWER)).status_code == 201  # a token is not limited
    listed = api.get("/cases", headers=bearer(ADMIN)).json()
    assert listed["numberMatched"] == INTAKE_PER_MINUTE + 1


def test_bad_reports_are_422_and_write_nothing(api: TestClient) -> None:
    assert api.post("/cases", json={"category": "9999", "address": ADDRESS_G1}).status_code == 422
    assert api.post("/cases", json={"category": "0102", "lon": 200, "lat": 30}).status_code == 422
    half = api.post("/cases", json={"category": "0102", "lon": 114.3})
    assert half.status_code == 422 and half.json()["errors"][0]["field"] == "lon"
    assert api.get("/cases", headers=bearer(ADMIN)).json()["numberMatched"] == 0


def test_hotline_intake_never_loses_a_case(api: TestClient) -> None:
    """An unknown address, a point in no grid, no address: 201, kept unplaced with the ticket number."""
    bodies = [
        {"category": "0102", "address": "武汉市武昌区解放路999号", "ticket_no": "GD20261201-0001"},
        {"category": "0102", "lon": 116.4, "lat": 39.9, "ticket_no": "GD20261201-0002"},
        {"category": "0102", "description": "来电人说不清地址", "ticket_no": "GD20261201-0003"},
    ]
    codes = []
    for body in bodies:
        reply = api.post("/cases", json={**body, "source": "hotline"}, headers=bearer(VIEWER))
        assert reply.status_code == 201, reply.text
        case = reply.json()
        assert case["grid_code"] is None and case["placement"]["method"] is None
        assert case["ticket_no"] == body["ticket_no"]
        codes.append(case["code"])
    assert api.post("/cases", json=bodies[0]).json()["placement"]["suggestions"]
    found = api.get("/cases?ticket_no=GD20261201-0002", headers=bearer(ADMIN)).json()
    assert [c["code"] for c in found["cases"]] == [codes[1]]
    unplaced = api.get("/cases?placed=false", headers=bearer(EDITOR_C1)).json()
    assert unplaced["numberMatched"] == 4
    refused = api.post(f"/cases/{codes[2]}/place", json={"grid": "G3"}, headers=bearer(EDITOR_C1))
    assert refused.status_code == 403
    placed = api.post(f"/cases/{codes[2]}/place", json={"address": ADDRESS_G1}, headers=bearer(EDITOR_C1))
    assert placed.status_code == 200 and placed.json()["grid_code"] == "G1"
    assert placed.json()["placed_by"] == "editor"


def test_the_loop_over_http(api: TestClient) -> None:
    code = new_case(api)
    move(api, code, "accept", EDITOR_C1)
    dispatched = move(api, code, "dispatch", EDITOR_C1)
    assert dispatched["department"] == "cgj" and dispatched["due_at"]
    assert api.get(f"/cases/{code}", headers=bearer(WATER)).status_code == 403
    assert api.post(f"/cases/{code}/handle", headers=bearer(WATER)).status_code == 403
    handled = move(api, code, "handle", CITY, note="已清运")
    assert handled["handler"] == "城管中队"
    assert api.post(f"/cases/{code}/check", headers=bearer(CITY)).status_code == 403
    move(api, code, "check", EDITOR_C1)
    closed = move(api, code, "close", EDITOR_C1)
    assert closed["status"] == "closed" and closed["on_time"] is True
    again = api.post(f"/cases/{code}/close", headers=bearer(EDITOR_C1))
    assert again.status_code == 409
    assert again.json()["status"] == "closed" and "结案 (closed)" in again.json()["detail"]
    detail = api.get(f"/cases/{code}", headers=bearer(EDITOR_C1)).json()
    assert [e["action"] for e in detail["events"]] == [
        "report",
        "accept",
        "dispatch",
        "handle",
        "check",
        "close",
    ]
    assert detail["reporter_phone"] == "138****1234"
    assert api.get(f"/cases/{code}", headers=bearer(ADMIN)).json()["reporter_phone"] == "13812341234"
    assert api.post(f"/cases/{code}/teleport", headers=bearer(ADMIN)).status_code == 422
    assert api.get("/cases/19990101000000", headers=bearer(ADMIN)).status_code == 404


def test_an_editor_cannot_dispatch_outside_its_communities(api: TestClient) -> None:
    code = new_case(api, ADDRESS_G3)
    move(api, code, "accept", EDITOR_C2)
    refused = api.post(f"/cases/{code}/dispatch", headers=bearer(EDITOR_C1))
    assert refused.status_code == 403 and "community C2" in refused.json()["detail"]
    assert api.get(f"/cases/{code}", headers=bearer(ADMIN)).json()["status"] == "accepted"


def test_filters_and_formats(api: TestClient) -> None:
    rubbish, flood = new_case(api), new_case(api, ADDRESS_G3, "0505")
    for code, editor in ((rubbish, EDITOR_C1), (flood, EDITOR_C2)):
        move(api, code, "accept", editor)
    move(api, flood, "dispatch", EDITOR_C2)

    def codes(query: str, token: str = ADMIN) -> list[str]:
        return [c["code"] for c in api.get(f"/cases?{query}", headers=bearer(token)).json()["cases"]]

    assert codes("grid=G3") == [flood]
    assert codes("community=C1") == [rubbish]
    assert codes("status=accepted") == [rubbish]
    assert sorted(codes("status=accepted&status=dispatched")) == sorted([rubbish, flood])
    assert codes("department=swj") == [flood]
    assert codes("category=05") == [flood]
    assert codes("overdue=true") == []
    assert codes("since=2000-01-01&until=2000-12-31") == []
    assert codes("", EDITOR_C2) == [flood]
    assert codes("", WATER) == [flood] and codes("", CITY) == []
    assert api.get("/cases", headers=bearer(VIEWER)).json()["numberMatched"] == 0
    assert api.get("/cases?since=2026-02-01&until=2026-01-01", headers=bearer(ADMIN)).status_code == 422
    geojson = api.get("/cases?format=geojson&grid=G3", headers=bearer(ADMIN))
    assert geojson.headers["content-type"] == "application/geo+json"
    feature = geojson.json()["features"][0]
    assert feature["geometry"]["type"] == "Point" and feature["properties"]["code"] == flood
    text = api.get("/cases?format=csv", headers=bearer(EDITOR_C1)).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["code"] for r in rows] == [rubbish] and rows[0]["reporter_phone"] == "138****1234"
    assert float(rows[0]["lon"]) == pytest.approx(114.3045, abs=1e-3)


def test_statistics_over_http(api: TestClient) -> None:
    code = new_case(api)
    for action, token in (("accept", EDITOR_C1), ("dispatch", EDITOR_C1), ("handle", CITY)):
        move(api, code, action, token)
    before = api.get("/cases/stats?by=grid", headers=bearer(VIEWER)).json()
    assert [(r["key"], r["received"], r["closed"]) for r in before["rows"]] == [("G1", 1, 0)]
    move(api, code, "check", EDITOR_C1)
    move(api, code, "close", EDITOR_C1)
    after = api.get("/cases/stats?by=department", headers=bearer(VIEWER)).json()
    row = after["rows"][0]
    assert (row["key"], row["name"], row["closed"], row["on_time_rate"]) == ("cgj", "城市管理局", 1, 1.0)
    assert after["labels"]["on_time_rate"] == "按期结案率"
    assert api.get("/cases/stats").status_code == 403
    assert api.get("/cases/stats?by=planet", headers=bearer(VIEWER)).status_code == 422
    month = api.get("/cases/stats?by=grid&period=month", headers=bearer(VIEWER)).json()
    this_month = dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    assert [(r["period"], r["key"], r["closed"]) for r in month["rows"]] == [(this_month, "G1", 1)]
    assert month["period"] == "month" and month["labels"]["period"] == "统计月份"
    assert api.get("/cases/stats?period=week", headers=bearer(VIEWER)).status_code == 422


def test_categories_are_served(api: TestClient) -> None:
    body = api.get("/cases/categories").json()
    assert [c["name_zh"] for c in body["categories"]] == [
        "市容环境",
        "宣传广告",
        "施工管理",
        "街面秩序",
        "突发事件",
        "其他",
        "设施维修",
    ]
    assert {"code": "void", "name_zh": "作废", "name_en": "Void"} in body["actions"]
    assert [t["name_zh"] for t in body["satisfaction"]] == ["满意", "基本满意", "不满意"]
    assert [t["code"] for t in body["levels"]] == ["grid", "community", "street"]


def test_a_department_token_must_name_its_departments() -> None:
    tokens = {CITY: {"role": "department"}}
    with pytest.raises(ConfigError, match="bound to at least one department"):
        create_app(ApiSettings(tokens=json.dumps(tokens)))  # type: ignore[call-arg]


def test_case_list_offsets_are_bounded(api: TestClient) -> None:
    too_far = api.get("/cases", params={"offset": 99999999999999999999}, headers=bearer(ADMIN))
    assert too_far.status_code == 422 and too_far.json()["errors"][0]["field"]
    past_end = api.get("/cases", params={"offset": 2**53}, headers=bearer(ADMIN))
    assert past_end.status_code == 200 and past_end.json()["cases"] == []


def test_the_days_list_and_graded_rates_over_http(api: TestClient) -> None:
    code = new_case(api)
    move(api, code, "accept", EDITOR_C1)
    move(api, code, "dispatch", EDITOR_C1)
    listed = api.get("/cases/due?on=2099-01-05", headers=bearer(EDITOR_C1)).json()
    assert [(i["kind"], i["case"]["code"]) for i in listed["items"]] == [("escalate", code)]
    assert listed["items"][0]["kind_zh"] == "督办" and listed["items"][0]["escalate_to"] == "community"
    assert api.get("/cases/due?on=2099-01-05", headers=bearer(WATER)).json()["items"] == []
    rows = api.get("/cases/stats?by=grid", headers=bearer(VIEWER)).json()["rows"]
    assert rows[0]["grades"]["response_rate"] == {"grade": "A", "color": "#1a9641"}
    assert rows[0]["grades"]["satisfaction_rate"]["grade"] is None


def test_the_dashboard_over_http(api: TestClient) -> None:
    code = new_case(api)
    move(api, code, "accept", EDITOR_C1)
    move(api, code, "dispatch", EDITOR_C1)
    mine = api.get("/cases/dashboard?on=2099-01-05", headers=bearer(EDITOR_C1)).json()
    counts = {c["code"]: (c["value"], c["label_zh"]) for c in mine["counts"]}
    assert counts["overdue"] == (0, "超期") and counts["due_today"] == (0, "今日到期")
    assert mine["day"] == "2099-01-05" and mine["month"] == "2099-01"
    assert [r["label_zh"] for r in mine["rates"]] == ["响应率", "解决率", "满意率"]
    assert api.get("/cases/dashboard").status_code == 403
    assert api.get("/cases/dashboard?on=0001-01-01", headers=bearer(VIEWER)).status_code == 422
