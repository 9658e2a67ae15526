"""Role confinement: departments see their own cases, editors act in their communities, masking."""

from __future__ import annotations

import pytest

from gridmap.cases.desk import CaseDesk
from gridmap.cases.records import cases_frame
from gridmap.cases.vocabulary import Action
from gridmap.errors import PermissionDeniedError
from gridmap.privacy import Role
from gridmap.stores.cases import CaseFilter
from tests.cases.conftest import (
    ADDRESS_G1,
    ADDRESS_G3,
    ADMIN,
    CITY,
    EDITOR_C1,
    EDITOR_C2,
    RESIDENT,
    WATER,
    report,
)


def dispatched(desk: CaseDesk, address: str, category: str) -> str:
    code = report(desk, address, category)
    editor = EDITOR_C1 if address == ADDRESS_G1 else EDITOR_C2
    desk.move(editor, code, Action.ACCEPT)
    desk.move(editor, code, Action.DISPATCH)
    return code


def test_a_department_sees_and_handles_only_its_own_cases(desk: CaseDesk) -> None:
    rubbish = dispatched(desk, ADDRESS_G1, "0102")  # → cgj
    flood = dispatched(desk, ADDRESS_G3, "0505")  # → swj
    assert [c["code"] for c in desk.search(CITY, CaseFilter())[0]] == [rubbish]
    assert [c["code"] for c in desk.search(WATER, CaseFilter())[0]] == [flood]
    with pytest.raises(PermissionDeniedError, match="not dispatched to your department"):
        desk.get(CITY, flood)
    with pytest.raises(PermissionDeniedError):
        desk.move(CITY, flood, Action.HANDLE)
    assert desk.get(ADMIN, flood)["status"] == "dispatched"
    assert desk.move(WATER, flood, Action.HANDLE)["handler"] == "water"


def test_an_editor_acts_only_in_its_communities(desk: CaseDesk) -> None:
    mine, theirs = report(desk, ADDRESS_G1), report(desk, ADDRESS_G3)
    assert [c["code"] for c in desk.search(EDITOR_C1, CaseFilter())[0]] == [mine]
    desk.move(ADMIN, theirs, Action.ACCEPT)
    with pytest.raises(PermissionDeniedError, match="is in community C2; your token covers C1"):
        desk.move(EDITOR_C1, theirs, Action.DISPATCH)
    assert desk.get(ADMIN, theirs)["status"] == "accepted"
    # A department cannot do an editor's step, even on its own case.
    code = dispatched(desk, ADDRESS_G1, "0102")
    desk.move(CITY, code, Action.HANDLE)
    with pytest.raises(PermissionDeniedError, match="an editor of community C1"):
        desk.move(CITY, code, Action.CHECK)


def test_callers_without_a_duty_see_no_case(desk: CaseDesk) -> None:
    report(desk)
    assert desk.search(RESIDENT, CaseFilter()) == ([], 0)
    assert len(desk.search(ADMIN, CaseFilter())[0]) == 1


def test_reporter_details_are_masked_below_admin(desk: CaseDesk) -> None:
    code = report(desk, reporter_name="张三丰", reporter_phone="13812341234")
    rows = [desk.get(ADMIN, code)]
    now = desk.clock()
    zone = desk.calendar.zone
    admin = cases_frame(rows, now=now, zone=zone, role=Role.ADMIN).iloc[0]
    assert (admin["reporter_name"], admin["reporter_phone"]) == ("张三丰", "13812341234")
    for role in (Role.EDITOR, Role.DEPARTMENT, Role.VIEWER):
        masked = cases_frame(rows, now=now, zone=zone, role=role).iloc[0]
        assert (masked["reporter_name"], masked["reporter_phone"]) == ("张**", "138****1234")
    anonymous = cases_frame(rows, now=now, zone=zone, role=Role.ANONYMOUS)
    assert "reporter_phone" not in anonymous.columns and "reporter_name" not in anonymous.columns
