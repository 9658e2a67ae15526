"""Repair tickets opened one at a time, as they were before `gridmap.cases.repairs.sync_repairs`
wrote them in bulk: the reference the bulk sync is held to (tests/cases/test_repairs.py) and timed
against (bench/bench_repair_sync.py)."""

from __future__ import annotations

import geopandas as gpd

from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.cases.repairs import REPAIR_CATEGORY, SYSTEM, orphaned_households
from gridmap.cases.vocabulary import Action
from gridmap.coverage import working


def tickets_one_at_a_time(
    desk: CaseDesk, speakers: gpd.GeoDataFrame, households: gpd.GeoDataFrame, limit: int | None = None
) -> int:
    """Open a ticket for each broken speaker (the first `limit`), each placed by the desk's lookup
    on its own: a report, then an acceptance and a dispatch, each its own transaction; the count."""
    broken = speakers.loc[~working(speakers)]
    if limit is not None:
        broken = broken.head(limit)
    counts = orphaned_households(speakers, households, among=broken["code"].astype(str).tolist())
    names = broken["name"] if "name" in broken else [None] * len(broken)
    for code, name, point in zip(broken["code"].astype(str), names, broken.geometry, strict=True):
        label = name if isinstance(name, str) else code
        report = CaseReport(
            REPAIR_CATEGORY,
            f"应急广播故障：{label}（{code}），仅由其覆盖的 {counts[code]} 户失去广播覆盖",
            lon=point.x,
            lat=point.y,
            source="system",
            speaker_code=code,
            uncovered_households=counts[code],
        )
        case = desk.report(SYSTEM, report)
        if case["grid_code"] is not None:
            desk.move(SYSTEM, case["code"], Action.ACCEPT)
            desk.move(SYSTEM, case["code"], Action.DISPATCH)
    return len(broken)
