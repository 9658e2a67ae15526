"""Repair tickets for broken speakers (村村响): one open case per broken speaker, closed once it works.

However a speaker is marked broken — an import, the API, the console, or a
direct edit in QGIS or psql that the store logs — the next `sync_repairs`
(run by the serving builder after every revision, and by `gridmap cases
repairs`) opens exactly one repair case for it: category 0701 (应急广播故障),
dispatched at once with its 24 calendar hours, carrying the households that
only this speaker covered (within its range and no working speaker's). When
the speaker works again (or is removed) the open case is closed as repaired,
and the analysis counts those households as covered again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.cases.lifecycle import Actor
from gridmap.cases.vocabulary import OPEN_STATUSES, Action, Status
from gridmap.coverage import metric_xy, speaker_coverage, speaker_radii, working
from gridmap.crs import metric_crs
from gridmap.frames import WGS84
from gridmap.privacy import Role
from gridmap.stores.cases import CaseFilter

REPAIR_CATEGORY = "0701"
SYSTEM = Actor(Role.ADMIN, "系统（广播故障监测）")
"""Who opens and closes repair tickets: the system, as the command centre."""
REPAIRER = Actor(Role.ADMIN, "设备维护")


@dataclass
class RepairSync:
    """What one sync did: the cases opened (speaker → case) and closed as repaired."""

    opened: dict[str, str] = field(default_factory=dict)
    closed: dict[str, str] = field(default_factory=dict)


def orphaned_households(speakers: gpd.GeoDataFrame, households: gpd.GeoDataFrame) -> dict[str, int]:
    """For each broken speaker, the households within its range that no working speaker reaches."""
    broken = ~working(speakers)
    if not broken.any() or households.empty:
        return {str(code): 0 for code in speakers.loc[broken, "code"]}
    crs = metric_crs(households.to_crs(WGS84) if households.crs != WGS84 else households)
    homes = metric_xy(households, crs)
    covered = speaker_coverage(homes, speakers, crs)
    sites = metric_xy(speakers, crs)
    radii = speaker_radii(speakers)
    # One tree of the households no working speaker reaches, asked once for every broken speaker: a
    # city's thousand broken speakers cost one query, not a pass over its millions of homes each.
    at = np.flatnonzero(broken)
    lonely = cKDTree(homes[~covered])
    counts = lonely.query_ball_point(sites[at], r=radii[at], return_length=True)
    return {str(code): int(n) for code, n in zip(speakers["code"].iloc[at], counts, strict=True)}


def sync_repairs(desk: CaseDesk, speakers: gpd.GeoDataFrame, households: gpd.GeoDataFrame) -> RepairSync:
    """Open a case for each broken speaker without one, close those whose speaker works again."""
    done = RepairSync()
    open_cases = _open_repairs(desk)
    broken = speakers.loc[~working(speakers)]
    wanted = set(broken["code"].astype(str))
    for speaker, case in open_cases.items():
        if speaker not in wanted:
            _close(desk, case)
            done.closed[speaker] = str(case["code"])
    new = broken[~broken["code"].astype(str).isin(open_cases)]
    if new.empty:
        return done
    counts = orphaned_households(speakers, households)
    points = new.to_crs(WGS84) if new.crs != WGS84 else new
    for (_, row), point in zip(new.iterrows(), points.geometry, strict=True):
        code = str(row["code"])
        done.opened[code] = _open(desk, code, row, point, counts.get(code, 0))
    return done


def _open_repairs(desk: CaseDesk) -> dict[str, dict[str, Any]]:
    wanted = CaseFilter(category=REPAIR_CATEGORY, statuses=[s.value for s in OPEN_STATUSES])
    rows, _ = desk.book.query(wanted.where(desk.clock()))
    return {str(r["speaker_code"]): r for r in rows if r.get("speaker_code")}


def _open(desk: CaseDesk, code: str, row: Any, point: Any, households: int) -> str:
    name = row.get("name") if isinstance(row.get("name"), str) else code
    description = f"应急广播故障：{name}（{code}），仅由其覆盖的 {households} 户失去广播覆盖"
    lon, lat = (float(point.x), float(point.y)) if point is not None and not point.is_empty else (None, None)
    report = CaseReport(
        REPAIR_CATEGORY,
        description,
        lon=lon,
        lat=lat,
        source="system",
        speaker_code=code,
        uncovered_households=households,
    )
    case = desk.report(SYSTEM, report)
    number = str(case["code"])
    if case["grid_code"] is not None:
        desk.move(SYSTEM, number, Action.ACCEPT)
        desk.move(SYSTEM, number, Action.DISPATCH)
    return number


def _close(desk: CaseDesk, case: dict[str, Any]) -> None:
    """The speaker works again: the ticket is handled by maintenance, checked and closed by the system."""
    number = str(case["code"])
    status = Status(case["status"])
    if case.get("grid_code") is None:  # never placed, so never dispatched: void it
        desk.move(SYSTEM, number, Action.VOID, note="广播已恢复 speaker works again")
        return
    steps = {
        Status.REPORTED: [Action.ACCEPT, Action.DISPATCH, Action.HANDLE, Action.CHECK, Action.CLOSE],
        Status.ACCEPTED: [Action.DISPATCH, Action.HANDLE, Action.CHECK, Action.CLOSE],
        Status.DISPATCHED: [Action.HANDLE, Action.CHECK, Action.CLOSE],
        Status.SUSPENDED: [Action.RESUME, Action.HANDLE, Action.CHECK, Action.CLOSE],
        Status.HANDLED: [Action.CHECK, Action.CLOSE],
        Status.CHECKED: [Action.CLOSE],
    }[status]
    for action in steps:
        actor = REPAIRER if action in (Action.HANDLE, Action.RESUME) else SYSTEM
        desk.move(actor, number, action, note="广播已恢复 speaker works again")
