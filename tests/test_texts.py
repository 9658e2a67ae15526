"""The texts table: every message said in both languages, with the same values, by key from the code."""

from __future__ import annotations

import pickle
import re
import string
from pathlib import Path

import pytest

from gridmap.errors import ConfigError, NotFoundError, Problem, ValidationError
from gridmap.texts import Message, language, render, say
from gridmap.texts.help import HELP
from gridmap.texts.messages import MESSAGES

ROOT = Path(__file__).resolve().parents[1]
_KEY_IN_CODE = re.compile(r"""(?:Message|say)\(\s*"([a-z_][a-z0-9_.]*)\"""")


def _fields(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_is_said_in_both_languages_with_the_same_values(key: str) -> None:
    zh, en = MESSAGES[key]
    assert zh.strip() and en.strip(), key
    assert _fields(zh) == _fields(en), key


def test_every_help_text_is_given_in_both_languages() -> None:
    missing = [key for key, (zh, en) in HELP.items() if not zh.strip() or not en.strip()]
    assert missing == []
    untranslated = [key for key, (zh, en) in HELP.items() if zh == en]
    assert untranslated == []


def test_every_key_the_code_names_is_in_the_table() -> None:
    named = {
        key
        for folder in ("gridmap", "api")
        for path in (ROOT / folder).rglob("*.py")
        for key in _KEY_IN_CODE.findall(path.read_text(encoding="utf-8"))
    }
    assert len(named) > 100  # the scan finds the code's keys at all
    assert sorted(named - MESSAGES.keys()) == []


def test_a_message_is_english_as_a_string_and_said_in_the_reader_s_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = Message("lookup.no_building", address="'幸福路9号'")
    assert message == "no building matches the address '幸福路9号'"
    assert message.render("zh") == "未找到与地址 '幸福路9号' 相符的楼栋"
    monkeypatch.delenv("GRIDMAP_LANG")
    assert language() == "zh" and render(message) == message.render("zh")
    assert pickle.loads(pickle.dumps(message)).render("zh") == message.render("zh")
    monkeypatch.setenv("GRIDMAP_LANG", "en")
    assert render(message) == message
    monkeypatch.setenv("GRIDMAP_LANG", "fr")
    with pytest.raises(ConfigError, match="GRIDMAP_LANG='fr'"):
        language()


def test_nested_messages_and_numbers_follow_the_language() -> None:
    reason = Message("import.not_kind", cell="'3层'", kind=Message("import.an_integer"), label="", hint="")
    assert reason.render("zh") == "'3层' 不是整数"
    assert reason == "'3层' is not an integer"
    assert say("import.every_row", "zh", n=12000) == "全部 12,000 行都有问题"


def test_an_error_names_file_row_and_reason_in_either_language(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = [
        Problem(3, "size", Message("import.required_empty"), "H2"),
        Problem(None, None, Message("import.no_rows")),
    ]
    error = ValidationError("households.csv", problems)
    assert error.text("zh").splitlines() == [
        "households.csv：2 个问题，未作任何更改",
        "  households.csv 第 3 行（编码 H2），字段 size：必填值为空",
        "  households.csv 文件：文件中没有数据行",
    ]
    assert error.text("en").splitlines() == [
        "households.csv: 2 problem(s), nothing was changed",
        "  households.csv: row 3 (code H2), field size: required value is empty",
        "  households.csv: file: the file holds no rows",
    ]
    monkeypatch.delenv("GRIDMAP_LANG")
    assert str(error) == error.text("zh")
    assert str(NotFoundError(Message("lookup.no_building", address="'x'"))) == "未找到与地址 'x' 相符的楼栋"
    assert str(NotFoundError("plain text stays as written")) == "plain text stays as written"
