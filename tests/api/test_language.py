"""The API's error details in the caller's language; codes, rows and fields the same in both."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.errors import error_body
from api.language import request_language
from api.main import create_app
from api.settings import ApiSettings
from gridmap.errors import Problem, ValidationError
from gridmap.stores import Store
from gridmap.texts import Message
from tests.api.conftest import ADMIN, EDITOR_C1, bearer
from tests.cases.conftest import empty_book


def _request(accept: str | None) -> Request:
    headers = [(b"accept-language", accept.encode())] if accept is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("accept", "lang"),
    [
        ("zh-CN,zh;q=0.9", "zh"),
        ("en-GB,en;q=0.9,zh;q=0.8", "en"),
        ("zh;q=0.5, en;q=0.8", "en"),
        ("fr-FR, de", "zh"),  # neither: the server's language
        ("en;q=0", "zh"),  # refused outright
        ("", "zh"),
        (None, "zh"),
    ],
)
def test_accept_language_picks_chinese_or_english(
    accept: str | None, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRIDMAP_LANG")
    assert request_language(_request(accept)) == lang


def test_the_server_s_language_answers_a_request_naming_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDMAP_LANG", "en")
    assert request_language(_request(None)) == "en"
    assert request_language(_request("zh-TW")) == "zh"


def test_a_validation_error_body_in_both_languages() -> None:
    error = ValidationError("feature", [Problem(1, "size", Message("import.an_integer"), "H1")])
    zh, en = error_body(error, "zh"), error_body(error, "en")
    assert zh["detail"] == "feature：1 个问题，未作任何更改\n  feature 第 1 行（编码 H1），字段 size：整数"
    assert (
        en["detail"]
        == "feature: 1 problem(s), nothing was changed\n  feature: row 1 (code H1), field size: an integer"
    )
    assert zh["errors"] == [{"row": 1, "field": "size", "reason": "整数", "code": "H1"}]
    assert en["errors"] == [{"row": 1, "field": "size", "reason": "an integer", "code": "H1"}]
    assert zh["code"] == en["code"] == "invalid"


def _both(client: TestClient, method: str, url: str, **options: Any) -> tuple[Any, Any]:
    """The reply to one request asked in Chinese (zh-CN) and in English: (status, body) each."""
    replies = []
    for accept in ("zh-CN,zh;q=0.9", "en-GB,en;q=0.9"):
        headers = {**options.pop("headers", {}), "Accept-Language": accept}
        reply = client.request(method, url, headers=headers, **options)
        options["headers"] = {k: v for k, v in headers.items() if k != "Accept-Language"}
        replies.append((reply.status_code, reply.json()))
    return replies[0], replies[1]


def test_fastapi_s_validation_details_follow_accept_language(reader: TestClient) -> None:
    (status, zh), (_, en) = _both(
        reader, "GET", "/cases?since=yesterday&overdue=maybe", headers=bearer(ADMIN)
    )
    assert status == 422 and zh["code"] == en["code"] == "invalid"
    assert zh["detail"] == "参数无效：overdue, since" and en["detail"] == "invalid overdue, since"
    assert [e["field"] for e in zh["errors"]] == [e["field"] for e in en["errors"]] == ["overdue", "since"]
    assert zh["errors"][0]["reason"] == "应为是或否（true/false），无法识别"
    assert en["errors"][0]["reason"] == "Input should be a valid boolean, unable to interpret input"
    assert zh["errors"][1]["reason"] == "应为日期或时间：input is too short"
    assert en["errors"][1]["reason"] == "Input should be a valid date or datetime, input is too short"


def test_query_parameter_and_not_found_details_follow_accept_language(reader: TestClient) -> None:
    (status, zh), (_, en) = _both(reader, "GET", "/collections/grids/items?limit=abc")
    assert status == 400 and zh["code"] == en["code"] == "invalid_parameter"
    assert (
        zh["detail"] == "limit 必须是整数，而不是 'abc'"
        and en["detail"] == "limit must be an integer, not 'abc'"
    )
    assert (
        zh["errors"] == [{"field": "limit", "reason": zh["detail"]}] and en["errors"][0]["field"] == "limit"
    )
    (status, zh), (_, en) = _both(reader, "GET", "/collections/grids/items?limit=0")
    assert (
        zh["detail"] == "limit 必须至少为 1，而不是 0" and en["detail"] == "limit must be at least 1, not 0"
    )


def test_authentication_and_permission_details_follow_accept_language(reader: TestClient) -> None:
    (status, zh), (_, en) = _both(reader, "GET", "/cases/stats", headers=bearer("not-a-token-0123456789"))
    assert status == 401 and zh["code"] == en["code"] == "unauthenticated"
    assert (zh["detail"], en["detail"]) == ("未知或已撤销的令牌", "unknown or revoked token")
    (status, zh), (_, en) = _both(reader, "GET", "/cases/stats")
    assert status == 403 and zh["code"] == en["code"] == "forbidden"
    assert zh["detail"] == "案件统计需要 viewer 角色（您是 anonymous）"
    assert en["detail"] == "case statistics needs the viewer role (you are anonymous)"


def test_a_case_transition_refused_over_http_reads_in_the_language(client: TestClient) -> None:
    body = {"category": "0102", "address": "武汉市武昌区幸福路88号3栋"}
    reported = client.post("/cases", json=body, headers=bearer(ADMIN))
    assert reported.status_code == 201, reported.text
    code = reported.json()["code"]
    (status, zh), (_, en) = _both(client, "POST", f"/cases/{code}/close", headers=bearer(ADMIN))
    assert (
        status == 409
        and zh["code"] == en["code"] == "conflict"
        and zh["status"] == en["status"] == "reported"
    )
    assert (
        zh["detail"] == f"案件 {code} 当前为上报（reported），不能结案（close）；结案只适用于：核查 (checked)"
    )
    assert en["detail"] == f"case {code} is 上报 (reported); 结案 (close) needs 核查 (checked)"
    (status, zh), (_, en) = _both(client, "POST", f"/cases/{code}/void", json={}, headers=bearer(ADMIN))
    assert status == 422 and zh["code"] == en["code"] == "invalid"
    assert zh["errors"] == [
        {"row": None, "field": "note", "reason": "作废（void）必须说明理由", "code": code}
    ]
    assert en["errors"][0]["reason"] == "作废 (void) must give a reason"
    assert zh["detail"].splitlines()[0] == f"案件 {code}：1 个问题，未作任何更改"
    (status, zh), (_, en) = _both(client, "GET", "/cases/19990101000000", headers=bearer(ADMIN))
    assert status == 404 and (zh["detail"], en["detail"]) == (
        "没有案件 '19990101000000'",
        "no case '19990101000000'",
    )


def test_why_a_case_is_unplaced_reads_in_the_language(client: TestClient) -> None:
    body = {"category": "0102", "address": "解放路999号"}
    for accept, reason in (
        ("zh-CN", "地址不在登记册中：解放路999号"),
        ("en", "address not in the register: 解放路999号"),
    ):
        reply = client.post("/cases", json=body, headers={**bearer(ADMIN), "Accept-Language": accept})
        assert reply.status_code == 201, reply.text
        assert reply.json()["placement"]["reason"] == reason
        assert reply.json()["placement"]["method"] is None


def test_a_batch_body_the_lookup_cannot_read_is_refused_in_the_language(reader: TestClient) -> None:
    csv_body = {"content": b"", "headers": {"Content-Type": "text/csv"}}
    (status, zh), (_, en) = _both(reader, "POST", "/lookup/batch", **csv_body)
    assert status == 422 and zh["code"] == en["code"]
    assert (zh["detail"], en["detail"]) == ("CSV 为空：第一行应为表头", "CSV is empty: expected a header row")
    repeated = {"content": "地址,地址\n幸福路88号,\n".encode(), "headers": {"Content-Type": "text/csv"}}
    (status, zh), (_, en) = _both(reader, "POST", "/lookup/batch", **repeated)
    assert status == 422
    assert (zh["detail"], en["detail"]) == (
        "CSV 表头中的列重复：地址",
        "CSV header repeats the column(s) 地址",
    )


def test_a_patch_naming_an_unknown_field_is_refused_in_the_language(reader: TestClient) -> None:
    patch = {"json": {"properties": {"colour": "red"}}, "headers": bearer(ADMIN)}
    (status, zh), (_, en) = _both(reader, "PATCH", "/collections/grids/items/G1", **patch)
    assert status == 422 and zh["code"] == en["code"]
    assert (zh["detail"], en["detail"]) == ("grids 没有字段 'colour'", "grids has no field 'colour'")
    assert (
        reader.get("/collections/grids/items/G1", headers=bearer(ADMIN)).json()["properties"]["name"]
        == "幸福一网格"
    )


def test_an_editor_s_write_outside_their_communities_is_refused_in_the_language(reader: TestClient) -> None:
    (status, zh), (_, en) = _both(reader, "DELETE", "/collections/grids/items/G3", headers=bearer(EDITOR_C1))
    assert status == 403 and zh["code"] == en["code"] == "forbidden"
    assert zh["detail"] == (
        "删除 grids G3 超出了您管辖的社区（C1）："
        "原 grids G3：几何不在范围内；原 grids G3：community_code C2 不归您管辖"
    )
    assert en["detail"] == (
        "deleting grids G3 reaches outside your communities (C1): "
        "old grids G3: geometry is not inside; old grids G3: community_code C2 is not yours"
    )
    assert reader.get("/collections/grids/items/G3", headers=bearer(ADMIN)).status_code == 200


def test_an_open311_request_without_a_service_code_is_refused_in_the_language(
    loaded: Store, store_url: str
) -> None:
    empty_book(loaded)
    key = "fixmystreet-language-key-4c1d7e"
    settings = ApiSettings(store=store_url, tokens=json.dumps({key: {"role": "integrator"}}))  # type: ignore[call-arg]
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        form = {"data": {"api_key": key, "lat": "30.505", "long": "114.305"}}
        (status, zh), (_, en) = _both(api, "POST", "/open311/v2/requests.json", **form)
    assert status == 422
    assert zh == [{"code": 422, "description": "需要 service_code（见 services.json）"}]
    assert en == [{"code": 422, "description": "service_code is required (see services.json)"}]


def test_a_stale_if_match_is_refused_in_the_language(client: TestClient) -> None:
    now = client.get("/collections/grids/items/G1", headers=bearer(ADMIN)).headers["ETag"]
    patch = {"json": {"properties": {"name": "新名"}}, "headers": {**bearer(ADMIN), "If-Match": '"stale"'}}
    (status, zh), (_, en) = _both(client, "PATCH", "/collections/grids/items/G1", **patch)
    assert status == 412 and zh["code"] == en["code"]
    assert zh["detail"] == f'grids G1 在读取之后已被修改（If-Match "stale"，现为 {now}）：请重新读取'
    assert en["detail"] == (
        f'grids G1 has changed since it was read (If-Match "stale", now {now}): read it again'
    )
