"""The printable meeting report: a street, a community, a grid (or the district) on A4 pages.

A cover with the data date and the headline figures, a labelled map, the
per-grid table and a ranked action list (repair these speakers, add these
sites, these grids lack a branch or a worker, these households to link).
The report is HTML laid out for print (`@page` A4, Chinese fonts) and turned
into PDF by headless Chromium's print-to-PDF through Playwright, driving the
system's Chromium (`/usr/bin/chromium`, or `GRIDMAP_CHROMIUM`). The map is an
SVG drawn here from the geometries, so the PDF keeps vector lines and text.
No personal field is ever written: reports get e-mailed and printed.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Environment

from gridmap.actions import grade_reasons, repairable_speakers
from gridmap.analysis import Analysis
from gridmap.errors import ConfigError, NotFoundError
from gridmap.vocabulary import GRADE_COLORS, NO_DATA_COLOR, Measure, graded_measures, share_measures

Scope = Literal["district", "street", "community", "grid"]
SCOPES: tuple[Scope, ...] = ("district", "street", "community", "grid")
SCOPE_ZH = {"district": "全区", "street": "街道", "community": "社区", "grid": "网格"}
CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
MAP_W, MAP_H = 760.0, 560.0
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
        raise NotFoundError(f"no {scope} with code {code!r}")
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
    cases: pd.DataFrame | None = None,
) -> str:
    """The report as one HTML document laid out for A4 (no external resource).

    `cases`: the case statistics per grid (`CaseDesk.statistics("grid")`); the
    report then ends with how the area's grids handle their cases.
    """
    if scope not in SCOPES:
        raise ConfigError(f"unknown report scope {scope!r}; expected one of: {', '.join(SCOPES)}")
    area = select_area(analysis, scope, code)
    codes = set(area.grids["code"].astype(str))
    repair = repairable_speakers(analysis, frames)
    repair = repair[repair["grid_code"].isin(codes) & (repair["would_cover"] > 0)]
    proposed = _sites(analysis, frames, codes, sites)
    reasons = grade_reasons(area.grids)
    communities = analysis.communities.set_index("code")["name"].astype(str)
    table = area.grids.assign(
        community_name=area.grids["community_code"].map(communities).fillna(area.grids["community_code"])
    ).sort_values(["grade", "speaker_share", "code"], ascending=[False, True, True])
    households = int(area.grids["households"].sum())
    shown = [m for m in share_measures() if m.column in area.grids]
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
        "figures": [
            ("网格数", f"{len(area.grids):,}"),
            ("住户数", f"{households:,}"),
            *[(m.zh, _pct(share(m))) for m in shown],
            ("广播未覆盖户", f"{int(area.grids['uncovered_households'].sum()):,}"),
            ("D 级网格", f"{int((area.grids['grade'] == 'D').sum()):,}"),
            ("缺党支部网格", f"{int((~_flag(area.grids, 'has_party_branch')).sum()):,}"),
            ("缺网格员网格", f"{int((~_flag(area.grids, 'has_worker')).sum()):,}"),
        ],
        "grades": [(g, GRADE_COLORS[g], int((area.grids["grade"] == g).sum())) for g in GRADE_COLORS],
        "map": _map_svg(analysis, frames, area, proposed, repair),
        "rows": [
            {
                "n": i,
                "code": r.code,
                "name": r.name,
                "community": r.community_name,
                "households": f"{int(r.households):,}",
                "shares": [_pct(getattr(r, m.column)) for m in graded],
                "branch": "✓" if bool(r.has_party_branch) else "✗",
                "worker": "✓" if bool(r.has_worker) else "✗",
                "grade": r.grade,
                "color": GRADE_COLORS.get(str(r.grade), NO_DATA_COLOR),
                "why": "；".join(x.zh for x in reasons[str(r.code)]),
            }
            for i, r in enumerate(table.itertuples(), start=1)
        ],
        "repair": [
            {
                "code": r["code"],
                "name": r["name"] or "",
                "grid": r["grid_code"],
                "gain": f"{r['would_cover']:,}",
            }
            for r in repair.head(TOP).to_dict(orient="records")
        ],
        "sites": [
            {
                "rank": int(r.rank),
                "label": r.label or r.code,
                "gain": f"{int(r.gain):,}",
                "after": _pct(r.share_after),
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
            {"code": r.code, "name": r.name, "n": f"{int(r.unlinked):,}", "share": _pct(r.linkage_share)}
            for r in to_link.itertuples()
        ],
        "uncovered": uncovered_list,
        "grade_colors": GRADE_COLORS,
        "share_headers": [m.short() for m in graded],
        "notes": [zh for zh, _ in analysis.notes],
        "cases": _case_rows(cases, codes),
    }
    return _TEMPLATE.render(**context)


def _case_rows(cases: pd.DataFrame | None, codes: set[str]) -> list[dict[str, str]]:
    """The area's grids with cases, most overdue first: received, closed, on-time rate, overdue now."""
    if cases is None or cases.empty:
        return []
    mine = cases[cases["key"].astype(str).isin(codes)]
    mine = mine.sort_values(["overdue_now", "received", "key"], ascending=[False, False, True])
    rows = [{str(k): v for k, v in r.items()} for r in mine.to_dict("records")]
    return [
        {
            "code": str(r["key"]),
            "name": str(r["name"]) if isinstance(r["name"], str) else str(r["key"]),
            "received": f"{int(r['received']):,}",
            "closed": f"{int(r['closed']):,}",
            "rate": _pct(r["on_time_rate"]),
            "overdue": f"{int(r['overdue_now']):,}",
        }
        for r in rows
    ]


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
                pdf: bytes = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise ConfigError(f"Chromium could not print the report: {exc}") from None
    return pdf


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].fillna(False).astype(bool)


def _pct(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value) * 100:.1f}%"


def _sites(
    analysis: Analysis, frames: Mapping[str, gpd.GeoDataFrame], codes: set[str], k: int
) -> gpd.GeoDataFrame | None:
    """Up to `k` new speaker sites for the area's uncovered households (candidates: its buildings)."""
    # Imported here: scipy.optimize (the MIP solver) takes about a second to import, and every API
    # worker imports this module at start while few requests ever site anything.
    from gridmap.siting import site

    derived = getattr(analysis, "frames", None) or frames
    households = derived["households"]
    mine = households[households["grid_code"].isin(codes)]
    buildings = derived.get("buildings")
    if k < 1 or mine.empty or buildings is None or "grid_code" not in buildings:
        return None
    candidates = buildings[buildings["grid_code"].isin(codes)]
    if candidates.empty:
        return None
    found = site({"households": mine, "buildings": candidates, "speakers": frames["speakers"]}, "speakers", k)
    return found.sites if len(found.sites) else None


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
    return sorted(addresses.astype(str))


# --- the map ----------------------------------------------------------------------


def _map_svg(
    analysis: Analysis,
    frames: Mapping[str, gpd.GeoDataFrame],
    area: Area,
    proposed: gpd.GeoDataFrame | None,
    repair: pd.DataFrame,
) -> str:
    """Grids coloured by grade with their names, community outlines, broken speakers, numbered sites."""
    grids = area.grids
    minx, miny, maxx, maxy = grids.total_bounds
    pad_x, pad_y = (maxx - minx) * 0.04 or 0.001, (maxy - miny) * 0.04 or 0.001
    minx, maxx, miny, maxy = minx - pad_x, maxx + pad_x, miny - pad_y, maxy + pad_y
    kx = np.cos(np.radians((miny + maxy) / 2))
    scale = min(MAP_W / ((maxx - minx) * kx), MAP_H / (maxy - miny))
    width, height = (maxx - minx) * kx * scale, (maxy - miny) * scale

    def xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x - minx) * kx * scale, (maxy - y) * scale

    def path(geom: shapely.Geometry) -> str:
        parts = []
        for polygon in getattr(geom, "geoms", [geom]):
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = np.asarray(ring.coords)
                px, py = xy(coords[:, 0], coords[:, 1])
                parts.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True)) + "Z")
        return "".join(parts)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" class="map">']
    opacity = 0.3 if area.scope == "grid" else 0.7  # one grid: its households' dots must stand out
    for r in grids.itertuples():
        color = GRADE_COLORS.get(str(r.grade), NO_DATA_COLOR)
        out.append(
            f'<path d="{path(r.geometry)}" fill="{color}" fill-opacity="{opacity}" '
            'stroke="#444" stroke-width="0.6"/>'
        )
    if area.scope == "grid":
        out.extend(_grid_detail(analysis, set(grids["code"].astype(str)), xy, path))
    communities = analysis.communities[analysis.communities["code"].isin(set(grids["community_code"]))]
    for g in communities.geometry:
        out.append(f'<path d="{path(g)}" fill="none" stroke="#111" stroke-width="1.8"/>')
    font = max(6.0, min(11.0, float(np.sqrt(width * height / max(len(grids), 1))) / 7))
    inside = grids.geometry.representative_point()
    lx, ly = xy(shapely.get_x(inside.values), shapely.get_y(inside.values))
    for x, y, name in zip(lx, ly, grids["name"].astype(str), strict=True):
        short = name.split("社区")[-1].split("村")[-1] or name
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{font:.1f}" class="lbl">{html.escape(short)}</text>'
        )
    if len(communities) > 1 or area.scope in ("street", "district"):
        inner = communities.geometry.representative_point()
        cx, cy = xy(shapely.get_x(inner.values), shapely.get_y(inner.values))
        for x, y, name in zip(cx, cy, communities["name"].astype(str), strict=True):
            out.append(
                f'<text x="{x:.1f}" y="{y - font * 1.6:.1f}" font-size="{font * 1.5:.1f}" '
                f'class="big">{html.escape(name)}</text>'
            )
    if len(repair):
        rx, ry = xy(repair["lon"].to_numpy(), repair["lat"].to_numpy())
        for x, y in zip(rx, ry, strict=True):
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#b2182b" stroke="#fff" stroke-width="1"/>'
            )
    if proposed is not None:
        sx, sy = xy(shapely.get_x(proposed.geometry.values), shapely.get_y(proposed.geometry.values))
        for x, y, rank in zip(sx, sy, proposed["rank"], strict=True):
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" fill="#006d2c" stroke="#fff" stroke-width="1.5"/>'
                f'<text x="{x:.1f}" y="{y + 3.5:.1f}" font-size="10" class="site">{int(rank)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def _grid_detail(analysis: Analysis, codes: set[str], xy: Any, path: Any) -> list[str]:
    """One grid's buildings, and its households as dots: red without a speaker, blue with one."""
    out = []
    derived = getattr(analysis, "frames", {}) or {}
    buildings = derived.get("buildings")
    if buildings is not None and "grid_code" in buildings:
        for g in buildings[buildings["grid_code"].isin(codes)].geometry:
            out.append(f'<path d="{path(g)}" fill="#f0f0f0" stroke="#666" stroke-width="0.5"/>')
    hh = analysis.households[analysis.households["grid_code"].isin(codes)]
    covered = hh["speaker_covered"].fillna(False).astype(bool).to_numpy()
    hx, hy = xy(shapely.get_x(hh.geometry.values), shapely.get_y(hh.geometry.values))
    for x, y, ok in zip(hx, hy, covered, strict=True):
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.6" fill="{"#2166ac" if ok else "#d7191c"}"/>')
    return out


_TEMPLATE = Environment(autoescape=True).from_string(
    (Path(__file__).with_name("meeting.html")).read_text(encoding="utf-8")
)
