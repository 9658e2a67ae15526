"""回访 and 评价: a third party follows closed cases up; substantive dissatisfaction reopens them."""

from __future__ import annotations

import pytest

from gridmap.cases.desk import CaseDesk
from gridmap.cases.lifecycle import Actor
from gridmap.cases.vocabulary import Action
from gridmap.errors import PermissionDeniedError, TransitionError, ValidationError
from gridmap.privacy import Role
from gridmap.stores.cases import CaseFilter
from tests.cases.conftest import ADMIN, CITY, EDITOR_C1, Clock, report

REVIEWER = Actor(Role.REVIEWER, "回访员")


def closed(desk: CaseDesk, **reporter: object) -> str:
    code = report(desk, **reporter)
    for action, actor in (
        (Action.ACCEPT, EDITOR_C1),
        (Action.DISPATCH, EDITOR_C1),
        (Action.HANDLE, CITY),
        (Action.CHECK, EDITOR_C1),
        (Action.CLOSE, EDITOR_C1),
    ):
        desk.move(actor, code, action)
    return code


def test_who_may_follow_up(desk: CaseDesk, clock: Clock) -> None:
    code = closed(desk, reporter_phone="13812341234")
    open_case = report(desk)
    assert desk.search(REVIEWER, CaseFilter())[1] == 1  # a reviewer sees closed cases only
    with pytest.raises(PermissionDeniedError):
        desk.get(REVIEWER, open_case)
    with pytest.raises(PermissionDeniedError, match="reviewer"):
        desk.move(EDITOR_C1, code, Action.REVIEW, reached=True, satisfaction="satisfied")
    handler_as_reviewer = Actor(Role.REVIEWER, "city")
    with pytest.raises(PermissionDeniedError, match="neither its handler nor its checker"):
        desk.move(handler_as_reviewer, code, Action.REVIEW, reached=True, satisfaction="satisfied")
    with pytest.raises(ValidationError, match="reached"):
        desk.move(REVIEWER, code, Action.REVIEW)
    with pytest.raises(ValidationError, match="reason"):
        desk.move(REVIEWER, code, Action.REVIEW, reached=True, satisfaction="dissatisfied")
    with pytest.raises(ValidationError, match="not reached gives no satisfaction"):
        desk.move(REVIEWER, code, Action.REVIEW, reached=False, satisfaction="satisfied")
    clock.advance(hours=1)
    case = desk.move(REVIEWER, code, Action.REVIEW, reached=True, satisfaction="basic", note="基本满意")
    assert (case["status"], case["satisfaction"], case["review_channel"]) == ("closed", "basic", "phone")
    assert case["reviewer"] == "回访员"
    with pytest.raises(TransitionError, match="followed up after it closed already"):
        desk.move(REVIEWER, code, Action.REVIEW, reached=True, satisfaction="satisfied")
    with pytest.raises(TransitionError, match="上报"):
        desk.move(ADMIN, open_case, Action.REVIEW, reached=True, satisfaction="satisfied")


def test_an_anonymous_reporter_is_followed_up_through_the_channel(desk: CaseDesk) -> None:
    code = closed(desk)
    with pytest.raises(ValidationError, match="anonymous"):
        desk.move(REVIEWER, code, Action.REVIEW, reached=True, satisfaction="satisfied", channel="phone")
    case = desk.move(REVIEWER, code, Action.REVIEW, reached=False)
    assert case["review_channel"] == "channel" and case["reached"] is False


def test_substantive_dissatisfaction_reopens_to_dispatch(desk: CaseDesk, clock: Clock) -> None:
    attitude, unsolved = closed(desk, reporter_phone="1"), closed(desk, reporter_phone="2")
    clock.advance(hours=1)
    kept = desk.move(
        REVIEWER, attitude, Action.REVIEW, reached=True, satisfaction="dissatisfied", reason="attitude"
    )
    assert kept["status"] == "closed" and kept["reopened"] == 0
    reopened = desk.move(
        REVIEWER, unsolved, Action.REVIEW, reached=True, satisfaction="dissatisfied", reason="unsolved"
    )
    assert reopened["status"] == "accepted" and reopened["reopened"] == 1
    assert reopened["closed_at"] is None and reopened["handler"] is None and reopened["due_at"] is None
    assert desk.move(EDITOR_C1, unsolved, Action.DISPATCH)["status"] == "dispatched"
    assert desk.history(ADMIN, unsolved)[-2]["action"] == "review"


def test_every_reporter_of_a_merged_case_is_followed_up(desk: CaseDesk, clock: Clock) -> None:
    """X (a phone) with two repeats merged into it: Y anonymous, Z with a phone. Each reporter is followed
    up once X closes, Y only through its reporting channel; satisfaction counts per reporter: X satisfied,
    Y basically satisfied, Z dissatisfied (attitude) → 2 of 3 reached."""
    x = report(desk, reporter_phone="13812341234")
    y, z = report(desk), report(desk, reporter_phone="13912345678")
    desk.merge(EDITOR_C1, y, x)
    desk.merge(EDITOR_C1, z, x)
    with pytest.raises(TransitionError, match="not closed yet"):
        desk.move(REVIEWER, y, Action.REVIEW, reached=True, satisfaction="satisfied", channel="channel")
    for action, actor in (
        (Action.ACCEPT, EDITOR_C1),
        (Action.DISPATCH, EDITOR_C1),
        (Action.HANDLE, CITY),
        (Action.CHECK, EDITOR_C1),
        (Action.CLOSE, EDITOR_C1),
    ):
        desk.move(actor, x, action)
    waiting, total = desk.search(REVIEWER, CaseFilter(awaiting_review=True))
    assert total == 3 and {c["code"] for c in waiting} == {x, y, z}
    with pytest.raises(PermissionDeniedError, match="neither its handler nor its checker"):
        desk.move(Actor(Role.REVIEWER, "city"), z, Action.REVIEW, reached=True, satisfaction="satisfied")
    with pytest.raises(ValidationError, match="reporting channel"):
        desk.move(REVIEWER, y, Action.REVIEW, reached=True, satisfaction="basic", channel="phone")
    desk.move(REVIEWER, x, Action.REVIEW, reached=True, satisfaction="satisfied")
    after = desk.move(REVIEWER, y, Action.REVIEW, reached=True, satisfaction="basic")
    assert (after["status"], after["review_channel"], after["reviewer"]) == ("merged", "channel", "回访员")
    z_after = desk.move(
        REVIEWER, z, Action.REVIEW, reached=True, satisfaction="dissatisfied", reason="attitude"
    )
    assert (z_after["status"], z_after["review_channel"], z_after["dissatisfaction_reason"]) == (
        "merged",
        "phone",
        "attitude",
    )
    with pytest.raises(TransitionError, match="followed up already"):
        desk.move(REVIEWER, y, Action.REVIEW, reached=False)
    assert desk.search(REVIEWER, CaseFilter(awaiting_review=True))[1] == 0
    row = desk.statistics("grid").set_index("key").loc["G1"]
    assert (row["received"], row["merged"], row["followed_up"], row["reached"], row["satisfied"]) == (
        3,
        2,
        3,
        3,
        2,
    )
    assert row["satisfaction_rate"] == pytest.approx(0.6667)
    assert row["awaiting_review"] == 0
    assert [e["action"] for e in desk.history(ADMIN, y)] == ["report", "merge", "review"]


def test_a_merged_reporters_substantive_dissatisfaction_reopens_the_case(desk: CaseDesk) -> None:
    x = report(desk, reporter_phone="13812341234")
    y = report(desk, reporter_phone="13912345678")
    desk.merge(EDITOR_C1, y, x)
    for action, actor in (
        (Action.ACCEPT, EDITOR_C1),
        (Action.DISPATCH, EDITOR_C1),
        (Action.HANDLE, CITY),
        (Action.CHECK, EDITOR_C1),
        (Action.CLOSE, EDITOR_C1),
    ):
        desk.move(actor, x, action)
    said = desk.move(REVIEWER, y, Action.REVIEW, reached=True, satisfaction="dissatisfied", reason="unsolved")
    assert (said["status"], said["dissatisfaction_reason"]) == ("merged", "unsolved")
    case = desk.get(ADMIN, x)
    assert (case["status"], case["reopened"], case["closed_at"]) == ("accepted", 1, None)
    last = desk.history(ADMIN, x)[-1]
    assert (last["action"], last["to_status"]) == ("review", "accepted") and y in last["note"]
    row = desk.statistics("grid").set_index("key").loc["G1"]
    assert (row["reached"], row["satisfied"], row["resolved"], row["reopened"]) == (1, 0, 0, 1)
