"""The meeting report: known contents on the sample district, and a real A4 PDF read back with pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from gridmap.analysis import Analysis, analyze, read_inputs
from gridmap.cli import app
from gridmap.errors import ConfigError, NotFoundError
from gridmap.meeting import CHROMIUM, html_to_pdf, natural_key, report_html
from gridmap.party.findings import PARTY_FINDINGS, party_findings
from gridmap.party.sample import sample_chain
from gridmap.party.service import store_findings
from gridmap.sample import generate
from gridmap.stores import Store
from tests.party.conftest import NAMES, PHONES, load_chain

STREET = "420106001"
WORST = "420106001004011"  # the sample's grid with the most households outside speaker range (354)
PHONE = re.compile(r"\b1[3-9]\d{9}\b|\d{3}\*{4}\d{4}")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def sample() -> tuple[Analysis, dict[str, gpd.GeoDataFrame]]:
    frames = generate(scale=1)
    return analyze(frames), frames


def test_street_report_lists_grids_and_ranked_actions(sample) -> None:
    analysis, frames = sample
    html = report_html(analysis, frames, "street", STREET, sites=3)
    assert "紫阳街道网格治理会议报告" in html and "数据日期" in html
    assert html.count('<td class="g"') == len(analysis.grids) == 61
    actions = html.split("三、待办事项", 1)[1]
    repair = re.findall(r"（(GB\d+)，\d+）：修复后(?:新增覆盖 ([\d,]+) 户|不新增覆盖户)", actions)
    gains = [int(n.replace(",", "") or 0) for _, n in repair]
    # Every broken speaker, ranked by what each adds after those above it: the figures add up.
    assert len(repair) == 5 and repair[-1][0] == "GB42010600100500802"
    assert gains == sorted(gains, reverse=True) and sum(gains) == 1275
    assert "广播覆盖率现为 87.2%" in actions and "累计覆盖率 92.4%" in actions
    drawn = html.split("一、网格分布图", 1)[1].split("</svg>", 1)[0]
    assert drawn.count('fill="#b2182b"') == 5  # on the map too
    assert re.findall(r"站点 (\d)：", actions) == ["1", "2", "3"]
    lacking = analysis.grids[~(analysis.grids["has_party_branch"] & analysis.grids["has_worker"])]
    assert all(code in actions for code in lacking["code"])
    assert not PHONE.search(html) and "contact" not in html  # no personal data in a printed report


def test_grid_report_has_the_door_to_door_list(sample) -> None:
    analysis, frames = sample
    html = report_html(analysis, frames, "grid", WORST)
    doors = html.split("上门告知名单", 1)[1]
    assert (
        doors.count("<li>") == 354 == int(analysis.grids.set_index("code").loc[WORST, "uncovered_households"])
    )
    assert "和平路" in doors and not PHONE.search(html)


def test_unknown_units_and_scopes_are_named(sample) -> None:
    analysis, frames = sample
    with pytest.raises(NotFoundError, match="no street with code 'nope'"):
        report_html(analysis, frames, "street", "nope")
    with pytest.raises(ConfigError, match="scope"):
        report_html(analysis, frames, "city", None)  # type: ignore[arg-type]


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("pdftotext") is None, reason="needs chromium")
def test_pdf_is_a4_with_chinese_text(sample) -> None:
    analysis, frames = sample
    pdf = html_to_pdf(report_html(analysis, frames, "grid", WORST, data_date=None, sites=2))
    assert pdf.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "report_grid.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "瑞欣社区第11网格治理会议报告" in text and "网格分布图" in text and "待办事项" in text
    pages = int(re.search(r"Pages:\s+(\d+)", _pdfinfo(path)).group(1))
    numbers = re.findall(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页", text)
    assert numbers == [(str(n), str(pages)) for n in range(1, pages + 1)]  # every page numbered
    info = _pdfinfo(path)
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)", info)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(ARTIFACTS / "report_grid")], check=True)


def _pdfinfo(path: Path) -> str:
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout


def test_report_command(sample_store: str, tmp_path: Path) -> None:
    out = tmp_path / "street.html"
    result = CliRunner().invoke(
        app, ["report", "--store", sample_store, "--street", STREET, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "紫阳街道网格治理会议报告" in out.read_text(encoding="utf-8")
    both = CliRunner().invoke(
        app, ["report", "--store", sample_store, "--street", STREET, "--grid", WORST, "--out", str(out)]
    )
    assert isinstance(both.exception, ConfigError)


def _texts(svg: str) -> list[tuple[float, float, float, str]]:
    return [
        (float(x), float(y), float(size), text)
        for x, y, size, text in re.findall(
            r'<text x="([\d.]+)" y="([\d.]+)" font-size="([\d.]+)" class="(?:lbl|big|ctx)">([^<]+)</text>',
            svg,
        )
    ]


@pytest.mark.parametrize(
    ("scope", "code"), [("street", STREET), ("community", "420106001004"), ("grid", WORST)]
)
def test_map_fills_its_page_and_no_labels_overlap(sample, scope, code) -> None:
    from gridmap.meeting_map import LANDSCAPE_MM, PORTRAIT_MM, _text_width

    analysis, frames = sample
    html = report_html(analysis, frames, scope, code, sites=3)
    svg = html.split("一、网格分布图", 1)[1].split("</svg>", 1)[0]
    width, height = (float(v) for v in re.search(r'style="width:([\d.]+)mm;height:([\d.]+)mm"', svg).groups())
    page = LANDSCAPE_MM if 'class="section wide"' in html else PORTRAIT_MM
    assert width <= page[0] + 0.1 and height <= page[1] + 0.1
    assert width >= page[0] - 0.5 or height >= page[1] - 0.5  # one side fills the page's content box
    if scope == "street":  # twice as wide as tall: a landscape page, the map at its full width
        assert 'class="section wide"' in html and width == pytest.approx(LANDSCAPE_MM[0], abs=0.5)
    view_w, view_h = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    boxes = []
    for x, y, size, text in _texts(svg):
        half = _text_width(text) * size / 2
        assert x - half >= 0 and x + half <= view_w + 1 and 0 <= y <= view_h  # not cut at the edge
        boxes.append((x - half, y - size, x + half, y))
    assert len(boxes) >= 3
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_a_village_map_shows_its_neighbours_buildings_and_households(sample) -> None:
    analysis, frames = sample
    html = report_html(analysis, frames, "community", "420106001201")
    svg = html.split("一、网格分布图", 1)[1].split("</svg>", 1)[0]
    assert svg.count('fill="#f3f3f3"') >= 3  # the grids next door
    assert svg.count('fill="#fafafa"') > 10  # its buildings
    assert svg.count('r="2.2"') == int(
        analysis.grids.loc[analysis.grids["community_code"] == "420106001201", "households"].sum()
    )
    assert "相邻网格" in html and "楼栋" in html


def test_a_one_grid_cover_shows_the_grid_not_counts_of_grids(sample) -> None:
    analysis, frames = sample
    cover = report_html(analysis, frames, "grid", WORST).split('<div class="section', 1)[0]
    assert "网格数" not in cover and "D 级网格" not in cover and "缺党支部网格" not in cover
    assert "综合等级" in cover and "广播覆盖率 14.5%" in cover  # the grade and why
    street = report_html(analysis, frames, "street", STREET).split('<div class="section', 1)[0]
    assert "网格数" in street and "D 级网格" in street


def test_door_to_door_list_in_natural_order() -> None:
    addresses = ["和平路12号10栋", "和平路12号1栋", "和平路12号2栋", "和平路3号1栋", "和平路12号11栋"]
    assert sorted(addresses, key=natural_key) == [
        "和平路3号1栋",
        "和平路12号1栋",
        "和平路12号2栋",
        "和平路12号10栋",
        "和平路12号11栋",
    ]


def _section(html: str, kind: str) -> str:
    return html.split(f'id="party-{kind}"', 1)[1].split("<h3", 1)[0]


def _cells(html: str) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr><td.*?</tr>", html)]


def test_the_party_section_reads_the_stores_findings(store: Store) -> None:
    """The small chain of tests/party on each store: PC2 has no 共建 unit; S1 counts 3 enterprises and
    organisations, 1 with a party organisation, 2 reached by party work; PC1's 3 members, 1 in service,
    reported, 12.5 hours."""
    load_chain(store)
    frames = read_inputs(store)
    analysis = analyze(frames)
    found = store_findings(store)
    assert found is not None
    html = report_html(analysis, frames, "street", "S1", party=found)
    assert "四、党建引领" in html  # no cases: the fourth section
    assert _cells(_section(html, "committees_without_units")) == [["PC2组织", "PC2", "和平社区"]]
    assert _cells(_section(html, "two_coverages")) == [["紫阳街道", "3", "1", "33.3%", "2", "66.7%"]]
    assert _cells(_section(html, "dual_reports")) == [
        ["PC1组织", "福景社区", "3", "1", "1", "12.5"],
        ["PC2组织", "和平社区", "0", "0", "0", "0.0"],
    ]
    for kind in ("committees_without_units", "two_coverages", "dual_reports"):
        assert PARTY_FINDINGS[kind].zh in html
    assert "组织覆盖率" in html and "服务时长（小时）" in html  # column labels from the vocabulary
    assert not any(secret in html for secret in (*NAMES, *PHONES, "吴六"))
    one = report_html(analysis, frames, "community", "C1", party=found)
    assert "无。" in _section(one, "committees_without_units")  # PC1 has its 共建 unit
    assert [r[0] for r in _cells(_section(one, "dual_reports"))] == ["PC1组织"]
    assert 'id="party"' not in report_html(analysis, frames, "street", "S1")  # no register: no section


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("pdftotext") is None, reason="needs chromium")
def test_the_party_section_in_a_printed_street_report(sample) -> None:
    """The generated district with its seeded chain, printed: the section's titles and figures."""
    analysis, frames = sample
    chain = sample_chain({**frames, **analysis.frames})
    found = party_findings({**frames, **analysis.frames}, chain.orgs, chain.units, chain.members)
    pdf = html_to_pdf(report_html(analysis, frames, "street", STREET, sites=2, party=found))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "report_street_party.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "党建引领" in text and "大党委无共建单位" in text and "在职党员双报到" in text
    street = found["two_coverages"].iloc[0]
    assert re.search(rf"紫阳街道\s+{street['units']}\s+{street['organised']}\s+", text)
    reports = found["dual_reports"]
    assert len(reports) == len(analysis.communities)
    for row in reports.itertuples():
        assert re.search(rf"{row.name}\s+\S+\s+{row.members:,}\s+{row.in_service:,}\s+{row.reported:,}", text)
    assert not any(name in text for name in chain.members["name"].head(50))
    pages = int(re.search(r"Pages:\s+(\d+)", _pdfinfo(path)).group(1))
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "60",
            "-png",
            "-f",
            str(pages),
            "-l",
            str(pages),
            str(path),
            str(ARTIFACTS / "report_party"),
        ],
        check=True,
    )
