"""Statistics per grid, community, street and department: known answers on both stores."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from gridmap.analysis import analyze
from gridmap.cases.categories import DEFAULT_CATALOGUE
from gridmap.cases.desk import CaseDesk, case_periods
from gridmap.cases.statistics import case_statistics
from gridmap.cases.vocabulary import Action
from gridmap.catalogue import LAYER_NAMES
from gridmap.meeting import report_html
from gridmap.reports import write_outputs
from gridmap.vocabulary import GRADE_COLORS, NO_DATA_COLOR
from tests.cases.conftest import (
    ADDRESS_G1,
    ADDRESS_G3,
    ADMIN,
    CITY,
    EDITOR_C1,
    EDITOR_C2,
    START,
    WATER,
    Clock,
    report,
)

SINCE = dt.datetime(2026, 12, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def close(desk: CaseDesk, code: str, department: object) -> None:
    desk.move(department, code, Action.HANDLE)  # type: ignore[arg-type]
    desk.move(EDITOR_C1, code, Action.CHECK)
    desk.move(EDITOR_C1, code, Action.CLOSE)


@pytest.fixture
def figures(desk: CaseDesk, clock: Clock) -> CaseDesk:
    """G1: one case closed on time (1 working hour), one closed late (22); G3: one overdue, one void."""
    clock.now = START - dt.timedelta(days=30)
    report(desk)  # before the period
    clock.now = START
    on_time, late = report(desk, ADDRESS_G1, "0102"), report(desk, ADDRESS_G1, "0504")
    overdue, void = report(desk, ADDRESS_G3, "0102"), report(desk, ADDRESS_G3, "0601")
    for code, editor in ((on_time, EDITOR_C1), (late, EDITOR_C1), (overdue, EDITOR_C2)):
        desk.move(editor, code, Action.ACCEPT)
        desk.move(editor, code, Action.DISPATCH)
    desk.move(EDITOR_C2, void, Action.VOID, note="重复")
    desk.move(ADMIN, void, Action.APPROVE)
    clock.advance(hours=1)
    close(desk, on_time, CITY)
    clock.advance(days=3)  # Friday 10:00: 22 working hours after dispatch (Tuesday 09:00)
    close(desk, late, WATER)
    return desk


def stats(desk: CaseDesk, by: str) -> pd.DataFrame:
    names = {"G1": "幸福一网格", "G3": "和平网格"}
    table = case_statistics(
        desk.book, by, catalogue=DEFAULT_CATALOGUE, names=names, since=SINCE, now=desk.clock()
    )
    return table.set_index("key")


def test_per_grid(figures: CaseDesk) -> None:
    table = stats(figures, "grid")
    assert list(table.index) == ["G1", "G3"]
    g1, g3 = table.loc["G1"], table.loc["G3"]
    assert g1["name"] == "幸福一网格"
    counts = ["received", "closed", "closed_on_time", "overdue_now", "void"]
    assert g1[counts].to_numpy().tolist() == [2, 2, 1, 0, 0]
    assert g1["on_time_rate"] == 0.5
    assert g1["avg_handling_hours"] == pytest.approx(11.5)  # (1 + 22) / 2
    assert (g1["category_01"], g1["category_05"], g1["category_06"]) == (1, 1, 0)
    assert (g3["received"], g3["closed"], g3["overdue_now"], g3["void"]) == (2, 0, 1, 1)
    assert pd.isna(g3["on_time_rate"]) and pd.isna(g3["avg_handling_hours"])
    assert (g3["category_01"], g3["category_06"]) == (1, 1)


def test_per_community_street_and_department(figures: CaseDesk) -> None:
    assert stats(figures, "community")["received"].to_dict() == {"C1": 2, "C2": 2}
    assert stats(figures, "street")["received"].to_dict() == {"S1": 4}
    everything = case_statistics(figures.book, "street", catalogue=DEFAULT_CATALOGUE, now=figures.clock())
    assert everything["received"].tolist() == [5]  # without a period: the case of November too
    departments = stats(figures, "department")
    assert departments["received"].to_dict() == {"cgj": 2, "swj": 1}  # the void case was never dispatched
    assert departments.loc["cgj", "name"] == "城市管理局"
    assert departments["overdue_now"].to_dict() == {"cgj": 1, "swj": 0}
    assert departments["closed_on_time"].to_dict() == {"cgj": 1, "swj": 0}


def test_no_cases_gives_an_empty_table(desk: CaseDesk) -> None:
    table = case_statistics(desk.book, "grid", catalogue=DEFAULT_CATALOGUE, now=desk.clock())
    assert table.empty and "on_time_rate" in table.columns and "category_06" in table.columns


def test_the_analysis_workbook_gets_the_case_sheets(figures: CaseDesk, tmp_path: Path) -> None:
    frames = {name: figures.store.read(name) for name in LAYER_NAMES}
    written = write_outputs(analyze(frames), tmp_path, figures.workbook_sheets())
    book = openpyxl.load_workbook(written["workbook"])
    assert book.sheetnames[-4:] == ["案件统计-网格", "案件统计-社区", "案件统计-街道", "案件统计-部门"]
    sheet = book["案件统计-网格"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["编码", "名称", "受理数", "结案数"] and "按期结案率" in header
    assert [cell.value for cell in sheet[2]][:4] == ["G1", "幸福一网格", 3, 2]  # every case, November too


def test_the_meeting_report_ends_with_the_case_table(figures: CaseDesk) -> None:
    frames = {name: figures.store.read(name) for name in LAYER_NAMES}
    analysis = analyze(frames)
    periods = case_periods(figures, "grid", days=30)
    text = report_html(analysis, frames, "district", cases=periods)
    section = text[text.index("四、案件办理") :]
    assert section.index("和平网格") < section.index("幸福一网格")  # the grid with an overdue case first
    assert '<td class="n">50.0%</td>' in section  # G1: one of two closed on time
    # The period in Beijing dates, and the trend against the 30 days before it: G1 had one case then.
    assert "统计期：2026-11-04 至 2026-12-03（近 30 天，北京时间）" in section
    assert "上一期（2026-10-05 至 2026-11-03）" in section and "受理 4 件（↑3）" in section
    g1 = section[section.index("幸福一网格") :].split("</tr>", 1)[0]
    assert '<td class="n">2</td><td class="n">↑1</td>' in g1
    g3 = section[section.index("和平网格") :].split("</tr>", 1)[0]
    assert '<td class="n">新增</td>' in g3
    assert "四、案件办理" not in report_html(analysis, frames, "district")


def test_the_meeting_report_gives_the_three_rates_of_street_communities_and_grids(figures: CaseDesk) -> None:
    """S1 and C1/C2 and G1/G3 over the last 30 days: every case accepted at once (responded in time);
    G1 closed both (resolution 100 %: A), G3 none of its one counted case (0 %: D), S1 2 of 3 (66.7 %: D);
    nobody followed up yet (satisfaction —, grey)."""
    frames = {name: figures.store.read(name) for name in LAYER_NAMES}
    text = report_html(analyze(frames), frames, "district", cases=case_periods(figures, "grid", days=30))
    table = text[text.index('id="case-rates"') :].split("</table>", 1)[0]
    rows = table.split("<tr>")[2:]
    shown = [(r.split("</td>")[0][-2:], r.split('<span class="muted">')[1].split("<")[0]) for r in rows]
    assert shown == [("街道", "S1"), ("社区", "C1"), ("社区", "C2"), ("网格", "G1"), ("网格", "G3")]
    cells = {
        key: re.findall(r'background:(#[0-9a-fA-F]{6})">([^<]*)</td>', row)
        for (_, key), row in zip(shown, rows, strict=True)
    }
    grey, a = (NO_DATA_COLOR, "—"), (GRADE_COLORS["A"], "100.0% A")
    assert cells["S1"] == [a, (GRADE_COLORS["D"], "66.7% D"), grey]
    assert cells["G1"] == cells["C1"] == [a, a, grey]
    assert cells["G3"] == cells["C2"] == [a, (GRADE_COLORS["D"], "0.0% D"), grey]
    assert "响应率 ≥ 95%（A）" in text  # the grading standards, from the registry
    periods = case_periods(figures, "grid", days=30)
    community = report_html(analyze(frames), frames, "community", "C2", cases=periods)
    table = community[community.index('id="case-rates"') :].split("</table>", 1)[0]
    assert "C2" in table and "G3" in table and "C1" not in table and "G1" not in table
