"""Cases as the catalogue shows them: a GeoDataFrame of `gridmap.catalogue.CASES`, masked by role.

The book holds times as aware datetimes; people read them in the calendar's
timezone as ISO 8601 with the offset (2026-12-02T09:30:00+08:00).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.cases.vocabulary import Status
from gridmap.catalogue import CASES
from gridmap.frames import WGS84, conform, empty_frame
from gridmap.privacy import Role, protect

TIME_FIELDS = ("reported_at", "due_at", "closed_at", "reviewed_at")


def is_overdue(case: Mapping[str, Any], now: dt.datetime) -> bool:
    """Dispatched, not yet handled, and past its deadline (as `stores.cases.overdue_condition` in SQL)."""
    due = case.get("due_at")
    return case.get("status") == Status.DISPATCHED.value and due is not None and due < now


def local_time(value: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat(timespec="seconds")


def cases_frame(
    rows: Sequence[Mapping[str, Any]], *, now: dt.datetime, zone: ZoneInfo, role: Role
) -> gpd.GeoDataFrame:
    """The cases as `role` may read them (personal fields masked below admin)."""
    if not rows:
        return protect(CASES, empty_frame(CASES), role)
    table = pd.DataFrame([dict(row) for row in rows])
    for name in TIME_FIELDS:
        table[name] = [local_time(row.get(name), zone) for row in rows]
    table["overdue"] = [is_overdue(row, now) for row in rows]
    lon, lat = (
        table["lon"].to_numpy(dtype=float, na_value=np.nan),
        table["lat"].to_numpy(dtype=float, na_value=np.nan),
    )
    geometry = np.where(np.isfinite(lon) & np.isfinite(lat), shapely.points(lon, lat), None)
    frame = conform(CASES, gpd.GeoDataFrame(table, geometry=geometry, crs=WGS84))
    return protect(CASES, frame, role)


def properties(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Rows of a cases frame as JSON-ready dicts (nulls as None), geometry as lon/lat."""
    columns = [c for c in frame.columns if c != "geometry"]
    out = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    xs = frame.geometry.x.tolist() if len(frame) else []
    ys = frame.geometry.y.tolist() if len(frame) else []
    for record, x, y in zip(out, xs, ys, strict=True):
        record["lon"] = None if pd.isna(x) else x
        record["lat"] = None if pd.isna(y) else y
    return out
