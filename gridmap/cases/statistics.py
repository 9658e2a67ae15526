"""How each grid, community, street and department does with its cases over a period.

For the cases reported in [since, until): received; closed; closed on time
(handled by its deadline) and the on-time rate among the closed; the
average handling time (dispatch to handling, on the category's clock) of
the closed; overdue now (dispatched, unhandled, past the deadline); voided;
the three rates (三率) the 12345 assessment ranks on —

- response rate (响应率): accepted within the category's response time,
  among the cases received, neither voided nor merged into another;
- resolution rate (解决率): closed and never reopened by a follow-up, among
  the same cases;
- satisfaction rate (满意率): satisfied or basically satisfied, among the
  reporters a follow-up reached —

the shares of cases returned, extended and suspended (approved requests),
the share of closed cases solved at each level (网格, 社区, 街道), and the
count per main category; and the household-hours without speaker coverage
that repair tickets record (the households only a broken speaker covered,
times the hours from its break to its repair, or to now while it is open).
With `period="month"` every figure is given per calendar month of the
report time in the calendar's zone (Beijing), as a `period` column
("2026-12"). The database does the counting (GROUP BY on the
case table), so a million cases cost one scan, not a Python loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa

from gridmap.cases.calendar import WorkingCalendar
from gridmap.cases.categories import CategoryCatalogue
from gridmap.cases.vocabulary import LEVEL_ORDER, LEVELS
from gridmap.stores import Store
from gridmap.stores.cases import CASES_TABLE, GROUPS, CaseBook, CaseFilter

Period = Literal["month"]
PERIODS: tuple[Period, ...] = ("month",)
"""The periods statistics can be split by (calendar months of the report time, local)."""

FIGURES: dict[str, str] = {
    "received": "count",
    "closed": "count",
    "closed_on_time": "count",
    "on_time_rate": "rate",
    "avg_handling_hours": "hours",
    "overdue_now": "count",
    "void": "count",
    "merged": "count",
    "response_rate": "rate",
    "resolution_rate": "rate",
    "satisfaction_rate": "rate",
    "responded_in_time": "count",
    "resolved": "count",
    "followed_up": "count",
    "reached": "count",
    "satisfied": "count",
    "awaiting_review": "count",
    "reopened": "count",
    "returned": "count",
    "extended": "count",
    "suspended": "count",
    "return_share": "rate",
    "extension_share": "rate",
    "suspension_share": "rate",
    "household_hours_uncovered": "hours",
    **{f"solved_{level}": "count" for level in LEVEL_ORDER},
    **{f"solved_{level}_share": "rate" for level in LEVEL_ORDER},
}
"""Every figure of a statistics table, in column order, with its kind (a count, a rate, hours): the one
list the columns, their types and the counts to fill come from."""
COUNTS = tuple(name for name, kind in FIGURES.items() if kind == "count")
RATES = tuple(name for name, kind in FIGURES.items() if kind == "rate")

LABELS: dict[str, tuple[str, str]] = {
    "key": ("编码", "Code"),
    "name": ("名称", "Name"),
    "received": ("受理数", "Received"),
    "closed": ("结案数", "Closed"),
    "closed_on_time": ("按期结案数", "Closed on time"),
    "on_time_rate": ("按期结案率", "On-time rate"),
    "avg_handling_hours": ("平均处置时长(工作小时)", "Average handling (working hours)"),
    "overdue_now": ("当前超期数", "Overdue now"),
    "void": ("作废数", "Void"),
    "merged": ("并单数", "Merged duplicates"),
    "response_rate": ("响应率", "Response rate"),
    "resolution_rate": ("解决率", "Resolution rate"),
    "satisfaction_rate": ("满意率", "Satisfaction rate"),
    "responded_in_time": ("按时响应数", "Responded in time"),
    "resolved": ("解决数", "Resolved"),
    "followed_up": ("回访数", "Followed up"),
    "reached": ("回访联系上数", "Reporters reached"),
    "satisfied": ("满意及基本满意数", "Satisfied"),
    "awaiting_review": ("待回访数", "Awaiting follow-up"),
    "reopened": ("重办数", "Reopened"),
    "returned": ("退回数", "Returned"),
    "extended": ("延期数", "Extended"),
    "suspended": ("缓办数", "Suspended"),
    "return_share": ("退回率", "Return share"),
    "extension_share": ("延期率", "Extension share"),
    "suspension_share": ("缓办率", "Suspension share"),
    "household_hours_uncovered": ("无广播覆盖户时(户·小时)", "Household-hours without speaker coverage"),
    "period": ("统计月份", "Month"),
    **{f"solved_{code}": (f"{t.label_zh}解决数", f"Solved by the {code}") for code, t in LEVELS.items()},
    **{
        f"solved_{code}_share": (f"{t.label_zh}解决占比", f"Share solved by the {code}")
        for code, t in LEVELS.items()
    },
}
"""Labels of the statistics columns; category columns are labelled by the category catalogue."""

LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "grid": ("网格", "Grid"),
    "community": ("社区", "Community"),
    "street": ("街道", "Street"),
    "department": ("部门", "Department"),
}


def case_statistics(
    book: CaseBook,
    by: str,
    *,
    catalogue: CategoryCatalogue,
    names: Mapping[str, str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime,
    wanted: CaseFilter | None = None,
    period: Period | None = None,
    calendar: WorkingCalendar | None = None,
) -> pd.DataFrame:
    """One row per group with the figures above and one `category_<code>` column per main category.

    `names` maps a group's code to its name (grids, communities, streets);
    departments are named by the catalogue. Groups with no cases are absent.
    `period="month"`: one row per month and group, months read in
    `calendar`'s zone (Beijing by default).
    """
    if by not in GROUPS:
        raise KeyError(by)
    if period is not None and period not in PERIODS:
        raise KeyError(period)
    base = wanted or CaseFilter()
    conditions = CaseFilter(**{**base.__dict__, "since": since, "until": until}).where(now)
    bucket = _months(book, conditions, calendar or WorkingCalendar()) if period else None
    figures, per_category = book.statistics(by, conditions, now, bucket)
    keys = ["key"] if period is None else ["period", "key"]
    columns = [*keys, "name", *FIGURES, *(f"category_{c.code}" for c in catalogue.categories)]
    if figures.empty:
        return pd.DataFrame({name: pd.Series(dtype=_dtype(name)) for name in columns})
    table = figures.assign(**{k: figures[k].astype("string") for k in keys})
    for name in COUNTS:
        table[name] = table[name].fillna(0).astype("int64")
    for name in ("avg_handling_hours", "household_hours_uncovered"):
        table[name] = table[name].astype("float64").round(2)
    counted = table["received"] - table["void"] - table["merged"]
    for name, part, whole in (
        ("on_time_rate", "closed_on_time", table["closed"]),
        ("response_rate", "responded_in_time", counted),
        ("resolution_rate", "resolved", counted),
        ("satisfaction_rate", "satisfied", table["reached"]),
        ("return_share", "returned", table["received"]),
        ("extension_share", "extended", table["received"]),
        ("suspension_share", "suspended", table["received"]),
        *((f"solved_{lv}_share", f"solved_{lv}", table["closed"]) for lv in LEVEL_ORDER),
    ):
        table[name] = _share(table[part], whole)
    departments = {d.code: d.name_zh for d in catalogue.departments}
    named = departments if by == "department" else dict(names or {})
    table["name"] = table["key"].map(named).astype("string")
    per_category = per_category.assign(**{k: per_category[k].astype("string") for k in keys})
    pivot = per_category.pivot_table(index=keys, columns="category", values="cases", aggfunc="sum")
    counts = table[keys].join(pivot, on=keys)
    for category in catalogue.categories:
        found = counts[category.code] if category.code in counts.columns else 0
        table[f"category_{category.code}"] = pd.Series(found, index=table.index).fillna(0).astype("int64")
    return table[columns].sort_values(keys, kind="stable", ignore_index=True)


def _months(
    book: CaseBook, where: list[sa.ColumnElement[bool]], calendar: WorkingCalendar
) -> sa.ColumnElement[str]:
    """The month ("2026-12", local) of each case's report time, as SQL: a CASE over the month boundaries
    in the calendar's zone computed here, so both databases agree whatever their own timezone rules."""
    first, last = book.reported_range(where)
    if first is None or last is None:
        return sa.literal("")
    starts = calendar.month_starts(first, last)
    labels = [f"{start:%Y-%m}" for start in starts]
    reported = CASES_TABLE.c.reported_at
    if len(starts) == 1:
        return sa.literal(labels[0])
    return sa.case(
        *((reported < start, label) for start, label in zip(starts[1:], labels, strict=False)),
        else_=labels[-1],
    )


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part / whole rounded to 4 places; NaN where there is nothing to divide by."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (part / whole.where(whole > 0)).astype("float64").round(4)


def group_names(store: Store, by: str) -> dict[str, str]:
    """Names of the grids, communities or streets (departments are named by the catalogue)."""
    layer = {"grid": "grids", "community": "communities", "street": "streets"}.get(by)
    if layer is None:
        return {}
    frame = store.read(layer)
    return dict(zip(frame["code"].astype(str), frame["name"].astype(object), strict=True))


def workbook_sheets(
    tables: Mapping[str, pd.DataFrame], catalogue: CategoryCatalogue
) -> list[tuple[str, pd.DataFrame]]:
    """Statistics tables per level as workbook sheets (案件统计-网格 …) with Chinese headers."""
    labels = headers(catalogue)
    return [(f"案件统计-{LEVEL_LABELS[by][0]}", table.rename(columns=labels)) for by, table in tables.items()]


def headers(catalogue: CategoryCatalogue, language: str = "zh") -> dict[str, str]:
    """Column → label for a statistics table, in Chinese (`zh`) or English (`en`)."""
    i = 0 if language == "zh" else 1
    out = {name: labels[i] for name, labels in LABELS.items()}
    for category in catalogue.categories:
        out[f"category_{category.code}"] = category.name_zh if i == 0 else category.name_en
    return out


def _dtype(name: str) -> str:
    if name in ("key", "name", "period"):
        return "string"
    return "int64" if FIGURES.get(name, "count") == "count" else "float64"
