"""`gridmap cases` as a user runs it, on both stores: report, move, list, stats, seed."""

from __future__ import annotations

import csv
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from gridmap.cases.desk import CaseDesk
from gridmap.cases.repairs import sync_repairs
from gridmap.cli import app
from gridmap.cli.app import console as cli_console
from gridmap.lookup import LookupService
from gridmap.stores import Store, open_store
from tests.api.conftest import district
from tests.cases.conftest import ADDRESS_G1, empty_book

runner = CliRunner()


def run(store_url: str, *args: str) -> str:
    # The case desk's people read Chinese: the default language, whatever the suite's.
    env = {"GRIDMAP_LANG": "zh"}
    result = runner.invoke(app, ["cases", *args, "--store", store_url], catch_exceptions=False, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_report_move_list_and_stats(
    store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_console, "_width", 200)  # a wide terminal: each cell on one line
    store.replace_many(district())
    empty_book(store)
    out = run(store_url, "report", "0102", "--address", ADDRESS_G1, "--reporter-phone", "13812341234")
    code = out.split()[1]
    assert "网格 G1" in out
    run(store_url, "report", "0404", "--lon", "114.3145", "--lat", "30.5045")  # by point: G3
    for action, by in (
        ("accept", "张"),
        ("dispatch", "张"),
        ("handle", "城管"),
        ("check", "张"),
        ("close", "张"),
    ):
        out = run(store_url, "move", code, action, "--by", by)
        if action == "dispatch":  # the deadline in Beijing time, never UTC
            assert re.search(r"处置时限 \d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", out) and "UTC" not in out
    assert "结案（closed）" in out
    path = tmp_path / "cases.csv"
    run(store_url, "list", "--grid", "G1", "--output", str(path))
    rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["code"], r["status"], r["reporter_phone"]) for r in rows] == [(code, "closed", "138****1234")]
    stats = run(store_url, "stats", "--by", "grid")
    assert "G1" in stats and "G3" in stats and "100.0%" in stats
    listed = run(store_url, "list", "--status", "reported")
    assert "1 / 1 件" in listed
    # Labels, not codes: the status, the category, the grid's name, 否 for not overdue; Beijing time.
    assert "上报" in listed and "机动车乱停放" in listed and "和平网格" in listed and "否" in listed
    assert not {"reported", "0404", "False", "UTC", "+00:00"} & set(re.split(r"[\s│┃]+", listed))


def test_seed_and_an_illegal_move(tmp_path: Path) -> None:
    path = str(tmp_path / "district.gpkg")
    with open_store(path) as store:
        store.replace_many(district())
    assert "已生成过去一年的 40 件案件" in run(path, "seed", "--count", "40")
    with open_store(path) as store:
        assert store.case_book().count() == 40
    done = subprocess.run(
        [sys.executable, "-m", "gridmap", "cases", "move", "19990101000000", "close", "--store", path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "error: no case '19990101000000'"


def test_hotline_intake_follow_up_rates_and_the_daily_list(store: Store, store_url: str) -> None:
    store.replace_many(district())
    empty_book(store)
    out = run(store_url, "report", "0102", "--address", "解放路999号", "--ticket-no", "GD-0001")
    assert "待定位" in out and "地址不在登记册中：解放路999号" in out
    code = out.split()[1]
    assert "0 / 0 件" in run(store_url, "list", "--ticket-no", "GD-0002")
    assert "1 / 1 件" in run(store_url, "list", "--ticket-no", "GD-0001", "--unplaced")
    assert "网格 G1" in run(store_url, "place", code, "--grid", "G1")
    for action, by in (
        ("accept", "张"),
        ("dispatch", "张"),
        ("handle", "城管"),
        ("check", "张"),
        ("close", "张"),
    ):
        run(store_url, "move", code, action, "--by", by)
    out = run(store_url, "move", code, "review", "--reached", "--satisfaction", "satisfied", "--by", "回访员")
    assert "结案（closed）" in out
    stats = run(store_url, "stats", "--by", "grid")
    assert "响应率" in stats and "解决率" in stats and "满意率" in stats and "100.0% A" in stats
    assert "催办督办清单 2026-12-07" in run(store_url, "due", "--on", "2026-12-07")


def test_stats_per_month(store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_console, "_width", 200)
    store.replace_many(district())
    empty_book(store)
    run(store_url, "report", "0102", "--address", ADDRESS_G1)
    out = run(store_url, "stats", "--by", "grid", "--period", "month")
    this_month = dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    assert "统计月份" in out and re.search(rf"{this_month}\s+│\s+G1", out), out
    refused = runner.invoke(app, ["cases", "stats", "--period", "week", "--store", store_url])
    assert refused.exit_code == 1 and "--period must be one of month" in str(refused.exception)


def test_stats_show_household_hours_where_a_repair_ticket_recorded_some(
    store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_console, "_width", 200)
    store.replace_many(district())
    empty_book(store)
    run(store_url, "report", "0102", "--address", ADDRESS_G1)
    assert "无广播覆盖户时" not in run(store_url, "stats", "--by", "grid")
    speakers = store.read("speakers").assign(status="broken")
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)  # K1 broke then, 1 household alone
    sync_repairs(
        CaseDesk(store, LookupService(store), clock=lambda: two_hours_ago), speakers, store.read("households")
    )
    shown = run(store_url, "stats", "--by", "grid")
    assert "无广播覆盖户时" in shown and re.search(r"G1 .*│\s+2\.0 │", shown), shown
