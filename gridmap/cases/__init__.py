"""Cases (案件) routed by grid: report, dispatch, handle within working-hour deadlines, check, close.

村级及时收集梳理，各职能部门限时办结，第三方了解办理效果 — see `desk` for the entry
point, `lifecycle` for the transitions, `calendar` for working hours,
`categories` for the category catalogue, `statistics` for the figures.
"""

from __future__ import annotations

from gridmap.cases.calendar import WorkingCalendar, load_calendar
from gridmap.cases.categories import DEFAULT_CATALOGUE, CategoryCatalogue, load_catalogue
from gridmap.cases.desk import CaseDesk, CaseReport, confine
from gridmap.cases.lifecycle import Actor
from gridmap.cases.statistics import case_statistics
from gridmap.cases.vocabulary import Action, Status

__all__ = [
    "DEFAULT_CATALOGUE",
    "Action",
    "Actor",
    "CaseDesk",
    "CaseReport",
    "CategoryCatalogue",
    "Status",
    "WorkingCalendar",
    "case_statistics",
    "confine",
    "load_calendar",
    "load_catalogue",
]
