"""A seeded, realistic year of cases for the sample district, so the demo shows the whole loop.

The mix follows the seasons (more rubbish, street trading and flooded roads
in summer, snow and ice in winter, construction in spring and autumn), a few
hot spots (three buildings — a market, a night-food street, a building site
— draw a fifth of all reports), most cases close on time, some late, a few
are voided or returned, and some of the latest are still open and overdue.
Each case's deadline and handling time run on the working calendar, so the
seeded year obeys the same rules as cases moved by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.assignment import building_grids
from gridmap.cases.calendar import WorkingCalendar
from gridmap.cases.categories import DEFAULT_CATALOGUE, CategoryCatalogue
from gridmap.cases.vocabulary import Status
from gridmap.sample.names import person_names, phones
from gridmap.stores.cases import CASE_COLUMNS, EVENT_COLUMNS

DEFAULT_SEED = 16
HOUSEHOLDS_PER_CASE = 4
"""About one case a year per four households (a busy but ordinary urban district)."""
HOT_SPOTS = 3
HOT_SHARE = 0.2
VOID_SHARE = 0.03
RETURN_SHARE = 0.04
SOURCES = (("grid_worker", 0.55), ("hotline", 0.25), ("resident", 0.15), ("other", 0.05))
CENTRE = "区网格化服务管理中心"

# Relative frequency of each main category by month (January first).
SEASONS: dict[str, tuple[float, ...]] = {
    "01": (0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.4, 1.2, 1.0, 0.9, 0.8),
    "02": (0.5,) * 12,
    "03": (0.2, 0.1, 0.5, 0.7, 0.7, 0.6, 0.5, 0.5, 0.7, 0.8, 0.7, 0.4),
    "04": (0.6, 0.7, 0.8, 0.9, 1.1, 1.3, 1.5, 1.5, 1.2, 0.9, 0.7, 0.6),
    "05": (0.35, 0.3, 0.1, 0.15, 0.25, 0.5, 0.6, 0.4, 0.15, 0.1, 0.1, 0.3),
    "06": (0.2,) * 12,
}
# Subcategories that only happen in some months.
MONTHS_OF: dict[str, tuple[int, ...]] = {
    "0505": (5, 6, 7, 8, 9),  # 道路积水: the rainy season
    "0506": (12, 1, 2),  # 道路积雪结冰
    "0406": (5, 6, 7, 8, 9, 10),  # 露天烧烤
}


def sample_cases(
    frames: Mapping[str, gpd.GeoDataFrame],
    *,
    now: dt.datetime,
    seed: int = DEFAULT_SEED,
    count: int | None = None,
    catalogue: CategoryCatalogue = DEFAULT_CATALOGUE,
    calendar: WorkingCalendar | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cases reported in the year before `now`, and their events, as the case book stores them.

    `frames` are the district's layers (grids, communities, buildings;
    households only for the default count). The same frames, seed and `now`
    give the same cases.
    """
    calendar = calendar or WorkingCalendar()
    rng = np.random.default_rng(seed)
    grids = frames["grids"]
    n = count if count is not None else max(100, len(frames["households"]) // HOUSEHOLDS_PER_CASE)
    placed = _placed_buildings(frames)
    if placed.empty:
        return pd.DataFrame(columns=list(CASE_COLUMNS)), pd.DataFrame(columns=list(EVENT_COLUMNS))

    reported = _report_times(rng, n, now, calendar)
    months = np.array([t.astimezone(calendar.zone).month for t in reported])
    categories = _categories(rng, months, catalogue)
    hot = rng.choice(len(placed), size=min(HOT_SPOTS, len(placed)), replace=False)
    which = np.where(rng.random(n) < HOT_SHARE, rng.choice(hot, size=n), rng.integers(0, len(placed), size=n))
    where = placed.iloc[which].reset_index(drop=True)
    places = where.astype(object).where(where.notna(), None).to_dict("records")
    jitter = rng.normal(0, 0.00008, size=(n, 2))  # about 10 m, inside or beside the building
    sources = rng.choice([s for s, _ in SOURCES], size=n, p=[p for _, p in SOURCES])
    names, numbers = person_names(rng, n), phones(rng, n)
    worker = grids.set_index("code")[["worker_name", "worker_phone"]].reindex(where["grid_code"])
    by_worker = sources == "grid_worker"
    reporter_name = np.where(by_worker, worker["worker_name"].astype(object).to_numpy(), names)
    reporter_phone = np.where(by_worker, worker["worker_phone"].astype(object).to_numpy(), numbers)
    order = np.argsort(np.array([t.timestamp() for t in reported]), kind="stable")

    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    serial: dict[str, int] = {}
    for i in order:
        at = reported[i]
        day = at.astimezone(calendar.zone).strftime("%Y%m%d")
        serial[day] = serial.get(day, 0) + 1
        case: dict[str, Any] = {
            "code": f"{day}{serial[day]:06d}",
            "category": categories[i],
            "description": f"{catalogue.subcategory(categories[i]).name_zh}（{places[i]['address'] or ''}）",
            "source": str(sources[i]),
            "reported_at": at,
            "reporter_name": reporter_name[i],
            "reporter_phone": reporter_phone[i],
            "address": places[i]["address"],
            "building_code": places[i]["code"],
            "lon": float(places[i]["lon"] + jitter[i, 0]),
            "lat": float(places[i]["lat"] + jitter[i, 1]),
            "grid_code": places[i]["grid_code"],
            "community_code": places[i]["community_code"],
            "street_code": places[i]["street_code"],
            "status": Status.REPORTED.value,
        }
        events.extend(_lifecycle(rng, case, now, calendar, catalogue))
        cases.append(case)
    return _table(cases, CASE_COLUMNS), _table(events, EVENT_COLUMNS)


def _placed_buildings(frames: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Buildings that lie in a grid, with their point, grid, community and street."""
    buildings, grids, communities = frames["buildings"], frames["grids"], frames["communities"]
    pos = building_grids(grids, buildings)
    inside = pos >= 0
    points = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object)[inside])
    grid_code = grids["code"].to_numpy(dtype=object)[pos[inside]]
    community = grids.set_index("code")["community_code"].reindex(grid_code).to_numpy(dtype=object)
    street = communities.set_index("code")["street_code"].reindex(community).to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "code": buildings["code"].to_numpy(dtype=object)[inside],
            "address": buildings["address"].astype(object).to_numpy()[inside],
            "lon": shapely.get_x(points),
            "lat": shapely.get_y(points),
            "grid_code": grid_code,
            "community_code": community,
            "street_code": street,
        }
    )


def _report_times(
    rng: np.random.Generator, n: int, now: dt.datetime, calendar: WorkingCalendar
) -> list[dt.datetime]:
    """Report moments over the last 365 days, more by day than by night (07:00–22:00 local)."""
    start = (
        (now - dt.timedelta(days=365))
        .astimezone(calendar.zone)
        .replace(hour=0, minute=0, second=0, microsecond=0)
    )
    days = rng.integers(0, 365, size=n)
    minutes = rng.integers(7 * 60, 22 * 60, size=n)
    out = []
    for d, m in zip(days.tolist(), minutes.tolist(), strict=True):
        moment = (start + dt.timedelta(days=d, minutes=m)).astimezone(dt.UTC)
        out.append(min(moment, now - dt.timedelta(minutes=1)))
    return out


def _categories(rng: np.random.Generator, months: np.ndarray, catalogue: CategoryCatalogue) -> list[str]:
    """A subcategory per case: the main category by the season, then one that happens in that month."""
    mains = [c for c in catalogue.categories if c.code in SEASONS]
    weights = np.array([SEASONS[c.code] for c in mains])  # (mains, 12)
    out = []
    for month, draw in zip(months.tolist(), rng.random((len(months), 2)), strict=True):
        p = weights[:, month - 1] / weights[:, month - 1].sum()
        main = mains[int(np.searchsorted(np.cumsum(p), draw[0] * 0.999999))]
        subs = [s.code for s in main.children if month in MONTHS_OF.get(s.code, range(1, 13))]
        out.append(subs[int(draw[1] * len(subs))])
    return out


def _lifecycle(
    rng: np.random.Generator,
    case: dict[str, Any],
    now: dt.datetime,
    calendar: WorkingCalendar,
    catalogue: CategoryCatalogue,
) -> list[dict[str, Any]]:
    """Walk one case through its steps until `now`; fills the case's columns, returns its events."""
    sub = catalogue.subcategory(case["category"])
    department = catalogue.department(sub.department)
    events = [
        _event(
            case,
            "report",
            None,
            Status.REPORTED,
            "网格员" if case["source"] == "grid_worker" else "市民",
            case["reported_at"],
        )
    ]
    checker = f"{case['community_code']}社区监督员"
    handler = f"{department.name_zh}处置员"
    recent = (now - case["reported_at"]) < dt.timedelta(days=30)

    def step(
        action: str, source: Status, target: Status, actor: str, hours: float, note: str | None = None
    ) -> bool:
        at = calendar.add_hours(events[-1]["at"], hours)
        if at >= now:
            return False
        events.append(_event(case, action, source, target, actor, at, note))
        case["status"] = target.value
        return True

    if not step("accept", Status.REPORTED, Status.ACCEPTED, CENTRE, rng.uniform(0.1, 1.5)):
        return events
    case["accepted_at"] = events[-1]["at"]
    if rng.random() < VOID_SHARE:
        step(
            "void", Status.ACCEPTED, Status.VOID, CENTRE, 0.2, str(rng.choice(["重复上报", "不属于受理范围"]))
        )
        return events
    returns = 1 if rng.random() < RETURN_SHARE else 0
    while True:
        if not step("dispatch", Status.ACCEPTED, Status.DISPATCHED, CENTRE, rng.uniform(0.1, 1.0)):
            return events
        dispatched = events[-1]["at"]
        due = calendar.add_hours(dispatched, sub.hours)
        case.update(department=department.code, dispatched_at=dispatched, due_at=due)
        slow = 1.3 if department.code == "zjj" else 1.0
        stuck = 5.0 if recent and rng.random() < 0.15 else 1.0
        hours = sub.hours * slow * stuck * float(rng.lognormal(-0.55, 0.5))
        if not step("handle", Status.DISPATCHED, Status.HANDLED, handler, hours):
            return events
        case.update(
            handler=handler,
            handled_at=events[-1]["at"],
            handling_hours=round(calendar.hours_between(dispatched, events[-1]["at"]), 4),
            on_time=bool(events[-1]["at"] <= due),
        )
        if returns:
            returns -= 1
            if not step(
                "return", Status.HANDLED, Status.ACCEPTED, checker, rng.uniform(0.5, 3), "处置不到位"
            ):
                return events
            for name in ("handler", "handled_at", "handling_hours", "on_time", "due_at"):
                case[name] = None
            continue
        break
    if not step("check", Status.HANDLED, Status.CHECKED, checker, rng.uniform(0.5, 4)):
        return events
    case.update(checker=checker, checked_at=events[-1]["at"])
    if step("close", Status.CHECKED, Status.CLOSED, CENTRE, rng.uniform(0.1, 2)):
        case["closed_at"] = events[-1]["at"]
    return events


def _event(
    case: Mapping[str, Any],
    action: str,
    source: Status | None,
    target: Status,
    actor: str,
    at: dt.datetime,
    note: str | None = None,
) -> dict[str, Any]:
    role = {"report": "viewer", "handle": "department"}.get(action, "editor")
    return {
        "case_code": case["code"],
        "action": action,
        "from_status": source.value if source else None,
        "to_status": target.value,
        "actor": actor,
        "role": role,
        "at": at,
        "note": note,
    }


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    return table.reindex(columns=[c for c in columns if c != "version"])
