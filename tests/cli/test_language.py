"""The command line speaks Chinese by default and English with GRIDMAP_LANG=en: help, messages, errors."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gridmap.cli import app, main
from gridmap.cli.localised import help_key, help_text
from gridmap.texts.help import HELP

_FRAME = re.compile(r"[\s│╭╮╰╯─]+")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the app (groups too), with its path, as typer builds them."""
    yield path, command
    if hasattr(command, "list_commands"):
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            yield from _commands(command.get_command(ctx, name), (*path, name))


ROOT = typer.main.get_command(app)  # built once: typer rebuilds every command on each run
COMMANDS = list(_commands(ROOT))


def _help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    """What `gridmap PATH --help` prints (the help option asks the command's context for its help)."""
    ctx = typer.Context(ROOT, info_name="gridmap")
    command = ROOT
    for name in path:
        command = command.get_command(ctx, name)
        ctx = typer.Context(command, info_name=name, parent=ctx)
    capsys.readouterr()
    command.get_help(ctx)
    return capsys.readouterr().out


def _flat(text: str) -> str:
    """Help output without spaces, line breaks and table frames: what a wrapped cell says."""
    return _FRAME.sub("", text)


def test_the_app_has_its_commands() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "import", "lookup", "cases list", "token add", "visits due"} <= paths
    assert len(paths) >= 38


def test_every_command_and_option_has_help_in_both_languages() -> None:
    keys = {
        key
        for path, command in COMMANDS
        for key in (
            help_key(" ".join(path)),
            *(help_key(" ".join(path), p.name) for p in [*command.params] if p.name),
            help_key(" ".join(path), "help"),
        )
    }
    assert sorted(keys - HELP.keys()) == []
    assert sorted(k for k in HELP.keys() - keys) == []  # no help for something that is gone


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_help_of_every_command_reads_in_the_language(
    path: tuple[str, ...],
    command: Any,
    lang: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if lang == "zh":
        monkeypatch.delenv("GRIDMAP_LANG")  # the default
    else:
        monkeypatch.setenv("GRIDMAP_LANG", lang)
    monkeypatch.setenv("COLUMNS", "1000")  # no cell wraps
    other = "en" if lang == "zh" else "zh"
    output = _help(path, capsys)
    shown = _flat(output)
    name = " ".join(path)
    first = help_text(help_key(name), lang).split("\n\n")[0]
    assert _flat(first) in shown
    assert _flat(help_text(help_key(name), other).split("\n\n")[0]) not in shown
    for param in command.params:
        assert _flat(help_text(help_key(name, param.name), lang)) in shown, param.name
    assert ("用法：" in output) == (lang == "zh")
    assert ("选项" in output) == (lang == "zh")


def test_help_is_what_the_help_option_prints() -> None:
    done = CliRunner().invoke(app, ["lookup", "--help"], env={"GRIDMAP_LANG": "zh", "COLUMNS": "1000"})
    assert done.exit_code == 0
    assert "用法：" in done.output and help_text("lookup lon", "zh") in done.output


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _run(args: list[str], lang: str | None, cwd: Path, pytest_env: tuple[Any, Any]) -> Ran:
    """`gridmap ARGS` in `cwd` as the entry point runs it (in this process: a new one takes seconds)."""
    monkeypatch, capsys = pytest_env
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["gridmap", *args])
    if lang is None:
        monkeypatch.delenv("GRIDMAP_LANG", raising=False)
    else:
        monkeypatch.setenv("GRIDMAP_LANG", lang)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr()
    return Ran(exited.value.code or 0, out.out, out.err)


@pytest.fixture
def pytest_env(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[Any, Any]:
    return monkeypatch, capsys


def test_a_refused_import_names_file_row_and_reason_in_chinese_by_default_and_in_english(
    tmp_path: Path, pytest_env: tuple[Any, Any]
) -> None:
    (tmp_path / "households.csv").write_text(
        "code,address,size,lon,lat\nH1,幸福路1号,abc,114.30,30.56\nH2,幸福路2号,3,114.30,30.56\n",
        encoding="utf-8",
    )
    args = ["import", "households", "households.csv", "--store", "s.gpkg"]
    zh = _run(args, None, tmp_path, pytest_env)
    assert zh.returncode == 1
    assert zh.stderr.splitlines() == [
        "错误： households.csv：1 个问题，未作任何更改",
        "  households.csv 第 1 行（编码 H1），字段 size：'abc' 不是整数",
    ]
    en = _run(args, "en", tmp_path, pytest_env)
    assert en.returncode == 1
    assert en.stderr.splitlines() == [
        "error: households.csv: 1 problem(s), nothing was changed",
        "  households.csv: row 1 (code H1), field size: 'abc' is not an integer",
    ]
    assert not (tmp_path / "s.gpkg").exists()  # a refused file leaves nothing behind


def test_an_import_reports_what_it_read_in_the_language(tmp_path: Path, pytest_env: tuple[Any, Any]) -> None:
    (tmp_path / "speakers.csv").write_text(
        "编码,名称,经度,纬度\nS1,一号广播,114.30,30.56\n", encoding="utf-8"
    )
    args = ["import", "speakers", "speakers.csv", "--store", "s.gpkg"]
    zh = _run(args, None, tmp_path, pytest_env)
    assert zh.returncode == 0, zh.stderr
    assert "已读取 speakers.csv 中的 1 条广播(村村响)（speakers）" in zh.stdout
    assert "已导入 speakers.csv 中的 1 条广播(村村响)（speakers）" in zh.stdout
    en = _run([*args[:-1], "s2.gpkg"], "en", tmp_path, pytest_env)
    assert "read 1 speakers (广播(村村响)) from speakers.csv" in en.stdout
    assert "imported 1 speakers (广播(村村响)) from speakers.csv" in en.stdout


def _panel(text: str) -> str:
    """The message inside typer's error panel, its lines joined (the frame and padding taken off)."""
    lines = [line.strip("│ ") for line in text.splitlines() if line.startswith("│")]
    return "".join(lines) if any("\u4e00" <= ch <= "\u9fff" for ch in "".join(lines)) else " ".join(lines)


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (["import"], "缺少参数 'layer'。", "Missing argument 'layer'."),
        (["import", "households", "--bogus"], "没有选项 --bogus", "No such option: --bogus"),
        (
            ["cases", "list", "--limit"],
            "选项 '--limit' 需要一个值。",
            "Option '--limit' requires an argument.",
        ),
        (
            ["cases", "list", "--limit", "abc"],
            "'--limit' 的值无效：应为整数，无法解析为整数",
            "Invalid value for '--limit': Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        (
            ["cases", "list", "--limit", "0"],
            "'--limit' 的值无效：应大于或等于 1",
            "Invalid value for '--limit': Input should be greater than or equal to 1",
        ),
        (
            ["import", "households", "missing.csv"],
            "'file' 的值无效：文件 'missing.csv' 不存在。",
            "Invalid value for 'file': file 'missing.csv' does not exist.",
        ),
        (
            ["import", "households", "here.csv", "extra"],
            "多余的参数（extra）",
            "Got unexpected extra argument(s) (extra)",
        ),
        (["cases"], "缺少命令。", "Missing command."),
        (["nosuch"], "没有命令 'nosuch'。", "No such command 'nosuch'."),
        (
            ["importt"],
            "没有命令 'importt'。您是否要用 'import', 'report', 'export'？",
            "No such command 'importt'. Did you mean 'import', 'report', 'export'?",
        ),
        (
            ["map", "--lang", "fr"],
            "'--lang' 的值无效：'fr' 不是可选值之一：'zh', 'en'。",
            "Invalid value for '--lang': Value error, 'fr' is not one of 'zh', 'en'.",
        ),
    ],
)
def test_a_usage_error_reads_in_the_language(
    args: list[str], zh: str, en: str, tmp_path: Path, pytest_env: tuple[Any, Any]
) -> None:
    (tmp_path / "here.csv").write_text("code\n", encoding="utf-8")
    monkeypatch, _ = pytest_env
    monkeypatch.setenv("COLUMNS", "1000")  # the panel holds the message on one line
    chinese = _run(args, None, tmp_path, pytest_env)
    assert chinese.returncode == 2
    assert _panel(chinese.stderr) == zh
    assert "─ 错误 ─" in chinese.stderr and "Usage" not in chinese.stderr
    english = _run(args, "en", tmp_path, pytest_env)
    assert english.returncode == 2
    assert _panel(english.stderr) == en
    assert "─ Error ─" in english.stderr and "用法" not in english.stderr


def test_the_map_s_labels_follow_gridmap_lang(
    sample_store: str, tmp_path: Path, pytest_env: tuple[Any, Any]
) -> None:
    args = ["map", "--store", sample_store, "--out", "coverage.html"]
    assert _run(args, "en", tmp_path, pytest_env).returncode == 0
    english = (tmp_path / "coverage.html").read_text(encoding="utf-8")
    assert "Grid coverage map" in english and "网格覆盖图" not in english
    assert _run(args, None, tmp_path, pytest_env).returncode == 0
    assert "网格覆盖图" in (tmp_path / "coverage.html").read_text(encoding="utf-8")
    assert _run([*args, "--lang", "zh"], "en", tmp_path, pytest_env).returncode == 0  # asked for: Chinese
    assert "网格覆盖图" in (tmp_path / "coverage.html").read_text(encoding="utf-8")


@pytest.fixture
def district_store(tmp_path: Path) -> str:
    """A GeoPackage holding the small test district (three grids, two communities), no cases yet."""
    from gridmap.stores import open_store
    from tests.api.conftest import district

    path = str(tmp_path / "district.gpkg")
    with open_store(path) as store:
        store.replace_many(district())
    return path


def test_a_case_transition_refused_reads_in_the_language(
    district_store: str, tmp_path: Path, pytest_env: tuple[Any, Any]
) -> None:
    pytest_env[0].setenv("COLUMNS", "1000")  # the error on one line
    reported = _run(
        ["cases", "report", "0102", "--address", "武汉市武昌区幸福路88号3栋", "--store", district_store],
        None,
        tmp_path,
        pytest_env,
    )
    assert reported.returncode == 0, reported.stderr
    code = reported.stdout.split()[1]
    args = ["cases", "move", code, "close", "--by", "张", "--store", district_store]
    zh = _run(args, None, tmp_path, pytest_env)
    assert zh.returncode == 1
    assert " ".join(zh.stderr.split()) == (  # a console made earlier in this process may fold the line
        f"错误： 案件 {code} 当前为上报（reported），不能结案（close）；结案只适用于：核查 (checked)"
    )
    en = _run(args, "en", tmp_path, pytest_env)
    english = f"error: case {code} is 上报 (reported); 结案 (close) needs 核查 (checked)"
    assert " ".join(en.stderr.split()) == english
    missing = _run(
        ["cases", "move", "19990101000000", "close", "--store", district_store], None, tmp_path, pytest_env
    )
    assert missing.stderr.strip() == "错误： 没有案件 '19990101000000'"
    bad = _run(
        ["cases", "move", code, "dispatch", "--note", "x" * 2001, "--store", district_store],
        None,
        tmp_path,
        pytest_env,
    )
    assert bad.stderr.splitlines() == [
        f"错误： 案件 {code}：1 个问题，未作任何更改",
        f"  案件 {code} 文件，字段 note：超过 2000 个字符",
    ]


def test_the_case_tables_read_only_the_reader_s_language(
    district_store: str, tmp_path: Path, pytest_env: tuple[Any, Any]
) -> None:
    monkeypatch, _ = pytest_env
    monkeypatch.setenv("COLUMNS", "200")
    report = ["cases", "report", "0102", "--address", "解放路999号", "--store", district_store]
    unplaced = _run(report, None, tmp_path, pytest_env)
    assert "待定位（地址不在登记册中：解放路999号）" in unplaced.stdout
    listed = _run(["cases", "list", "--store", district_store], None, tmp_path, pytest_env)
    assert "案件 1 / 1 件（北京时间）" in listed.stdout
    assert all(word in listed.stdout for word in ("案件编号", "状态", "处置时限", "上报", "否"))
    english = _run(["cases", "list", "--store", district_store], "en", tmp_path, pytest_env)
    assert "cases: 1 of 1 (Beijing time)" in english.stdout
    assert "Reported" in english.stdout and "上报" not in english.stdout and "案件" not in english.stdout
    stats = _run(["cases", "stats", "--by", "grid", "--store", district_store], None, tmp_path, pytest_env)
    assert "案件统计（按网格）" in stats.stdout and "case statistics" not in stats.stdout
    stats = _run(["cases", "stats", "--by", "grid", "--store", district_store], "en", tmp_path, pytest_env)
    assert "case statistics by Grid" in stats.stdout and "案件统计" not in stats.stdout
    due = _run(["cases", "due", "--on", "2026-12-07", "--store", district_store], None, tmp_path, pytest_env)
    assert "催办督办清单 2026-12-07：0 件" in due.stdout and "cases to chase" not in due.stdout
    due = _run(["cases", "due", "--on", "2026-12-07", "--store", district_store], "en", tmp_path, pytest_env)
    assert "cases to chase on 2026-12-07: 0" in due.stdout and "催办" not in due.stdout


def test_party_output_reads_in_the_language(tmp_path: Path, pytest_env: tuple[Any, Any]) -> None:
    from gridmap.stores import open_store
    from tests.party.conftest import load_chain

    path = str(tmp_path / "party.gpkg")
    with open_store(path) as store:
        load_chain(store)
    pytest_env[0].setenv("COLUMNS", "200")
    base = ["--store", path]
    zh = _run(["party", "findings", "--on", "2025-06-01", *base], None, tmp_path, pytest_env)
    assert "楼栋未建党小组：" in zh.stdout and "buildings without" not in zh.stdout
    assert re.search(r"┃ 编码 +┃ 名称 +┃ 所属网格 +┃", zh.stdout), zh.stdout
    en = _run(["party", "findings", "--on", "2025-06-01", *base], "en", tmp_path, pytest_env)
    assert re.search(r"buildings without a\s+party group: 2", en.stdout) and "楼栋未建党小组" not in en.stdout
    assert re.search(r"┃ Code +┃ Name +┃ Grid +┃", en.stdout), en.stdout
    history = _run(["party", "history", "PB1", *base], None, tmp_path, pytest_env)
    assert (
        "PB1 历次版本" in history.stdout and "生效日" in history.stdout and "valid_from" not in history.stdout
    )
    funds = _run(["party", "funds", "year", "2025", *base], None, tmp_path, pytest_env)
    assert "2025 年经费到位" in funds.stdout and "应拨" in funds.stdout and "entitled" not in funds.stdout
    linked = _run(["party", "link", "H1", "H2", "H3", *base], None, tmp_path, pytest_env)
    assert linked.stdout.strip() == "H1：已确认联系户 2 户"
    linked = _run(["party", "link", "H1", "H2", "H3", *base], "en", tmp_path, pytest_env)
    assert linked.stdout.strip() == "H1: 2 households confirmed"
    tree = _run(["party", "tree", "--on", "2025-01-01", *base], None, tmp_path, pytest_env)
    assert "书记 " in tree.stdout and "secretary" not in tree.stdout


def test_visit_tables_read_only_the_reader_s_language(
    district_store: str, tmp_path: Path, pytest_env: tuple[Any, Any]
) -> None:
    pytest_env[0].setenv("COLUMNS", "200")
    due = ["visits", "due", "--grid", "G1", "--on", "2026-12-07", "--store", district_store]
    zh = _run(due, None, tmp_path, pytest_env)
    assert (
        "网格 G1 走访清单 2026-12-07：" in zh.stdout
        and "户编码" in zh.stdout
        and "household" not in zh.stdout
    )
    en = _run(due, "en", tmp_path, pytest_env)
    assert "visits due in grid G1 on 2026-12-07:" in en.stdout and "户编码" not in en.stdout
    week = ["visits", "patrol", "week", "--on", "2026-12-09", "--store", district_store]
    zh = _run(week, None, tmp_path, pytest_env)
    assert "巡查 2026-12-07 — 2026-12-13" in zh.stdout and "巡查次数" in zh.stdout
    en = _run(week, "en", tmp_path, pytest_env)
    assert "patrols 2026-12-07 — 2026-12-13" in en.stdout and "巡查" not in en.stdout
