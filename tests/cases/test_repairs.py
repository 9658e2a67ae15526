"""Repair tickets: a speaker marked broken by any route (a direct SQL edit of a GeoPackage) gets exactly
one repair case with a 24-hour calendar deadline and the households only it covered; repairing closes it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.cases.lifecycle import Actor
from gridmap.cases.repairs import REPAIR_CATEGORY, REPAIRER, SYSTEM, orphaned_households, sync_repairs
from gridmap.cases.routing import Place, route_points
from gridmap.cases.statistics import case_statistics
from gridmap.cases.vocabulary import Action, Status
from gridmap.frames import WGS84, conform
from gridmap.lookup import LookupService
from gridmap.sample.repairs import tickets_one_at_a_time
from gridmap.serving import Builder, Documents, LiveAnalysis, Shelf
from gridmap.stores import Store
from gridmap.stores.cases import CaseFilter
from gridmap.stores.geopackage import _envelope_part, _is_empty
from tests.api.conftest import district
from tests.cases.conftest import ADDRESS_G3, START, Clock, empty_book


def _render(_analysis: Any, _streets: Any = None) -> Documents:
    return Documents({})


def direct_edit(store: Store, store_url: str, status: str) -> None:
    """Mark K1 `status` behind gridmap's back: in a GeoPackage as QGIS (GDAL) writes it, an UPDATE that
    stamps the table's last change; in PostGIS through the store (its triggers that notice a bare psql
    UPDATE come with the store's own change log)."""
    if store_url.startswith("postgresql"):
        speaker = store.read("speakers", codes=["K1"]).assign(status=status)
        store.upsert("speakers", speaker)
        return
    sql = f"UPDATE speakers SET status = '{status}' WHERE code = 'K1'"
    with closing(sqlite3.connect(store_url)) as conn, conn:
        # The functions GDAL (QGIS) gives SQLite, which the GeoPackage's R-tree triggers call.
        conn.create_function("ST_IsEmpty", 1, _is_empty)
        for name, position in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
            conn.create_function(name, 1, _envelope_part(position))
        conn.execute(sql)
        # GDAL stamps the table's last change, as the GeoPackage standard asks of every writer.
        conn.execute(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE table_name = 'speakers'"
        )


def repairs(store: Store) -> dict[str, dict[str, Any]]:
    rows, _ = store.case_book().query(CaseFilter(category=REPAIR_CATEGORY).where(dt.datetime.now(dt.UTC)))
    return {f"{r['speaker_code']}:{r['status']}": r for r in rows}


def test_a_broken_speaker_opens_exactly_one_repair_case(store: Store, store_url: str, tmp_path: Path) -> None:
    store.replace_many(district())
    empty_book(store)
    builder = Builder(store, Shelf(tmp_path), _render)
    builder.step()
    assert set(repairs(store)) == {"K2:dispatched"}  # K2 was broken in the district already
    assert repairs(store)["K2:dispatched"]["uncovered_households"] == 0

    direct_edit(store, store_url, "broken")
    builder.step()
    builder.sync_repairs()  # once more: still one case per speaker
    opened = repairs(store)
    assert set(opened) == {"K1:dispatched", "K2:dispatched"}
    k1 = opened["K1:dispatched"]
    assert k1["uncovered_households"] == 1 and k1["grid_code"] == "G1" and k1["department"] == "jdb"
    assert k1["due_at"] - k1["dispatched_at"] == dt.timedelta(hours=24)
    assert "仅由其覆盖的 1 户" in k1["description"]

    direct_edit(store, store_url, "working")
    builder.step()
    after = repairs(store)
    assert set(after) == {"K1:closed", "K2:dispatched"}
    assert after["K1:closed"]["handler"] != after["K1:closed"]["checker"]


@pytest.mark.parametrize("status", ["working"])
def test_no_ticket_while_every_speaker_works(store: Store, tmp_path: Path, status: str) -> None:
    layers = district()
    layers["speakers"] = layers["speakers"].assign(status=status)
    store.replace_many(layers)
    empty_book(store)
    Builder(store, Shelf(tmp_path), _render).step()
    assert repairs(store) == {}


def test_household_hours_without_coverage_per_grid(desk: CaseDesk, clock: Clock) -> None:
    """K1 (G1) breaks at 09:00 Beijing, leaving H1 alone without a speaker, and is repaired at 19:00:
    1 household × 10 h. A ticket of G3 carrying 3 households opens at 19:00 and is still open at the
    21:00 the statistics are read: 3 × 2 h. K2 (G3) is broken but orphans nobody: 0. Per grid: G1 10,
    G3 6; per community C1 10, C2 6; the street 16; the repair department 10 (the hand-made ticket was
    never dispatched)."""
    speakers = desk.store.read("speakers").assign(status="broken")
    households = desk.store.read("households")
    opened = sync_repairs(desk, speakers, households)
    assert set(opened.opened) == {"K1", "K2"}
    clock.advance(hours=10)
    repaired = sync_repairs(desk, speakers.assign(status=["working", "broken"]), households)
    assert set(repaired.closed) == {"K1"}
    extra = CaseReport(
        REPAIR_CATEGORY,
        "广播故障",
        address=ADDRESS_G3,
        source="system",
        speaker_code="K9",
        uncovered_households=3,
    )
    desk.report(SYSTEM, extra)
    clock.advance(hours=2)
    column = "household_hours_uncovered"
    assert desk.statistics("grid").set_index("key")[column].to_dict() == {"G1": 10.0, "G3": 6.0}
    assert desk.statistics("community").set_index("key")[column].to_dict() == {"C1": 10.0, "C2": 6.0}
    assert desk.statistics("street")[column].tolist() == [16.0]
    departments = case_statistics(desk.book, "department", catalogue=desk.catalogue, now=desk.clock())
    assert departments[column].sum() == 10.0
    sheets = dict(desk.workbook_sheets())
    assert sheets["案件统计-网格"]["无广播覆盖户时(户·小时)"].tolist() == [10.0, 6.0]


def test_orphaned_households_count_only_the_homes_no_working_speaker_reaches() -> None:
    """On a metre grid (UTM 50N): B1 (100 m) covers the homes at 0, 50 and 99 m east; a working W
    covers the one at 50 m; B2 (10 m, far off) covers nothing; B3 (30 m, 1 km east) has two homes
    within its range and one just past it; B4, without a point, reaches nobody."""
    crs = "EPSG:32650"
    speakers = gpd.GeoDataFrame(
        {
            "code": ["B1", "W", "B2", "B3"],
            "status": ["broken", "working", "broken", "broken"],
            "radius_m": [100.0, 20.0, 10.0, 30.0],
        },
        geometry=[
            Point(500_000, 4_400_000),
            Point(500_050, 4_400_000),
            Point(510_000, 4_400_000),
            Point(501_000, 4_400_000),
        ],
        crs=crs,
    )
    homes = [(0, 0), (50, 0), (99, 0), (101, 0), (1000, 29), (1000, -29), (1031, 0)]
    households = gpd.GeoDataFrame(
        {"code": [f"H{i}" for i in range(len(homes))]},
        geometry=[Point(500_000 + x, 4_400_000 + y) for x, y in homes],
        crs=crs,
    )
    assert orphaned_households(speakers, households) == {"B1": 2, "B2": 0, "B3": 2}
    unplaced = pd.concat([speakers, speakers.head(1).assign(code="B4", geometry=[None])], ignore_index=True)
    assert orphaned_households(unplaced, households) == {"B1": 2, "B2": 0, "B3": 2, "B4": 0}  # no point
    assert orphaned_households(speakers, households, among=["B3", "W"]) == {"B3": 2}  # W works


def _closed_one_at_a_time(desk: CaseDesk, speakers: set[str]) -> None:
    """The tickets of repaired `speakers` closed as they were before: a transaction per step."""
    steps = {
        Status.DISPATCHED: [Action.HANDLE, Action.CHECK, Action.CLOSE],
        Status.REPORTED: [Action.VOID],
    }
    rows, _ = desk.book.query(CaseFilter(category=REPAIR_CATEGORY).where(desk.clock()))
    for case in rows:
        if case["speaker_code"] in speakers:
            for action in steps[Status(case["status"])]:
                actor: Actor = REPAIRER if action is Action.HANDLE else SYSTEM
                desk.move(actor, case["code"], action, note="广播已恢复 speaker works again")


def _book_state(desk: CaseDesk) -> dict[str, Any]:
    """The book's cases, their history and ledger, keyed by speaker (case numbers are drawn at random)."""
    rows, _ = desk.book.query([])
    speaker = {row["code"]: row["speaker_code"] for row in rows}
    return {
        "cases": {
            row["speaker_code"]: {
                **row,
                "code": None,
                "duplicate_proposal": speaker.get(row["duplicate_proposal"]),
            }
            for row in rows
        },
        "events": {
            speaker[row["code"]]: [{**e, "case_code": None} for e in desk.book.events(row["code"])]
            for row in rows
        },
        "requests": {
            speaker[r["case_code"]]: {**r, "id": None, "case_code": None} for r in desk.book.requests()
        },
    }


def test_tickets_written_in_bulk_equal_those_opened_one_at_a_time(desk: CaseDesk, clock: Clock) -> None:
    """Four broken speakers: K1 in G1, K2 in G3, K3 29 m from K1 (proposed as K1's duplicate), K4
    outside every grid (unplaced, so only reported); K5 works. Opened, then K1, K3 and K4 repaired
    three hours later: the bulk sync writes the same cases, history and ledger as the old path."""
    households = desk.store.read("households")
    speakers = gpd.GeoDataFrame(
        {
            "code": ["K1", "K2", "K3", "K4", "K5"],
            "name": ["1号喇叭", "2号喇叭", None, "4号喇叭", "5号喇叭"],
            "status": ["broken", "broken", "broken", "broken", "working"],
        },
        geometry=[
            Point(114.3045, 30.505),
            Point(114.315, 30.515),
            Point(114.3048, 30.505),
            Point(114.40, 30.60),
            Point(114.316, 30.516),
        ],
        crs="EPSG:4326",
    )
    repaired = speakers.assign(status=["working", "broken", "working", "working", "working"])

    tickets_one_at_a_time(desk, speakers, households)
    clock.advance(hours=3)
    _closed_one_at_a_time(desk, {"K1", "K3", "K4"})
    expected = _book_state(desk)

    empty_book(desk.store)
    clock.now = START
    opened = sync_repairs(desk, speakers, households)
    assert set(opened.opened) == {"K1", "K2", "K3", "K4"}
    clock.advance(hours=3)
    closed = sync_repairs(desk, repaired, households)
    assert set(closed.closed) == {"K1", "K3", "K4"} and not closed.opened
    found = _book_state(desk)

    assert found == expected
    cases = found["cases"]
    assert {k: c["status"] for k, c in cases.items()} == {
        "K1": "closed",
        "K2": "dispatched",
        "K3": "closed",
        "K4": "void",
    }
    assert cases["K3"]["duplicate_proposal"] == "K1" and cases["K1"]["duplicate_proposal"] is None
    assert cases["K4"]["grid_code"] is None and cases["K2"]["grid_code"] == "G3"
    assert [e["action"] for e in found["events"]["K1"]] == [
        "report",
        "accept",
        "dispatch",
        "handle",
        "check",
        "close",
    ]
    assert [(k, r["kind"], r["decision"]) for k, r in found["requests"].items()] == [
        ("K4", "void", "approved")
    ]


PLACES = {
    "in B1": ((114.3045, 30.505), "G1", "B1"),  # on B1's edge
    "in G2": ((114.3055, 30.5155), "G2", None),
    "in B5, in G1": ((114.3065, 30.5097), "G2", "B5"),  # B5 lies mostly in G2: its grid wins
    "in B6 and B7": ((114.3087, 30.5157), "G2", "B6"),  # overlapping buildings: the smaller code
    "G1|G2 edge": ((114.3075, 30.51), "G1", None),  # on a shared edge: the smaller grid code
    "in B8, no grid": ((114.3305, 30.5005), None, None),  # a building outside every grid
    "no grid": ((114.40, 30.60), None, None),
    "no point": ((np.nan, np.nan), None, None),
}
"""Points of the district (tests/api/conftest.py) with buildings B5-B8 added, and where they lie."""


def _placed_district() -> dict[str, gpd.GeoDataFrame]:
    """The district with buildings across grids, overlapping and outside every grid, and a broken
    speaker at each of `PLACES` (but "in G2", which works)."""
    layers = district()
    more = gpd.GeoDataFrame(
        {"code": ["B5", "B6", "B7", "B8"], "address": [None, "幸福路6号", "幸福路7号", None]},
        geometry=[
            shapely.box(114.3060, 30.5095, 114.3070, 30.5130),
            shapely.box(114.3080, 30.5150, 114.3090, 30.5160),
            shapely.box(114.3085, 30.5155, 114.3095, 30.5165),
            shapely.box(114.3300, 30.5000, 114.3310, 30.5010),
        ],
        crs=WGS84,
    )
    layers["buildings"] = pd.concat([layers["buildings"], conform("buildings", more)], ignore_index=True)
    xy = [point for point, _, _ in PLACES.values()]
    speakers = gpd.GeoDataFrame(
        {
            "code": [f"K{i}" for i in range(1, len(PLACES) + 1)],
            "name": [None if i % 3 == 0 else f"{i}号喇叭" for i in range(1, len(PLACES) + 1)],
            "status": ["working" if name == "in G2" else "broken" for name in PLACES],
        },
        geometry=[None if np.isnan(x) else Point(x, y) for x, y in xy],
        crs=WGS84,
    )
    layers["speakers"] = conform("speakers", speakers)
    return layers


def test_the_builder_places_points_as_the_lookup_does(store: Store) -> None:
    """The places the builder gives points from the layers it holds are those of a lookup snapshot:
    a building's grid over the grid around its point, the smaller code on a shared edge or among
    overlapping buildings, and none outside every grid or without a point."""
    store.replace_many(_placed_district())
    live = LiveAnalysis(store)
    live.refresh()
    lon, lat = (np.array([point[i] for point, _, _ in PLACES.values()]) for i in (0, 1))
    held = live.placing()(lon, lat)
    assert held == route_points(LookupService(store), store, lon, lat)
    assert [(p.grid_code, p.building_code) for p in held] == [(g, b) for _, g, b in PLACES.values()]
    assert held[0] == Place("G1", "C1", "S1", "B1", 114.3045, 30.505, placed_by="point")
    assert (held[5].lon, held[5].why) == (114.3305, "the point lies in no grid")
    assert (held[7].lon, held[7].why) == (None, "neither an address nor a point was given")


def test_the_builders_tickets_equal_those_placed_by_a_lookup(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    """The tickets the builder opens, placed from the layers it holds, are those a desk placing them
    with its lookup opens: the same grids, communities, streets, buildings and unplaced ones."""
    store.replace_many(_placed_district())
    empty_book(store)
    builder = Builder(store, Shelf(tmp_path), _render)
    builder.desk = CaseDesk(store, LookupService(store), clock=clock)
    builder.step()
    found = _book_state(builder.desk)

    empty_book(store)
    desk = CaseDesk(store, LookupService(store), clock=clock)
    sync_repairs(desk, store.read("speakers"), store.read("households"))
    assert found == _book_state(desk)
    cases = found["cases"]
    assert {code: (c["grid_code"], c["building_code"], c["status"]) for code, c in cases.items()} == {
        "K1": ("G1", "B1", "dispatched"),
        "K3": ("G2", "B5", "dispatched"),
        "K4": ("G2", "B6", "dispatched"),
        "K5": ("G1", None, "dispatched"),
        "K6": (None, None, "reported"),
        "K7": (None, None, "reported"),
        "K8": (None, None, "reported"),
    }
    assert (cases["K3"]["community_code"], cases["K3"]["street_code"]) == ("C1", "S1")
