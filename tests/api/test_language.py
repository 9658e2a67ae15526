"""The API's error details in the caller's language; codes, rows and fields the same in both."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from api.errors import error_body
from api.language import request_language
from gridmap.errors import Problem, ValidationError
from gridmap.texts import Message


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
