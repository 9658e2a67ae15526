"""The meeting report's case section: the period it covers and each figure's trend against the one before.

A figure alone does not tell a meeting whether things are getting better:
each grid's received count and on-time rate are shown beside the change
from the previous period of equal length, and the section names both
periods in Beijing dates (the people reading it count days in Beijing).
The three rates (三率) follow for the area's street, communities and grids,
each cell coloured by its grade under the vocabulary's `CASE_RATES`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from gridmap.cases.desk import CasePeriods
from gridmap.vocabulary import CASE_RATES, rate_color, rate_grade

BEIJING = ZoneInfo("Asia/Shanghai")


LEVEL_ZH = {"street": "街道", "community": "社区", "grid": "网格"}


def case_section(periods: CasePeriods | None, grids: pd.DataFrame) -> dict[str, Any] | None:
    """Period, area totals with trends, the area's grids most overdue first, and the three rates of its
    street, communities and grids (None: no cases). `grids` are the area's grids (code,
    community_code, street_code)."""
    if periods is None:
        return None
    codes = set(grids["code"].astype(str))
    now = _mine(periods.current, codes)
    before = _mine(periods.previous, codes)
    if now.empty and before.empty:
        return None
    last = periods.until.astimezone(BEIJING).date() - dt.timedelta(days=1)
    first = periods.since.astimezone(BEIJING).date()
    span = periods.until - periods.since
    previous = f"{_day(first - span)} 至 {_day(first - dt.timedelta(days=1))}"
    was: dict[str, Any] = {str(r["key"]): r for r in before.to_dict("records")}
    rows = []
    ordered = now.sort_values(["overdue_now", "received", "key"], ascending=[False, False, True])
    for r in ordered.to_dict("records"):
        old = was.get(str(r["key"]))
        rows.append(
            {
                "code": str(r["key"]),
                "name": r["name"] if isinstance(r["name"], str) else str(r["key"]),
                "received": f"{int(r['received']):,}",
                "received_trend": _count_trend(
                    int(r["received"]), None if old is None else int(old["received"])
                ),
                "closed": f"{int(r['closed']):,}",
                "rate": percent(r["on_time_rate"]),
                "rate_trend": _rate_trend(r["on_time_rate"], None if old is None else old["on_time_rate"]),
                "overdue": f"{int(r['overdue_now']):,}",
            }
        )
    received, received_before = int(now["received"].sum()), int(before["received"].sum())
    rate, rate_before = _rate(now), _rate(before)
    return {
        "period": f"{_day(first)} 至 {_day(last)}（近 {periods.days} 天，北京时间）",
        "previous": previous,
        "received": f"{received:,}",
        "received_trend": _count_trend(received, received_before),
        "rate": percent(rate),
        "rate_trend": _rate_trend(rate, rate_before),
        "overdue": f"{int(now['overdue_now'].sum()):,}",
        "rows": rows,
        "rate_headers": [m.zh for m in CASE_RATES.values()],
        "rates": _rate_rows(periods, grids),
        "rate_standards": [(m.zh, "；".join(text for text, _ in m.classes())) for m in CASE_RATES.values()],
    }


def _rate_rows(periods: CasePeriods, grids: pd.DataFrame) -> list[dict[str, Any]]:
    """The area's streets, then its communities, then its grids, each with its three graded rates."""
    area = {
        "street": set(grids["street_code"].dropna().astype(str)),
        "community": set(grids["community_code"].dropna().astype(str)),
        "grid": set(grids["code"].astype(str)),
    }
    out = []
    for level, codes in area.items():
        table = periods.levels.get(level)
        if table is None:
            continue
        for r in _mine(table, codes).sort_values("key").to_dict("records"):
            out.append(
                {
                    "level": LEVEL_ZH[level],
                    "code": str(r["key"]),
                    "name": r["name"] if isinstance(r["name"], str) else str(r["key"]),
                    "rates": [_graded(code, r[code]) for code in CASE_RATES],
                }
            )
    return out


def _graded(code: str, value: Any) -> dict[str, str]:
    """A rate as the report prints it: the percentage with its grade letter, and the grade's colour."""
    number = None if value is None or pd.isna(value) else float(value)
    grade = rate_grade(code, number)
    return {
        "text": percent(number) + (f" {grade}" if grade else ""),
        "color": rate_color(code, number),
    }


def _mine(table: pd.DataFrame, codes: set[str]) -> pd.DataFrame:
    return table[table["key"].astype(str).isin(codes)].assign(key=lambda t: t["key"].astype(str))


def _day(day: dt.date) -> str:
    return day.isoformat()


def _rate(table: pd.DataFrame) -> float | None:
    closed = int(table["closed"].sum()) if len(table) else 0
    return int(table["closed_on_time"].sum()) / closed if closed else None


def percent(value: Any) -> str:
    """A share as a percentage with one decimal ("—" when there is none)."""
    return "—" if value is None or pd.isna(value) else f"{float(value) * 100:.1f}%"


def _count_trend(now: int, before: int | None) -> str:
    """ "↑3", "↓2", "持平" against the previous period; "新增" when it had none."""
    if not before:
        return "新增" if now else "持平"
    change = now - before
    return "持平" if change == 0 else f"{'↑' if change > 0 else '↓'}{abs(change):,}"


def _rate_trend(now: Any, before: Any) -> str:
    """The change in percentage points ("↑5.0 个百分点"), "—" when either period closed nothing."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return "—"
    change = (float(now) - float(before)) * 100
    if abs(change) < 0.05:
        return "持平"
    return f"{'↑' if change > 0 else '↓'}{abs(change):.1f} 个百分点"
