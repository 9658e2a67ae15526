"""Visits against a store: record one (idempotent), a grid's due list, a period's figures.

The CLI and the API both call these, so the checks (the household exists, the
key is given, times carry a zone) and the masking of care categories are
written once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from gridmap.errors import NotFoundError, Problem, StoreError, ValidationError
from gridmap.localtime import BEIJING
from gridmap.privacy import Role, protect_care
from gridmap.stores import Store
from gridmap.texts import Message
from gridmap.visits.due import day_end, due_list, visit_status
from gridmap.visits.rules import check_category
from gridmap.visits.sample import DEFAULT_SEED, sample_visits


@dataclass(frozen=True)
class Visit:
    """One visit as a worker records it; `key` is the idempotency key (a retry sends the same)."""

    key: str
    household_code: str
    visitor: str
    visited_at: dt.datetime
    reached: bool = True
    notes: str | None = None
    follow_up: bool = False
    case_code: str | None = None


def log_visit(store: Store, visit: Visit, now: dt.datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Record `visit` once: (the stored visit, whether this call wrote it).

    The household must exist, and the case raised from the visit, when named, too.
    """
    problems = []
    if not visit.key.strip():
        problems.append(Problem(None, "key", Message("visit.key_required")))
    if visit.visited_at.tzinfo is None:
        problems.append(Problem(None, "visited_at", Message("visit.timezone")))
    if not visit.visitor.strip():
        problems.append(Problem(None, "visitor", Message("visit.visitor_required")))
    if problems:
        raise ValidationError(Message("visit.source.visit"), problems)
    book = store.visit_book()
    known = book.by_key(visit.key)
    if known is not None:
        return known, False
    found = store.read("households", codes=[visit.household_code])
    if not len(found):
        raise NotFoundError(Message("visit.no_household", code=repr(visit.household_code)))
    if visit.case_code and store.case_book().get(visit.case_code) is None:
        raise NotFoundError(Message("visit.no_case", code=repr(visit.case_code)))
    row = {
        "key": visit.key,
        "household_code": visit.household_code,
        "grid_code": _text(found["grid_code"].iloc[0]),
        "visitor": visit.visitor,
        "visited_at": visit.visited_at,
        "reached": visit.reached,
        "notes": visit.notes or None,
        "follow_up": visit.follow_up,
        "case_code": visit.case_code or None,
        "recorded_at": now or dt.datetime.now(dt.UTC),
    }
    return book.log(row)


def grid_households(store: Store, grid: str) -> gpd.GeoDataFrame:
    """The households of one grid (every field), by code."""
    return store.query("households", equals={"grid_code": grid}).frame


def due(
    store: Store, grid: str, on: dt.date, role: Role | str, *, for_editing: bool = False
) -> gpd.GeoDataFrame:
    """The due list of `grid` on `on` (see `gridmap.visits.due`), care categories as `role` may read them."""
    households = grid_households(store, grid)
    book = store.visit_book()
    codes = households["code"].astype(str).tolist()
    care = book.care(codes) if codes else book.care([])
    last = book.last_visits(day_end(on), grids=[grid])
    table = due_list(households, care, last, on, _roads_near(store, households))
    return gpd.GeoDataFrame(protect_care(table, role, for_editing=for_editing))


ROAD_MARGIN_DEG = 0.005
"""How far (about 500 m) beyond a grid's households its walk may lead along the roads."""


def _roads_near(store: Store, households: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The roads around the households (a grid's walk needs no city-wide network); None without any."""
    if not len(households) or households.geometry.isna().all():
        return None
    west, south, east, north = households.to_crs(4326).total_bounds
    m = ROAD_MARGIN_DEG
    roads = store.read("roads", bbox=(west - m, south - m, east + m, north + m))
    return roads if len(roads) else None


def set_care(
    store: Store, household: str, categories: list[str], by: str, now: dt.datetime | None = None
) -> list[str]:
    """Make these (validated) categories the household's care categories; returns their codes."""
    codes = [check_category(c) for c in categories if c.strip()]
    if not len(store.read("households", codes=[household])):
        raise NotFoundError(Message("visit.no_household", code=repr(household)))
    store.visit_book().set_care(household, codes, by, now or dt.datetime.now(dt.UTC))
    return codes


def stats(store: Store, since: dt.date, until: dt.date, grids: list[str] | None = None) -> pd.DataFrame:
    """Per grid and visitor: visits, reached, follow-ups and cases in the Beijing days [since, until]."""
    start = day_end(since - dt.timedelta(days=1))
    return store.visit_book().counts(start, day_end(until), grids)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def coverage_input(store: Store, households: pd.Series, on: dt.date | None = None) -> pd.DataFrame | None:
    """The visit coverage measure's input for these household codes on `on` (default: today in
    Beijing); None when the store keeps no visits or has none recorded (the measure is then left out)."""
    try:
        book = store.visit_book()
    except StoreError:
        return None
    day = on or dt.datetime.now(BEIJING).date()
    last = book.last_visits(day_end(day))
    if not len(last):
        return None
    return visit_status(households, book.care(), last, day)


def refreshed_status(
    store: Store, status: pd.DataFrame, households: list[str], on: dt.date | None = None
) -> pd.DataFrame:
    """`status` (a `coverage_input`) with the rows of `households` read again, after visits to them
    were logged or their care changed: only their care rows and visits are read, not the book's."""
    book = store.visit_book()
    day = on or dt.datetime.now(BEIJING).date()
    codes = pd.Series(households, dtype=object)
    fresh = visit_status(
        codes, book.care(households), book.last_visits(day_end(day), households=households), day
    )
    kept = status[~status["code"].astype(str).isin(households).to_numpy(dtype=bool)]
    return pd.concat([kept, fresh], ignore_index=True)


def seed_visits(store: Store, now: dt.datetime | None = None, seed: int = DEFAULT_SEED) -> int:
    """A year of visits up to `now` over the store's households, replacing any it held (the demo)."""
    households = store.read_columns("households", ["code", "grid_code"])
    visits, care = sample_visits(households, store.read("grids"), now or dt.datetime.now(dt.UTC), seed)
    return store.visit_book().replace(visits, care)
