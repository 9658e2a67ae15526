"""A case desk over the API tests' hand-made district, on both stores, with a clock the test moves.

The district (tests/api/conftest.py): community C1 holds grids G1 (south) and
G2 (north), community C2 grid G3; building B1 (幸福路88号3栋) lies in G1, B3
(和平大道12号) in G3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest

from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.cases.lifecycle import Actor
from gridmap.lookup import LookupService
from gridmap.privacy import Role
from gridmap.stores import Store
from gridmap.stores.cases import CASE_COLUMNS, EVENT_COLUMNS
from tests.api.conftest import load_district
from tests.stored import prefilled

START = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # Tuesday 09:00 in Beijing
ADDRESS_G1 = "武汉市武昌区幸福路88号3栋"
ADDRESS_G3 = "武汉市武昌区和平大道12号"

ADMIN = Actor(Role.ADMIN, "admin")
EDITOR_C1 = Actor(Role.EDITOR, "editor-c1", communities=frozenset({"C1"}))
EDITOR_C2 = Actor(Role.EDITOR, "editor-c2", communities=frozenset({"C2"}))
CITY = Actor(Role.DEPARTMENT, "city", departments=frozenset({"cgj"}))
WATER = Actor(Role.DEPARTMENT, "water", departments=frozenset({"swj"}))
RESIDENT = Actor(Role.ANONYMOUS)


@dataclass
class Clock:
    """The desk's clock; tests advance it to make time pass."""

    now: dt.datetime = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def empty_book(store: Store) -> None:
    """Cases left by an earlier test in the session's PostGIS database are removed."""
    store.case_book().replace(
        pd.DataFrame(columns=list(CASE_COLUMNS)), pd.DataFrame(columns=list(EVENT_COLUMNS))
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(store: Store, clock: Clock) -> Iterator[CaseDesk]:
    """A desk over the district in each store kind, no cases yet."""
    prefilled(store.url, "api_district", load_district)
    yield CaseDesk(store, LookupService(store), clock=clock)


def report(desk: CaseDesk, address: str = ADDRESS_G1, category: str = "0102", **extra: object) -> str:
    """Report a case (as a resident) and return its number."""
    case = desk.report(RESIDENT, CaseReport(category, "问题描述", address=address, **extra))  # type: ignore[arg-type]
    return str(case["code"])
