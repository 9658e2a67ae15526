"""The printable meeting report: a street, a community, a grid (or the district) on A4 pages.

A cover with the data date and the headline figures, a labelled map, the
per-grid table and a ranked action list (repair these speakers, add these
sites, these grids lack a branch or a worker, these households to link),
then the cases and the party chain beyond the grid when the store keeps them.
The report is HTML laid out for print (`@page` A4, Chinese fonts) and turned
into PDF by headless Chromium's print-to-PDF through Playwright, driving the
system's Chromium (`/usr/bin/chromium`, or `GRIDMAP_CHROMIUM`). The map is an
SVG drawn here from the geometries, so the PDF keeps vector lines and text.
No personal field is ever written: reports get e-mailed and printed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from jinja2 import Environment

from gridmap.action_plan import speaker_plan
from gridmap.actions import Reason, grade_reasons
from gridmap.analysis import Analysis
from gridmap.cases.desk import CasePeriods
from gridmap.errors import ConfigError, NotFoundError
from gridmap.meeting_cases import case_section, percent
from gridmap.meeting_map import frames_of, meeting_map
from gridmap.meeting_party import party_section
from gridmap.texts import Message
from gridmap.vocabulary import (
    GRADE_COLORS,
    NO_DATA_COLOR,
    Measure,
    graded_measures,
    share_measures,
)

Scope = Literal["district", "street", "community", "grid"]
SCOPES: tuple[Scope, ...] = ("district", "street", "community", "grid")
SCOPE_ZH = {"district": "全区", "street": "街道", "community": "社区", "grid": "网格"}
CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
MAP_W, MAP_H = 760.0, 560.0
FOOTER = (
    '<div style="font-size:8pt;width:100%;text-align:center;color:#555;font-family:sans-serif">'
    '第 <span class="pageNumber"></span> 页 / 共 <span class="totalPages"></span> 页</div>'
)
"""Chromium's page footer: the page number of every printed page."""
TOP = 15
"""Rows per ranked list in the action section."""


@dataclass
class Area:
    """What a report covers: its grids (rows of Analysis.grids) and the words naming it."""

    scope: Scope
    code: str | None
    name: str
    grids: gpd.GeoDataFrame


def select_area(analysis: Analysis, scope: Scope, code: str | None) -> Area:
    """The grids of a street, a community, one grid, or all of them; an unknown code is NotFoundError."""
    grids = analysis.grids
    if scope == "district":
        names = "、".join(analysis.streets["name"].astype(str)) if len(analysis.streets) else "全区"
        return Area(scope, None, names, grids)
    column = {"street": "street_code", "community": "community_code", "grid": "code"}[scope]
    table = {"street": analysis.streets, "community": analysis.communities, "grid": grids}[scope]
    row = table[table["code"] == code]
    if row.empty:
        raise NotFoundError(Message("error.no_scope", scope=Message(f"error.scope.{scope}"), code=repr(code)))
    chosen = grids[(grids[column] == code).fillna(False)]
    return Area(scope, code, str(row["name"].iloc[0]), chosen)


def report_html(
    analysis: Analysis,
    frames: Mapping[str, gpd.GeoDataFrame],
    scope: Scope = "district",
    code: str | None = None,
    *,
    data_date: dt.date | None = None,
    sites: int = 5,
    cases: CasePeriods | None = None,
    party: Mapping[str, pd.DataFrame] | None = None,
) -> str:
    """The report as one HTML document laid out for A4 (no external resource).

    `cases`: the case statistics per grid over a period and the one before it
    (`gridmap.cases.desk.case_periods`); the report then ends with how the
    area's grids handle their cases, and the trend. `party`: the party chain's findings
    (`gridmap.party.service.store_findings`); a section then shows the area's 大党委 without 共建
    units, 两个覆盖 per street and 双报到 per 大党委.
    """
    if scope not in SCOPES:
        raise ConfigError(f"unknown report scope {scope!r}; expected one of: {', '.join(SCOPES)}")
    area = select_area(analysis, scope, code)
    codes = set(area.grids["code"].astype(str))
    plan = speaker_plan(analysis, frames, None if scope == "district" else codes, sites=sites)
    repair = plan.repairs
    proposed = plan.sites if len(plan.sites) else None
    drawn = meeting_map(
        analysis.grids,
        analysis.communities,
        area.grids,
        detail=scope in ("community", "grid"),
        buildings=frames_of(analysis, frames, "buildings"),
        households=analysis.households,
        speakers=frames_of(analysis, frames, "speakers"),
        sites=proposed,
        repairs=repair,
    )
    reasons = grade_reasons(area.grids)
    communities = analysis.communities.set_index("code")["name"].astype(str)
    table = area.grids.assign(
        community_name=area.grids["community_code"].map(communities).fillna(area.grids["community_code"])
    ).sort_values(["grade", "speaker_share", "code"], ascending=[False, True, True])
    households = int(area.grids["households"].sum())
    graded = graded_measures()

    def share(m: Measure) -> float | None:
        base = float(area.grids[m.base].sum())
        return float(area.grids[m.count].sum()) / base if base else None

    lacking = table[~(_flag(table, "has_party_branch") & _flag(table, "has_worker"))]
    unlinked = (table["households"] - table["linked"]).astype(int)
    to_link = table.assign(unlinked=unlinked)[unlinked > 0].sort_values("unlinked", ascending=False).head(TOP)
    uncovered_list = _uncovered_addresses(analysis, frames, codes) if scope == "grid" else []
    context = {
        # "瑞欣社区第11网格治理会议报告", "紫阳街道网格治理会议报告"
        "title": f"{area.name}{'' if area.name.endswith('网格') else '网格'}治理会议报告",
        "scope": SCOPE_ZH[scope],
        "code": area.code,
        "data_date": str(data_date or dt.date.today()),
        "made": dt.date.today().isoformat(),
        "figures": _cover_figures(area, households, share),
        "grades": (
            []
            if scope == "grid"
            else [(g, GRADE_COLORS[g], int((area.grids["grade"] == g).sum())) for g in GRADE_COLORS]
        ),
        "one_grid": _one_grid(area, reasons) if scope == "grid" else None,
        "standards": [(m.zh, "；".join(text for text, _ in m.classes()), m.source("zh")) for m in graded],
        "landscape": drawn.landscape,
        "detail": scope in ("community", "grid"),
        "drew_households": drawn.households,
        "drew_context": drawn.context,
        "map": drawn.svg,
        "rows": [
            {
                "n": i,
                "code": r.code,
                "name": r.name,
                "community": r.community_name,
                "households": f"{int(r.households):,}",
                "shares": [percent(getattr(r, m.column)) for m in graded],
                "branch": "✓" if bool(r.has_party_branch) else "✗",
                "worker": "✓" if bool(r.has_worker) else "✗",
                "grade": r.grade,
                "color": GRADE_COLORS.get(str(r.grade), NO_DATA_COLOR),
                "why": "；".join(x.zh for x in reasons[str(r.code)]),
            }
            for i, r in enumerate(table.itertuples(), start=1)
        ],
        "coverage_now": percent(plan.share(plan.covered_before)),
        "repair": [
            {
                "rank": int(r["rank"]),
                "code": r["code"],
                "name": r["name"] or "",
                "grid": r["grid_code"],
                "gain": int(r["gain"]),
                "after": percent(r["share_after"]),
            }
            for r in repair.to_dict(orient="records")
        ],
        "sites": [
            {
                "rank": int(r.rank),
                "label": r.label or r.code,
                "gain": f"{int(r.gain):,}",
                "after": percent(r.share_after),
            }
            for r in proposed.itertuples()
        ]
        if proposed is not None
        else [],
        "lacking": [
            {
                "code": r.code,
                "name": r.name,
                "what": "、".join(
                    w
                    for w, ok in (("网格党支部", bool(r.has_party_branch)), ("网格员", bool(r.has_worker)))
                    if not ok
                ),
            }
            for r in lacking.itertuples()
        ],
        "to_link": [
            {"code": r.code, "name": r.name, "n": f"{int(r.unlinked):,}", "share": percent(r.linkage_share)}
            for r in to_link.itertuples()
        ],
        "uncovered": uncovered_list,
        "grade_colors": GRADE_COLORS,
        "share_headers": [m.short() for m in graded],
        "notes": [zh for zh, _ in analysis.notes],
        "cases": case_section(cases, area.grids),
        "party": party_section(party, area.grids, analysis.communities),
    }
    return _TEMPLATE.render(**context)


def _cover_figures(
    area: Area, households: int, share: Callable[[Measure], float | None]
) -> list[tuple[str, str]]:
    """The cover's headline figures; a single grid's own state instead of counts of grids."""
    grids = area.grids
    head = [
        ("住户数", f"{households:,}"),
        *[(m.zh, percent(share(m))) for m in share_measures() if m.column in grids],
    ]
    uncovered = ("广播未覆盖户", f"{int(grids['uncovered_households'].sum()):,}")
    if area.scope == "grid":
        row = grids.iloc[0]
        return [
            *head,
            uncovered,
            ("网格党支部", "已建立" if bool(row.get("has_party_branch")) else "未建立"),
            ("网格员", "已配备" if bool(row.get("has_worker")) else "未配备"),
        ]
    return [
        ("网格数", f"{len(grids):,}"),
        *head,
        uncovered,
        ("D 级网格", f"{int((grids['grade'] == 'D').sum()):,}"),
        ("缺党支部网格", f"{int((~_flag(grids, 'has_party_branch')).sum()):,}"),
        ("缺网格员网格", f"{int((~_flag(grids, 'has_worker')).sum()):,}"),
    ]


def _one_grid(area: Area, reasons: Mapping[str, list[Reason]]) -> dict[str, Any]:
    """A grid's grade, its colour and the reasons for it, for the cover of its own report."""
    row = area.grids.iloc[0]
    grade = str(row["grade"])
    return {
        "grade": grade,
        "color": GRADE_COLORS.get(grade, NO_DATA_COLOR),
        "why": [r.zh for r in reasons[str(row["code"])]],
    }


def write_report(html_text: str, out: str | Path) -> Path:
    """Write the report: PDF through headless Chromium (or the HTML itself when `out` ends in .html)."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(html_text, encoding="utf-8")
        return path
    path.write_bytes(html_to_pdf(html_text))
    return path


def html_to_pdf(html_text: str) -> bytes:
    """A4 PDF of an HTML document, printed by the system's headless Chromium with no network."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dependency; a broken install says so
        raise ConfigError("the PDF report needs the playwright package (pip install playwright)") from None
    if not Path(CHROMIUM).exists():
        raise ConfigError(f"no Chromium at {CHROMIUM}: run scripts/system-deps.sh or set GRIDMAP_CHROMIUM")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page(offline=True)
                page.set_content(html_text, wait_until="load")
                pdf: bytes = page.pdf(
                    format="A4",
                    print_background=True,
                    prefer_css_page_size=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                )
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise ConfigError(f"Chromium could not print the report: {exc}") from None
    return pdf


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].fillna(False).astype(bool)


def _uncovered_addresses(
    analysis: Analysis, frames: Mapping[str, gpd.GeoDataFrame], codes: set[str]
) -> list[str]:
    """Addresses of the grid's households without a speaker (a door-to-door list; no names, no phones)."""
    hh = analysis.households
    missed = hh[hh["grid_code"].isin(codes) & ~hh["speaker_covered"].fillna(False).astype(bool)]
    register = frames.get("households")
    if register is None or "address" not in register:
        return list(missed["code"].astype(str))
    addresses = missed["code"].map(register.set_index("code")["address"]).fillna(missed["code"])
    return sorted(addresses.astype(str), key=natural_key)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key reading runs of digits as numbers: 1栋, 2栋, …, 10栋 (not 10栋, 11栋, 1栋)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part)


_DIGITS = re.compile(r"(\d+)")
_TEMPLATE = Environment(autoescape=True).from_string(
    (Path(__file__).with_name("meeting.html")).read_text(encoding="utf-8")
)
