"""并单: a report repeating a nearby case of its category (open, or closed within 7 days) is proposed as
its duplicate at intake; an editor confirms and it is merged. On both stores."""

from __future__ import annotations

import datetime as dt

import pytest

from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.cases.duplicates import DuplicateRule, distance_m
from gridmap.cases.vocabulary import Action
from gridmap.errors import PermissionDeniedError, TransitionError, ValidationError
from gridmap.stores.cases import CaseFilter
from tests.cases.conftest import ADMIN, CITY, EDITOR_C1, EDITOR_C2, RESIDENT, Clock

# G1 and G2 share the edge lat 30.51: these two points lie 33 m apart on either side of it.
SOUTH_OF_EDGE = (114.305, 30.5098)
NORTH_OF_EDGE = (114.305, 30.5101)
METRE_LAT = 1 / 111_195  # degrees of latitude in a metre


def at(desk: CaseDesk, point: tuple[float, float], category: str = "0102") -> dict[str, object]:
    return desk.report(RESIDENT, CaseReport(category, lon=point[0], lat=point[1]))


def north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0], point[1] + metres * METRE_LAT


def close(desk: CaseDesk, code: str) -> None:
    for action, actor in (
        (Action.ACCEPT, EDITOR_C1),
        (Action.DISPATCH, EDITOR_C1),
        (Action.HANDLE, CITY),
        (Action.CHECK, EDITOR_C1),
        (Action.CLOSE, EDITOR_C1),
    ):
        desk.move(actor, code, action)


def test_same_category_within_50_m_is_proposed(desk: CaseDesk) -> None:
    first = at(desk, SOUTH_OF_EDGE)
    far = at(desk, north(SOUTH_OF_EDGE, -60))
    assert far["duplicate_proposal"] is None and far["duplicates"] == []
    near = at(desk, north(SOUTH_OF_EDGE, -20))  # 20 m from the first, 40 m from the far one
    assert near["duplicate_proposal"] == first["code"]
    assert near["duplicates"] == [
        {"code": first["code"], "status": "reported", "distance_m": 20.0},
        {"code": far["code"], "status": "reported", "distance_m": 40.0},
    ]


def test_a_different_category_is_not_a_duplicate(desk: CaseDesk) -> None:
    at(desk, SOUTH_OF_EDGE, "0102")
    other = at(desk, SOUTH_OF_EDGE, "0404")
    assert other["duplicate_proposal"] is None


def test_across_a_grid_boundary(desk: CaseDesk) -> None:
    south = at(desk, SOUTH_OF_EDGE)
    northern = at(desk, NORTH_OF_EDGE)
    assert (south["grid_code"], northern["grid_code"]) == ("G1", "G2")
    assert northern["duplicate_proposal"] == south["code"]
    assert distance_m(*SOUTH_OF_EDGE, *NORTH_OF_EDGE) == pytest.approx(33.4, abs=0.1)


@pytest.mark.parametrize(("days", "proposed"), [(6, True), (8, False)])
def test_a_case_closed_6_days_ago_is_repeated_one_closed_8_days_ago_is_not(
    desk: CaseDesk, clock: Clock, days: int, proposed: bool
) -> None:
    old = at(desk, SOUTH_OF_EDGE)
    close(desk, str(old["code"]))
    clock.advance(days=days)
    again = at(desk, SOUTH_OF_EDGE)
    assert (again["duplicate_proposal"] == old["code"]) is proposed


def test_the_radius_is_configurable(desk: CaseDesk) -> None:
    first = at(desk, SOUTH_OF_EDGE)
    desk.duplicates = DuplicateRule(radius_m=100)
    assert at(desk, north(SOUTH_OF_EDGE, -80))["duplicate_proposal"] == first["code"]


def test_an_editor_confirms_the_merge(desk: CaseDesk) -> None:
    first = str(at(desk, SOUTH_OF_EDGE)["code"])
    second = str(at(desk, NORTH_OF_EDGE)["code"])
    other = str(at(desk, SOUTH_OF_EDGE, "0404")["code"])
    with pytest.raises(PermissionDeniedError):
        desk.merge(EDITOR_C2, second, first)
    with pytest.raises(ValidationError, match="another category"):
        desk.merge(EDITOR_C1, other, first)
    merged = desk.merge(EDITOR_C1, second, first)
    assert (merged["status"], merged["duplicate_of"], merged["duplicate_proposal"]) == ("merged", first, None)
    assert [c["code"] for c in desk.merged_reports(ADMIN, first)] == [second]
    with pytest.raises(TransitionError, match="已并单"):
        desk.move(EDITOR_C1, second, Action.ACCEPT)
    with pytest.raises(ValidationError, match="cannot take duplicates"):
        desk.merge(EDITOR_C1, first, second)
    assert desk.search(ADMIN, CaseFilter(statuses=["merged"]))[1] == 1
    row = desk.statistics("community").set_index("key").loc["C1"]
    assert row["merged"] == 1 and row["received"] == 3


def test_the_window_counts_from_the_closing(clock: Clock) -> None:
    rule = DuplicateRule()
    assert rule.closed_since(clock.now) == clock.now - dt.timedelta(days=7)
