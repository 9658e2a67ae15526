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

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from gridmap.arrays import FloatArray, IntArray
from gridmap.cases.desk import CaseDesk, CaseReport, Step
from gridmap.cases.lifecycle import Actor
from gridmap.cases.routing import Placing
from gridmap.cases.vocabulary import OPEN_STATUSES, Action, Status
from gridmap.coverage import metric_xy, speaker_coverage, speaker_radii, working
from gridmap.crs import metric_crs, transformer
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


def orphaned_households(
    speakers: gpd.GeoDataFrame, households: gpd.GeoDataFrame, among: Collection[str] | None = None
) -> dict[str, int]:
    """For each broken speaker (of `among`, when given), the households within its range that no
    working speaker reaches.

    Only the homes in a box around those speakers' ranges are looked at, in the households' own
    coordinates: a speaker broken in a city of millions projects and counts a few hundred homes.
    """
    broken = ~working(speakers)
    if among is not None:
        broken &= speakers["code"].astype(str).isin(list(among)).to_numpy()
    if not broken.any() or households.empty:
        return {str(code): 0 for code in speakers.loc[broken, "code"]}
    crs = metric_crs(households.to_crs(WGS84) if households.crs != WGS84 else households)
    at = np.flatnonzero(broken)
    sites = metric_xy(speakers.iloc[at], crs)
    radii = speaker_radii(speakers)[at]
    homes = metric_xy(households.iloc[_near(households, sites, radii, crs)], crs)
    covered = speaker_coverage(homes, speakers, crs)
    # One tree of the households no working speaker reaches, asked once for every broken speaker: a
    # city's thousand broken speakers cost one query, not a pass over its millions of homes each.
    lonely = cKDTree(homes[~covered])
    counts = np.zeros(len(at), dtype=np.intp)  # a speaker without a point orphans nobody
    found = np.isfinite(sites).all(axis=1)
    if found.any():
        counts[found] = lonely.query_ball_point(sites[found], r=radii[found], return_length=True)
    return {str(code): int(n) for code, n in zip(speakers["code"].iloc[at], counts, strict=True)}


def _near(households: gpd.GeoDataFrame, sites: FloatArray, radii: FloatArray, crs: pyproj.CRS) -> IntArray:
    """Positions of the households inside the box (in their own CRS) holding every site's range."""
    found = np.isfinite(sites).all(axis=1)
    if not found.any():
        return np.empty(0, dtype=np.intp)
    reach = float(radii[found].max()) * 1.01 + 1.0
    (west, south), (east, north) = sites[found].min(axis=0) - reach, sites[found].max(axis=0) + reach
    x0, y0, x1, y1 = transformer(crs, households.crs).transform_bounds(west, south, east, north)
    points = np.asarray(households.geometry.values, dtype=object)
    x, y = shapely.get_x(points), shapely.get_y(points)
    return np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))


def sync_repairs(
    desk: CaseDesk,
    speakers: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    placing: Placing | None = None,
) -> RepairSync:
    """Open a case for each broken speaker without one, close those whose speaker works again.

    Either way in one transaction of the case book (`CaseDesk.report_many`, `CaseDesk.move_many`):
    a city's first sync opens its thousand tickets in a second, not one ticket at a time. New
    tickets are placed by `placing` (the serving builder's, from the layers it holds), else by the
    desk's lookup; both place them alike.
    """
    done = RepairSync()
    open_cases = _open_repairs(desk)
    broken = speakers.loc[~working(speakers)]
    wanted = set(broken["code"].astype(str))
    gone = {speaker: case for speaker, case in open_cases.items() if speaker not in wanted}
    desk.move_many({str(case["code"]): _closing(case) for case in gone.values()})
    done.closed = {speaker: str(case["code"]) for speaker, case in gone.items()}
    new = broken[~broken["code"].astype(str).isin(open_cases)]
    if new.empty:
        return done
    codes = new["code"].astype(str).tolist()
    counts = orphaned_households(speakers, households, among=codes)
    points = new.to_crs(WGS84) if new.crs != WGS84 else new
    names = new["name"] if "name" in new else pd.Series(None, index=new.index, dtype=object)
    reports = [
        _report(code, name, point, counts.get(code, 0))
        for code, name, point in zip(codes, names, points.geometry, strict=True)
    ]
    opened = desk.report_many(SYSTEM, reports, then=(Action.ACCEPT, Action.DISPATCH), placing=placing)
    done.opened = {str(case["speaker_code"]): str(case["code"]) for case in opened}
    return done


def _open_repairs(desk: CaseDesk) -> dict[str, dict[str, Any]]:
    wanted = CaseFilter(category=REPAIR_CATEGORY, statuses=[s.value for s in OPEN_STATUSES])
    rows, _ = desk.book.query(wanted.where(desk.clock()))
    return {str(r["speaker_code"]): r for r in rows if r.get("speaker_code")}


def _report(code: str, name: object, point: Any, households: int) -> CaseReport:
    """The repair ticket of broken speaker `code`, at its point, carrying the households only it covered."""
    label = name if isinstance(name, str) else code
    description = f"应急广播故障：{label}（{code}），仅由其覆盖的 {households} 户失去广播覆盖"
    lon, lat = (float(point.x), float(point.y)) if point is not None and not point.is_empty else (None, None)
    return CaseReport(
        REPAIR_CATEGORY,
        description,
        lon=lon,
        lat=lat,
        source="system",
        speaker_code=code,
        uncovered_households=households,
    )


_CLOSING = {
    Status.REPORTED: [Action.ACCEPT, Action.DISPATCH, Action.HANDLE, Action.CHECK, Action.CLOSE],
    Status.ACCEPTED: [Action.DISPATCH, Action.HANDLE, Action.CHECK, Action.CLOSE],
    Status.DISPATCHED: [Action.HANDLE, Action.CHECK, Action.CLOSE],
    Status.SUSPENDED: [Action.RESUME, Action.HANDLE, Action.CHECK, Action.CLOSE],
    Status.HANDLED: [Action.CHECK, Action.CLOSE],
    Status.CHECKED: [Action.CLOSE],
}
"""The steps that close an open ticket from each status."""
_REPAIRED = "广播已恢复 speaker works again"


def _closing(case: dict[str, Any]) -> list[Step]:
    """The speaker works again: the ticket is handled by maintenance, checked and closed by the system;
    one never placed, so never dispatched, is voided."""
    if case.get("grid_code") is None:
        return [Step(SYSTEM, Action.VOID, _REPAIRED)]
    return [
        Step(REPAIRER if action in (Action.HANDLE, Action.RESUME) else SYSTEM, action, _REPAIRED)
        for action in _CLOSING[Status(case["status"])]
    ]
