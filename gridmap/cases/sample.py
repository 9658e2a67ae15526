"""A seeded, realistic year of cases for the sample district, so the demo shows the whole loop.

The mix follows the seasons (more rubbish, street trading and flooded roads
in summer, snow and ice in winter, construction in spring and autumn), a few
hot spots (three buildings — a market, a night-food street, a building site
— draw a fifth of all reports), most cases close on time, some late, a few
are voided or returned, and some of the latest are still open and overdue.
Around them the rest of the loop: late responses, extensions (延期) and
returns approved in the ledger, cases raised a level (上报上级), repeated
reports merged into the case they repeat (并单), follow-ups by a third party
(回访) with their satisfaction, and reopenings of the unsolved. Each case's
deadline and handling time run on its category's clock, so the seeded year
obeys the same rules as cases moved by hand.
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
from gridmap.stores.cases import CASE_COLUMNS, EVENT_COLUMNS, REQUEST_COLUMNS

DEFAULT_SEED = 16
HOUSEHOLDS_PER_CASE = 4
"""About one case a year per four households (a busy but ordinary urban district)."""
HOT_SPOTS = 3
HOT_SHARE = 0.2
VOID_SHARE = 0.03
RETURN_SHARE = 0.04
EXTEND_SHARE = 0.06
RAISE_SHARE = 0.05
DUPLICATE_SHARE = 0.04
LATE_RESPONSE_SHARE = 0.08
FOLLOW_UP_SHARE = 0.85
REACHED_SHARE = 0.9
SATISFACTION = (("satisfied", 0.74), ("basic", 0.16), ("dissatisfied", 0.10))
REASONS = (("unsolved", 0.4), ("attitude", 0.3), ("slow", 0.3))
REVIEWER = "第三方回访中心"
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
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The cases reported in the year before `now`, their events and their approval ledger, as the
    case book stores them.

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
        return (
            pd.DataFrame(columns=list(CASE_COLUMNS)),
            pd.DataFrame(columns=list(EVENT_COLUMNS)),
            pd.DataFrame(columns=list(REQUEST_COLUMNS)),
        )

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
    ledger: list[dict[str, Any]] = []
    serial: dict[str, int] = {}
    latest: dict[tuple[str, str], dict[str, Any]] = {}  # (building, category) → its latest case
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
            "ticket_no": f"GD{day}{serial[day]:05d}" if sources[i] == "hotline" else None,
            "placed_by": "address",
            "level": catalogue.subcategory(categories[i]).level,
        }
        key = (str(places[i]["code"]), categories[i])
        repeated = latest.get(key)
        if (
            repeated is not None
            and repeated["status"] not in (Status.VOID.value, Status.MERGED.value)
            and at - repeated["reported_at"] < dt.timedelta(days=3)
            and rng.random() < DUPLICATE_SHARE * 6
        ):
            events.extend(_merged(case, repeated))
        else:
            events.extend(_lifecycle(rng, case, now, calendar, catalogue, ledger))
            latest[key] = case
        cases.append(case)
    events.extend(_merged_follow_ups(rng, cases, now))
    return _table(cases, CASE_COLUMNS), _table(events, EVENT_COLUMNS), _table(ledger, REQUEST_COLUMNS)


def _merged_follow_ups(
    rng: np.random.Generator, cases: list[dict[str, Any]], now: dt.datetime
) -> list[dict[str, Any]]:
    """The reporters of merged reports, followed up once the case they joined closed (every reporter is
    asked); their complaints are about the service, not the solution, so no case reopens."""
    closed = {c["code"]: c for c in cases if c["status"] == Status.CLOSED.value and c.get("closed_at")}
    out = []
    for case in cases:
        joined = closed.get(case.get("duplicate_of"))
        if joined is None or rng.random() >= FOLLOW_UP_SHARE:
            continue
        at = joined["closed_at"] + dt.timedelta(hours=float(rng.uniform(4, 12)))
        if at >= now:
            continue
        phone = case["reporter_phone"]
        reached = bool(rng.random() < REACHED_SHARE) if isinstance(phone, str) and phone else False
        said = (
            str(rng.choice([s for s, _ in SATISFACTION], p=[p for _, p in SATISFACTION])) if reached else None
        )
        kept = [(r, p) for r, p in REASONS if r != "unsolved"]
        weights = np.array([p for _, p in kept]) / sum(p for _, p in kept)
        reason = str(rng.choice([r for r, _ in kept], p=weights)) if said == "dissatisfied" else None
        case.update(
            reviewed_at=at,
            reviewer=REVIEWER,
            review_channel="phone" if isinstance(phone, str) and phone else "channel",
            reached=reached,
            satisfaction=said,
            dissatisfaction_reason=reason,
        )
        out.append(_event(case, "review", Status.MERGED, Status.MERGED, REVIEWER, at, None, "reviewer"))
    return out


def _merged(case: dict[str, Any], into: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A report repeating a case of the same category at the same building within days (并单)."""
    case.update(status=Status.MERGED.value, duplicate_of=into["code"])
    reported = _event(case, "report", None, Status.REPORTED, "市民", case["reported_at"])
    merged = _event(
        case,
        "merge",
        Status.REPORTED,
        Status.MERGED,
        CENTRE,
        case["reported_at"] + dt.timedelta(minutes=20),
        f"并入案件 {into['code']}",
    )
    return [reported, merged]


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
    ledger: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Walk one case through its steps until `now`; fills the case's columns and its ledger entries,
    returns its events."""
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
    case.update(returns=0, extensions=0, suspensions=0, reopened=0)

    def step(
        action: str,
        source: Status,
        target: Status,
        actor: str,
        hours: float,
        note: str | None = None,
        role: str | None = None,
    ) -> bool:
        at = calendar.add_hours(events[-1]["at"], hours)
        if at >= now:
            return False
        events.append(_event(case, action, source, target, actor, at, note, role))
        case["status"] = target.value
        return True

    def approved(kind: str, status: Status, target: Status, asker: str, reason: str, **extra: Any) -> bool:
        """A request and its approval by the centre, in the events and the ledger."""
        if not step(kind, status, status, asker, rng.uniform(0.2, 2), reason):
            return False
        asked = events[-1]["at"]
        if not step("approve", status, target, CENTRE, rng.uniform(0.2, 3), f"{kind}: {reason}", "admin"):
            return False
        ledger.append(
            {
                "case_code": case["code"],
                "kind": kind,
                "reason": reason,
                "hours": extra.get("hours"),
                "from_status": status.value,
                "requested_by": asker,
                "requested_role": "department" if asker == handler else "editor",
                "requested_at": asked,
                "decision": "approved",
                "decided_by": CENTRE,
                "decided_role": "admin",
                "decided_at": events[-1]["at"],
                "decision_note": None,
            }
        )
        return True

    late = rng.random() < LATE_RESPONSE_SHARE
    if not step(
        "accept",
        Status.REPORTED,
        Status.ACCEPTED,
        CENTRE,
        rng.uniform(2.5, 6) if late else rng.uniform(0.1, 1.5),
    ):
        return events
    case["accepted_at"] = events[-1]["at"]
    elapsed = calendar.elapsed(case["reported_at"], case["accepted_at"], sub.clock)
    case["response_on_time"] = bool(elapsed <= sub.response_hours)
    if rng.random() < VOID_SHARE:
        reason = str(rng.choice(["重复上报", "不属于受理范围"]))
        approved("void", Status.ACCEPTED, Status.VOID, checker, reason)
        return events
    if case["level"] != "street" and rng.random() < RAISE_SHARE:
        if not step(
            "raise",
            Status.ACCEPTED,
            Status.ACCEPTED,
            checker,
            rng.uniform(0.2, 2),
            "网格无法解决，提请社区协调",
        ):
            return events
        case["level"] = "community" if case["level"] == "grid" else "street"
    returns = 1 if rng.random() < RETURN_SHARE else 0
    reviews = 0
    while True:
        if not step("dispatch", Status.ACCEPTED, Status.DISPATCHED, CENTRE, rng.uniform(0.1, 1.0)):
            return events
        dispatched = events[-1]["at"]
        due = calendar.deadline(dispatched, sub.hours, sub.clock)
        case.update(department=department.code, dispatched_at=dispatched, due_at=due)
        slow = 1.3 if department.code == "zjj" else 1.0
        stuck = 5.0 if recent and rng.random() < 0.15 else 1.0
        hours = sub.hours * slow * stuck * float(rng.lognormal(-0.55, 0.5))
        if sub.clock == "working" and not case["extensions"] and rng.random() < EXTEND_SHARE:
            extra = round(sub.hours * 0.5, 1)
            if not approved(
                "extend", Status.DISPATCHED, Status.DISPATCHED, handler, "需协调相关单位", hours=extra
            ):
                return events
            due = calendar.deadline(due, extra, sub.clock)
            case.update(due_at=due, extensions=1)
            hours *= 1.3
        if not step("handle", Status.DISPATCHED, Status.HANDLED, handler, hours, role="department"):
            return events
        case.update(
            handler=handler,
            handled_at=events[-1]["at"],
            handling_hours=round(calendar.elapsed(dispatched, events[-1]["at"], sub.clock), 4),
            on_time=bool(events[-1]["at"] <= due),
        )
        if returns:
            returns -= 1
            if not approved("return", Status.HANDLED, Status.ACCEPTED, checker, "处置不到位"):
                return events
            case["returns"] += 1
            for name in ("handler", "handled_at", "handling_hours", "on_time", "due_at"):
                case[name] = None
            continue
        if not step("check", Status.HANDLED, Status.CHECKED, checker, rng.uniform(0.5, 4)):
            return events
        case.update(checker=checker, checked_at=events[-1]["at"])
        if not step("close", Status.CHECKED, Status.CLOSED, CENTRE, rng.uniform(0.1, 2)):
            return events
        case.update(closed_at=events[-1]["at"], solved_level=case["level"])
        if reviews or rng.random() >= FOLLOW_UP_SHARE:
            return events
        reviews += 1
        if not _follow_up(rng, case, step, events):
            return events
        case.update(reopened=1, closed_at=None, handler=None, checker=None, due_at=None)


def _follow_up(
    rng: np.random.Generator, case: dict[str, Any], step: Any, events: list[dict[str, Any]]
) -> bool:
    """A third party's follow-up a working day after closing; True when it reopens the case."""
    phone = case["reporter_phone"]
    reached = bool(rng.random() < REACHED_SHARE) if isinstance(phone, str) and phone else False
    said = str(rng.choice([s for s, _ in SATISFACTION], p=[p for _, p in SATISFACTION])) if reached else None
    reason = (
        str(rng.choice([r for r, _ in REASONS], p=[p for _, p in REASONS]))
        if said == "dissatisfied"
        else None
    )
    reopen = reason == "unsolved"
    target = Status.ACCEPTED if reopen else Status.CLOSED
    if not step("review", Status.CLOSED, target, REVIEWER, rng.uniform(4, 12), None, "reviewer"):
        return False
    case.update(
        reviewed_at=events[-1]["at"],
        reviewer=REVIEWER,
        review_channel="phone" if isinstance(phone, str) and phone else "channel",
        reached=reached,
        satisfaction=said,
        dissatisfaction_reason=reason,
    )
    return reopen


def _event(
    case: Mapping[str, Any],
    action: str,
    source: Status | None,
    target: Status,
    actor: str,
    at: dt.datetime,
    note: str | None = None,
    role: str | None = None,
) -> dict[str, Any]:
    role = role or {"report": "viewer", "handle": "department"}.get(action, "editor")
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
