"""The seeded year of cases: deterministic, lawful, seasonal, with hot spots and overdue cases."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.cases.calendar import WorkingCalendar
from gridmap.cases.lifecycle import TRANSITIONS
from gridmap.cases.sample import HOT_SHARE, sample_cases
from gridmap.cases.vocabulary import REQUESTED, Action, Status
from gridmap.catalogue import LAYER_NAMES
from gridmap.stores import open_store

NOW = dt.datetime(2026, 12, 2, 2, tzinfo=dt.UTC)
COUNT = 3000


@pytest.fixture(scope="module")
def frames(sample_store: str) -> dict[str, gpd.GeoDataFrame]:
    with open_store(sample_store) as store:
        return {name: store.read(name) for name in LAYER_NAMES}


@pytest.fixture(scope="module")
def seeded(frames: dict[str, gpd.GeoDataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return sample_cases(frames, now=NOW, count=COUNT)


def test_the_same_seed_gives_the_same_year(
    frames: dict[str, gpd.GeoDataFrame], seeded: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]
) -> None:
    again = sample_cases(frames, now=NOW, count=COUNT)
    pd.testing.assert_frame_equal(seeded[0], again[0])
    assert not sample_cases(frames, now=NOW, count=COUNT, seed=1)[0].equals(seeded[0])


def test_every_case_follows_the_lifecycle(seeded: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    cases, events, _ledger = seeded
    assert len(cases) == COUNT and cases["code"].is_unique
    legal = {(a.value, s.value, t.value) for a, moves in TRANSITIONS.items() for s, t in moves.items()}
    # Requests leave the status as it is until approved; a follow-up may reopen; a merge ends a report.
    legal |= {(a.value, s.value, s.value) for a in REQUESTED for s in TRANSITIONS[a]}
    legal |= {("approve", s.value, t.value) for a in REQUESTED for s, t in TRANSITIONS[a].items()}
    legal |= {("review", "closed", "accepted"), ("merge", "reported", "merged")}
    ordered = events.sort_values(["case_code", "at"], kind="stable")
    last: dict[str, str] = {}
    for event in ordered[["case_code", "action", "from_status", "to_status"]].to_dict("records"):
        code = str(event["case_code"])
        if event["action"] == "report":
            assert code not in last
        else:
            assert (event["action"], event["from_status"], event["to_status"]) in legal
            assert last[code] == event["from_status"]
        last[code] = str(event["to_status"])
    assert cases.set_index("code")["status"].to_dict() == last
    assert (events["at"] < NOW).all() and (cases["reported_at"] >= NOW - dt.timedelta(days=366)).all()
    closed = cases[cases["status"] == Status.CLOSED.value]
    assert closed["on_time"].notna().all() and (closed["closed_at"] > closed["dispatched_at"]).all()


def test_seasons_hot_spots_and_overdue(seeded: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    cases, events, _ledger = seeded
    zone = WorkingCalendar().zone
    month = cases["reported_at"].map(lambda t: t.astimezone(zone).month)
    flooded, snowy = cases["category"] == "0505", cases["category"] == "0506"
    assert month[flooded].isin([5, 6, 7, 8, 9]).all() and flooded.sum() > 10
    assert month[snowy].isin([12, 1, 2]).all() and snowy.sum() > 5
    summer, winter = month.isin([6, 7, 8]), month.isin([12, 1, 2])
    trading = cases["category"].str.startswith("04")
    assert trading[summer].mean() > trading[winter].mean()  # street trading peaks in summer
    top = cases["building_code"].value_counts().head(3).sum()
    assert top / len(cases) > HOT_SHARE * 0.8
    overdue = (cases["status"] == "dispatched") & (cases["due_at"] < NOW)
    assert overdue.sum() >= 3
    assert 0.7 < cases["on_time"].dropna().astype(bool).mean() < 0.95
    assert (events["action"] == Action.VOID.value).any() and (events["action"] == Action.RETURN.value).any()


def test_the_year_has_follow_ups_extensions_duplicates_and_escalations(
    seeded: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    """Every figure of the console and the three rates is non-trivial in the demo's year."""
    cases, events, ledger = seeded
    actions = events["action"].value_counts()
    for action in ("review", "extend", "approve", "raise", "merge", "return", "void"):
        assert actions.get(action, 0) >= 3, action
    assert set(ledger["kind"]) == {"void", "return", "extend"} and (ledger["decision"] == "approved").all()
    merged = cases[cases["status"] == "merged"]
    assert merged["duplicate_of"].isin(cases["code"]).all() and len(merged) >= 3
    asked = merged[merged["reviewed_at"].notna()]  # every reporter of a merged case is followed up
    closed = cases.set_index("code").loc[asked["duplicate_of"]]
    assert len(asked) >= 1 and (asked["reviewed_at"].to_numpy() > closed["closed_at"].to_numpy()).all()
    reviewed = cases[cases["reviewed_at"].notna()]
    assert 0.5 < reviewed["reached"].astype(bool).mean() < 1
    assert (cases["reopened"] > 0).sum() >= 2 and (cases["extensions"] > 0).sum() >= 3
    assert (cases["level"] != "grid").any() and cases["ticket_no"].notna().any()
    assert 0.5 < cases["response_on_time"].dropna().astype(bool).mean() < 1
