"""The meeting report: known contents on the sample district, and a real A4 PDF read back with pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from gridmap.analysis import Analysis, analyze
from gridmap.cli import app
from gridmap.errors import ConfigError, NotFoundError
from gridmap.meeting import CHROMIUM, html_to_pdf, report_html
from gridmap.sample import generate

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
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)", info)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(ARTIFACTS / "report_grid")], check=True)


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
