"""The 街道网格化综合管理中心 dashboard: what the command centre watches today, for one actor's area.

Due today, overdue now, awaiting follow-up (every reporter of a merged case
counted), broken speakers in the area, and the three rates of the cases
reported this calendar month (in the calendar's zone). Every count comes
from the case desk with the actor's confinement, so an editor sees their
communities, a department its cases, an admin the whole district.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridmap.assignment import locate_points, point_xy
from gridmap.cases.desk import CaseDesk, confine
from gridmap.cases.lifecycle import Actor
from gridmap.cases.statistics import LABELS
from gridmap.cases.vocabulary import Status
from gridmap.coverage import working
from gridmap.privacy import Role
from gridmap.stores.cases import CaseFilter
from gridmap.vocabulary import CASE_RATES, rate_color, rate_grade

COUNTS: dict[str, tuple[str, str]] = {
    "due_today": ("今日到期", "Due today"),
    "overdue": ("超期", "Overdue"),
    "awaiting_review": ("待回访", "Awaiting follow-up"),
    "broken_speakers": ("故障广播", "Broken speakers"),
}
"""The dashboard's counts and their labels, in the order it shows them."""


@dataclass(frozen=True)
class Dashboard:
    """One actor's dashboard on one local day."""

    day: dt.date
    month: str
    counts: dict[str, int]
    rates: dict[str, float | None]
    broken: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """The dashboard with Chinese and English labels and each rate's grade and colour."""
        return {
            "day": self.day.isoformat(),
            "month": self.month,
            "counts": [
                {"code": code, "value": self.counts[code], "label_zh": zh, "label_en": en}
                for code, (zh, en) in COUNTS.items()
            ],
            "rates": [
                {
                    "code": code,
                    "value": self.rates[code],
                    "label_zh": LABELS[code][0],
                    "label_en": LABELS[code][1],
                    "grade": rate_grade(code, self.rates[code]),
                    "color": rate_color(code, self.rates[code]),
                }
                for code in CASE_RATES
            ],
            "broken_speakers": self.broken,
        }


def dashboard(desk: CaseDesk, actor: Actor, day: dt.date) -> Dashboard:
    """The actor's dashboard on local `day`: its cases' counts and this month's three rates."""
    start, end = desk.calendar.period(day, day)  # a day beyond the calendar's dates is a ValidationError
    assert start is not None and end is not None
    _, due_today = desk.search(
        actor, CaseFilter(statuses=[Status.DISPATCHED.value], due_from=start, due_before=end), limit=0
    )
    _, overdue = desk.search(actor, CaseFilter(overdue=True), limit=0)
    _, awaiting = desk.search(actor, CaseFilter(awaiting_review=True), limit=0)
    broken = _broken_speakers(desk, actor)
    month_start = start.replace(day=1)
    month_end = (month_start + dt.timedelta(days=32)).replace(day=1)
    table = desk.statistics("street", since=month_start, until=month_end, wanted=confine(actor, CaseFilter()))
    return Dashboard(
        day=day,
        month=f"{month_start:%Y-%m}",
        counts={
            "due_today": due_today,
            "overdue": overdue,
            "awaiting_review": awaiting,
            "broken_speakers": len(broken),
        },
        rates=_rates(table),
        broken=broken,
    )


def _rates(table: pd.DataFrame) -> dict[str, float | None]:
    """The three rates of the summed counts of every row (the actor's whole area)."""
    total = table.sum(numeric_only=True)
    counted = int(total.get("received", 0) - total.get("void", 0) - total.get("merged", 0))
    reached = int(total.get("reached", 0))

    def share(part: str, whole: int) -> float | None:
        return round(float(total.get(part, 0)) / whole, 4) if whole else None

    return {
        "response_rate": share("responded_in_time", counted),
        "resolution_rate": share("resolved", counted),
        "satisfaction_rate": share("satisfied", reached),
    }


def _broken_speakers(desk: CaseDesk, actor: Actor) -> list[dict[str, Any]]:
    """The broken speakers of the actor's area (an editor's communities; everyone else the district)."""
    speakers = desk.store.read("speakers")
    grids = desk.store.read("grids")
    broken = speakers.loc[~working(speakers)].copy()
    if not broken.empty:  # the grid of each, as the analysis places it (a stored grid_code may lag)
        at = locate_points(grids, *point_xy(broken))
        found = grids["code"].astype("string").to_numpy()[np.maximum(at, 0)]
        broken["grid_code"] = pd.Series(np.where(at >= 0, found, None), index=broken.index, dtype="string")
    if actor.role is Role.EDITOR:
        mine = set(grids.loc[grids["community_code"].isin(actor.communities), "code"].astype(str))
        broken = broken[broken["grid_code"].astype("string").isin(mine).fillna(False)]
    names = dict(zip(grids["code"].astype(str), grids["name"].astype(object), strict=True))
    return [
        {
            "code": str(r["code"]),
            "name": r["name"] if isinstance(r["name"], str) else str(r["code"]),
            "grid_code": r["grid_code"] if isinstance(r["grid_code"], str) else None,
            "grid_name": names.get(r["grid_code"]) if isinstance(r["grid_code"], str) else None,
        }
        for r in broken.sort_values("code")[["code", "name", "grid_code"]].to_dict("records")
    ]
