"""The texts table: every message said in both languages, with the same values, by key from the code."""

from __future__ import annotations

import datetime as dt
import pickle
import re
import string
from pathlib import Path

import pytest

from gridmap.cases.calendar import WorkingCalendar
from gridmap.cases.categories import DEFAULT_CATALOGUE, CategoryCatalogue
from gridmap.cases.lifecycle import Actor, plan
from gridmap.cases.vocabulary import Action
from gridmap.errors import ConfigError, NotFoundError, Problem, TransitionError, ValidationError
from gridmap.privacy import Role
from gridmap.texts import Message, joined, language, read_back, render, say, say_again
from gridmap.texts.help import HELP
from gridmap.texts.inputs import input_reason
from gridmap.texts.messages import MESSAGES
from gridmap.visits.rules import check_category

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
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


def test_words_another_library_wrote_in_english_are_read_back_and_said_again() -> None:
    assert read_back("usage.no_such_command", "No such command 'importt'.") == {"name": "'importt'"}
    assert read_back("usage.no_such_command", "Missing command.") is None
    assert (
        say_again("Got unexpected extra argument(s) (a b)", ["usage.extra_arguments"], "zh")
        == "多余的参数（a b）"
    )
    assert say_again("something else", ["usage.extra_arguments"], "zh") is None


@pytest.mark.parametrize(
    ("error", "zh"),
    [
        (
            {
                "type": "greater_than_equal",
                "msg": "Input should be greater than or equal to 1",
                "ctx": {"ge": 1},
            },
            "应大于或等于 1",
        ),
        ({"type": "missing", "msg": "Field required"}, "必须填写"),
        (
            {
                "type": "string_too_long",
                "msg": "String should have at most 3 characters",
                "ctx": {"max_length": 3},
            },
            "最多只能有 3 个字符",
        ),
        (
            {
                "type": "value_error",
                "msg": "Value error, 'x' is not one of 'a', 'b'.",
                "ctx": {"error": ValueError("'x' is not one of 'a', 'b'.")},
            },
            "'x' 不是可选值之一：'a', 'b'。",
        ),
        ({"type": "no_such_type_yet", "msg": "Some new pydantic words"}, "Some new pydantic words"),
    ],
)
def test_pydantic_s_reasons_are_said_in_chinese_and_kept_in_english(
    error: dict[str, object], zh: str
) -> None:
    assert input_reason(error, "zh") == zh
    assert input_reason(error, "en") == error["msg"]


def test_case_and_visit_refusals_are_said_in_either_language() -> None:
    with pytest.raises(ValidationError) as caught:
        check_category("bogus")
    assert (
        caught.value.text("zh")
        .splitlines()[1]
        .startswith("  关爱 文件，字段 category：未知的关爱类别 'bogus'；应为以下之一：")
    )
    assert (
        caught.value.text("en")
        .splitlines()[1]
        .startswith("  care: file, field category: unknown care category 'bogus'")
    )
    case = {"code": "C1", "status": "closed", "community_code": None, "department": None}
    with pytest.raises(TransitionError) as refused:
        plan(
            case,
            Action.CLOSE,
            Actor(Role.ADMIN, "admin"),
            now=NOW,
            calendar=WorkingCalendar(),
            catalogue=DEFAULT_CATALOGUE,
        )
    assert (
        refused.value.text("zh")
        == "案件 C1 当前为结案（closed），不能结案（close）；结案只适用于：核查 (checked)"
    )
    assert refused.value.text("en") == "case C1 is 结案 (closed); 结案 (close) needs 核查 (checked)"
    assert refused.value.status == "closed"


def test_a_joined_list_is_said_in_the_language_it_is_read_in() -> None:
    reasons = joined([Message("case.not_found", code="'X1'"), "plain", Message("case.none")])
    assert reasons == "no case 'X1'; plain; (none)"
    assert reasons.render("zh") == "没有案件 'X1'；plain；（无）"


def test_case_configuration_errors_read_in_both_languages() -> None:
    first = DEFAULT_CATALOGUE.departments[0]
    with pytest.raises(ConfigError) as caught:
        CategoryCatalogue(DEFAULT_CATALOGUE.categories, (*DEFAULT_CATALOGUE.departments, first))
    assert caught.value.text("en") == f"case categories: department {first.code!r} declared twice"
    assert caught.value.text("zh") == f"案件类别：部门 {first.code!r} 声明了两次"
    with pytest.raises(ConfigError) as caught:
        WorkingCalendar(timezone="Mars/Olympus")
    assert caught.value.text("en") == "working calendar: unknown timezone 'Mars/Olympus'"
    assert caught.value.text("zh") == "工作日历：未知的时区 'Mars/Olympus'"
