"""Open311 GeoReport v2 as a FixMyStreet-style app calls it: form posts with an api_key, JSON lists back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from gridmap.stores import Store
from tests.api.conftest import ADMIN, EDITOR_C1
from tests.cases.conftest import ADDRESS_G1, empty_book

APP_KEY = "fixmystreet-wuchang-key-7f3a9c"
OTHER_KEY = "other-integrator-key-2b8e41d"
TOKENS = {
    APP_KEY: {"role": "integrator", "name": "随手拍App"},
    OTHER_KEY: {"role": "integrator", "name": "另一平台"},
    EDITOR_C1: {"role": "editor", "communities": ["C1"], "name": "幸福社区网格长"},
    ADMIN: {"role": "admin", "name": "指挥中心"},
}
BASE = "/open311/v2"


@pytest.fixture
def api(loaded: Store, store_url: str, tmp_path: Path) -> Iterator[TestClient]:
    empty_book(loaded)
    # Built in a thread, in a folder of the test's own (as tests/api/test_cases.py does): a builder
    # process per test spent seconds of CPU importing gridmap for a test that had ended meanwhile.
    settings = ApiSettings(  # type: ignore[call-arg]
        store=store_url, tokens=json.dumps(TOKENS), builder="thread", serving_dir=tmp_path / "serving"
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_services_list_every_subcategory(api: TestClient) -> None:
    reply = api.get(f"{BASE}/services.json")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/json")
    gas = next(s for s in reply.json() if s["service_code"] == "0503")
    assert gas["service_name"] == "燃气管道破裂" and gas["group"] == "突发事件" and gas["type"] == "realtime"
    assert gas["metadata"] is False and "1 小时" in gas["description"]
    assert api.get(f"{BASE}/services/0503.json").json() == {"service_code": "0503", "attributes": []}
    assert api.get(f"{BASE}/services/9999.json").status_code == 404


def test_a_request_posted_as_a_form_is_a_case_and_reads_back(api: TestClient) -> None:
    form = {
        "api_key": APP_KEY,
        "service_code": "0102",
        "lat": "30.5045",
        "long": "114.3045",
        "description": "小区门口垃圾堆积",
        "first_name": "三丰",
        "last_name": "张",
        "phone": "13812341234",
        "email": "resident@example.com",
    }
    posted = api.post(f"{BASE}/requests.json", data=form)
    assert posted.status_code == 201, posted.text
    [receipt] = posted.json()
    code = receipt["service_request_id"]
    assert receipt["service_notice"] is None
    case = api.get(f"/cases/{code}", headers={"Authorization": f"Bearer {ADMIN}"}).json()
    assert (case["grid_code"], case["source"], case["reporter_name"]) == ("G1", "open311", "张 三丰")
    [request] = api.get(f"{BASE}/requests/{code}.json", params={"api_key": APP_KEY}).json()
    assert request["status"] == "open" and request["status_notes"] == "上报"
    assert request["service_name"] == "暴露垃圾" and request["lat"] == 30.5045 and request["long"] == 114.3045
    assert request["requested_datetime"].endswith("+08:00")
    assert "phone" not in request and "张" not in json.dumps(request, ensure_ascii=False)
    # The case moves on in gridmap; the app sees its status and department.
    for action in ("accept", "dispatch"):
        api.post(f"/cases/{code}/{action}", headers={"Authorization": f"Bearer {EDITOR_C1}"})
    [request] = api.get(f"{BASE}/requests.json", params={"api_key": APP_KEY, "status": "open"}).json()
    assert request["agency_responsible"] == "城市管理局" and request["expected_datetime"]
    assert api.get(f"{BASE}/requests.json", params={"api_key": APP_KEY, "status": "closed"}).json() == []
    # Another integrator does not see this app's requests.
    assert api.get(f"{BASE}/requests.json", params={"api_key": OTHER_KEY}).json() == []
    assert api.get(f"{BASE}/requests/{code}.json", params={"api_key": OTHER_KEY}).status_code == 403


def test_an_address_string_even_an_unknown_one_is_taken(api: TestClient) -> None:
    by_address = api.post(
        f"{BASE}/requests.json",
        data={"api_key": APP_KEY, "service_code": "0102", "address_string": ADDRESS_G1},
    )
    assert by_address.status_code == 201
    unknown = api.post(
        f"{BASE}/requests.json",
        json={"api_key": APP_KEY, "service_code": "0102", "address_string": "武昌区解放路999号"},
    )
    assert unknown.status_code == 201 and "待人工定位" in unknown.json()[0]["service_notice"]
    ids = ",".join(r.json()[0]["service_request_id"] for r in (by_address, unknown))
    listed = api.get(f"{BASE}/requests.json", params={"api_key": APP_KEY, "service_request_id": ids}).json()
    assert {r["address"] for r in listed} == {ADDRESS_G1, "武昌区解放路999号"}


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"service_code": "0102", "lat": "30.5", "long": "114.3"}, 403, "api_key"),
        ({"api_key": "not-a-known-key-123456", "service_code": "0102", "address_string": "x"}, 401, "token"),
        ({"api_key": APP_KEY, "lat": "30.5", "long": "114.3"}, 422, "service_code"),
        ({"api_key": APP_KEY, "service_code": "0102"}, 422, "location"),
        ({"api_key": APP_KEY, "service_code": "0102", "lat": "north", "long": "114.3"}, 422, "lat"),
        ({"api_key": APP_KEY, "service_code": "0102", "lat": "30.5"}, 422, "both"),
        ({"api_key": APP_KEY, "service_code": "9999", "lat": "30.5", "long": "114.3"}, 422, "9999"),
    ],
)
def test_bad_posts_are_georeport_errors(
    api: TestClient, form: dict[str, str], status: int, words: str
) -> None:
    reply = api.post(f"{BASE}/requests.json", data=form)
    assert reply.status_code == status
    [error] = reply.json()
    assert error["code"] == status and words in error["description"]
