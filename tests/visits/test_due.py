"""The visit due list: known answers across care categories, frequencies and dates, on both stores."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely

from gridmap.errors import NotFoundError, ValidationError
from gridmap.localtime import BEIJING
from gridmap.privacy import Role, protect_care
from gridmap.stores import Store, open_store
from gridmap.stores.visits import CARE_TABLE, VISITS_TABLE
from gridmap.visits.rules import FREQUENCY_DAYS, check_category, frequency_days
from gridmap.visits.service import Visit, coverage_input, due, log_visit, refreshed_status, set_care, stats

ORIGIN = (560000.0, 3375000.0)  # metres, UTM 50N (near Wuhan)


def _at(x: float, y: float) -> shapely.Point:
    return shapely.Point(ORIGIN[0] + x, ORIGIN[1] + y)


def households() -> gpd.GeoDataFrame:
    """A U-shaped street: A and B face each other across its open end (50 m apart, 435 m on foot)."""
    rows = [
        ("A", "幸福路1号", "G1", _at(0, 10)),
        ("B", "幸福路2号", "G1", _at(50, 5)),
        ("C", "幸福路3号", "G1", _at(0, 150)),
        ("D", "幸福路10号", "G1", _at(50, 120)),
        ("E", "幸福路11号", "G1", _at(25, 200)),
        ("Z", "和平路1号", "G2", _at(500, 500)),
    ]
    frame = gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "address": [r[1] for r in rows],
            "grid_code": [r[2] for r in rows],
            "size": 1,
        },
        geometry=[r[3] for r in rows],
        crs=32650,
    )
    return frame.to_crs(4326)


def roads() -> gpd.GeoDataFrame:
    line = shapely.LineString([(0, 0), (0, 200), (50, 200), (50, 0)])
    frame = gpd.GeoDataFrame(
        {"code": ["R1"], "name": ["幸福路"]},
        geometry=[shapely.affinity.translate(line, *ORIGIN)],
        crs=32650,
    )
    return frame.to_crs(4326)


def beijing(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), BEIJING)


def _visit(store: Store, household: str, when: dt.datetime, key: str | None = None) -> bool:
    visit = Visit(key or f"{household}-{when.isoformat()}", household, "王网格", when)
    return log_visit(store, visit)[1]


@pytest.fixture
def street(store: Store) -> Store:
    """A: 空巢 (30 days), B: 社区矫正 (30), C: ordinary (183), D: never visited, E: 低保+流动 (30)."""
    store.replace("households", households())
    set_care(store, "A", ["elderly_alone"], "admin")
    set_care(store, "B", ["社区矫正对象"], "admin")
    set_care(store, "E", ["hardship", "migrant"], "admin")
    _visit(store, "A", beijing("2026-11-01"))  # due 12-01
    _visit(store, "B", beijing("2026-11-10"))  # due 12-10
    _visit(store, "C", beijing("2026-06-01"))  # due 12-01 (183 days)
    _visit(store, "E", beijing("2026-11-20"))  # due 12-20
    _visit(store, "A", beijing("2026-12-08", 9))  # the day after the list's day
    _visit(store, "Z", beijing("2025-01-01"))  # another grid
    return store


def test_frequency_table() -> None:
    assert frequency_days([]) == FREQUENCY_DAYS["ordinary"] == 183
    assert frequency_days(["elderly_alone"]) == 30
    assert check_category("残疾") == "disabled"
    with pytest.raises(ValidationError):
        check_category("unknown")


def test_due_list_without_roads_in_address_order(street: Store) -> None:
    table = due(street, "G1", dt.date(2026, 12, 7), Role.ADMIN)
    assert table["code"].tolist() == ["A", "C", "D", "B"]  # overdue in address order, then due soon
    assert table["status"].tolist() == ["overdue", "overdue", "overdue", "due_soon"]
    assert table["order"].tolist() == [1, 2, 3, 4]
    got = table.set_index("code")
    assert got.loc["A", "days_overdue"] == 6 and got.loc["A", "frequency_days"] == 30
    assert got.loc["C", "days_overdue"] == 6 and got.loc["C", "frequency_days"] == 183
    assert pd.isna(got.loc["D", "days_overdue"]) and got.loc["D", "last_visit"] is None
    assert got.loc["B", "days_overdue"] == -3 and got.loc["B", "categories"] == "correction"
    assert str(got.loc["B", "due_on"]) == "2026-12-10"


def test_due_list_changes_with_the_day(street: Store) -> None:
    # 12-08: A was visited that morning; E is 12 days from due, still off the list.
    assert due(street, "G1", dt.date(2026, 12, 8), Role.ADMIN)["code"].tolist() == ["C", "D", "B"]
    # 11-25: C falls due 12-01 (6 days: this week), A too; B and E are further off; D never visited.
    early = due(street, "G1", dt.date(2026, 11, 25), Role.ADMIN)
    assert early["code"].tolist() == ["D", "A", "C"]
    assert early["status"].tolist() == ["overdue", "due_soon", "due_soon"]
    # 12-13: E (30 days from 11-20) is due 12-20, 7 days: this week.
    assert "E" in due(street, "G1", dt.date(2026, 12, 13), Role.ADMIN)["code"].tolist()
    assert "E" not in due(street, "G1", dt.date(2026, 12, 12), Role.ADMIN)["code"].tolist()


def test_due_list_walks_along_the_roads(street: Store) -> None:
    street.replace("roads", roads())
    street.visit_book().replace(pd.DataFrame(), street.visit_book().care())  # nobody visited: all overdue
    table = due(street, "G1", dt.date(2026, 12, 7), Role.ADMIN)
    # From A (first address) up the left side to C, over the top to E, down the right side to D, B;
    # by straight line B (50 m from A) would come second.
    assert table["code"].tolist() == ["A", "C", "E", "D", "B"]


def test_care_categories_are_masked_by_role(street: Store) -> None:
    day = dt.date(2026, 12, 7)
    editor = due(street, "G1", day, Role.EDITOR, for_editing=True).set_index("code")["categories"]
    assert editor["A"] == "elderly_alone" and editor["B"] == "关爱对象" and editor["C"] == ""
    viewer = due(street, "G1", day, Role.VIEWER).set_index("code")["categories"]
    assert viewer["A"] == viewer["B"] == "关爱对象" and viewer["C"] == ""
    assert "categories" not in due(street, "G1", day, Role.ANONYMOUS).columns
    frame = pd.DataFrame({"category": ["correction", "disabled"]})
    assert protect_care(frame, Role.ADMIN)["category"].tolist() == ["correction", "disabled"]


def test_a_retried_visit_is_recorded_once(street: Store) -> None:
    when = beijing("2026-12-07")
    assert _visit(street, "C", when, key="k-1")
    assert not _visit(street, "C", when, key="k-1")
    assert len(street.visit_book().visits(household="C")) == 2  # June's and this one
    with pytest.raises(NotFoundError):
        _visit(street, "nope", when)
    with pytest.raises(ValidationError):
        _visit(street, "C", when, key=" ")
    with pytest.raises(NotFoundError, match="no case"):
        log_visit(street, Visit("k-2", "C", "王网格", when, follow_up=True, case_code="C404"))
    case = {"code": "C1", "category": "0102", "reported_at": when, "status": "reported"}
    event = {
        "case_code": "C1",
        "action": "report",
        "to_status": "reported",
        "actor": "a",
        "role": "admin",
        "at": when,
    }
    assert street.case_book().insert(case, event)
    linked, _ = log_visit(street, Visit("k-3", "C", "王网格", when, follow_up=True, case_code="C1"))
    assert linked["case_code"] == "C1" and linked["follow_up"] is True
    figures = stats(street, dt.date(2026, 11, 1), dt.date(2026, 12, 7), ["G1"])
    assert figures[["grid_code", "visits", "households_visited"]].values.tolist() == [["G1", 5, 4]]


@pytest.mark.postgis
def test_migration_matches_the_table_definition(postgis_url: str) -> None:
    with open_store(postgis_url):
        pass
    with psycopg.connect(postgis_url.replace("+psycopg", "")) as conn:
        for table in (VISITS_TABLE, CARE_TABLE):
            rows = conn.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                (table.name,),
            ).fetchall()
            assert rows == [(c.name, "YES" if c.nullable else "NO") for c in table.columns], table.name


class _Recorded:
    """The store, recording what the due list asks of it and of its visit book."""

    def __init__(self, store: Store) -> None:
        self.store, self.calls = store, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def read(self, layer: str, *, bbox: Any = None, codes: Any = None) -> gpd.GeoDataFrame:
        self.calls.append(("read", layer, "bbox" if bbox is not None else "codes" if codes else "all"))
        return self.store.read(layer, bbox=bbox, codes=codes)

    def read_columns(self, layer: str, columns: Any) -> gpd.GeoDataFrame:
        self.calls.append(("read_columns", layer, "all"))
        return self.store.read_columns(layer, columns)

    def query(self, layer: str, **filters: Any) -> Any:
        self.calls.append(("query", layer, ",".join(sorted(k for k, v in filters.items() if v))))
        return self.store.query(layer, **filters)

    def visit_book(self) -> Any:
        book, calls = self.store.visit_book(), self.calls

        class Book:
            def __getattr__(self, name: str) -> Any:
                def call(*args: Any, **kwargs: Any) -> Any:
                    listed = [a for a in args if isinstance(a, list)]
                    scope = kwargs.get("grids") or kwargs.get("households") or (listed[0] if listed else None)
                    calls.append(("book", name, scope))
                    return getattr(book, name)(*args, **kwargs)

                return call

        return Book()


def test_the_due_list_reads_only_the_grid(street: Store) -> None:
    """At city scale a grid's list must not read whole layers, the whole care register or every
    visit: its households by grid code, their care rows, the grid's last visits, nearby roads."""
    street.replace("roads", roads())
    recorded = _Recorded(street)
    table = due(recorded, "G1", dt.date(2026, 12, 7), Role.ADMIN)  # type: ignore[arg-type]
    assert table["code"].tolist() == ["A", "C", "D", "B"]  # the same list as read whole
    assert ("query", "households", "equals") in recorded.calls
    assert ("read", "roads", "bbox") in recorded.calls
    assert not [c for c in recorded.calls if c[0] in ("read", "read_columns") and c[2] == "all"]
    assert ("book", "care", ["A", "B", "C", "D", "E"]) in recorded.calls
    assert ("book", "last_visits", ["G1"]) in recorded.calls
    assert not [c for c in recorded.calls if c[0] == "book" and c[2] is None]


def test_a_geopackage_finds_a_grid_s_households_by_index(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.gpkg")) as store:
        store.replace("households", households())
    with sqlite3.connect(tmp_path / "s.gpkg") as conn:
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT fid FROM households WHERE grid_code = 'G1'").fetchall()
    assert any("INDEX households_grid_code (grid_code=?)" in str(row[-1]) for row in plan)


def test_a_refreshed_status_reads_the_visited_households_again(street: Store) -> None:
    day = dt.date(2026, 12, 7)
    codes = pd.Series(["A", "B", "C", "D", "E", "Z"])
    before = coverage_input(street, codes, day)
    assert before is not None and not before.set_index("code").loc["D", "in_time"]
    _visit(street, "D", beijing("2026-12-07", 8))
    recorded = _Recorded(street)
    after = refreshed_status(recorded, before, ["D"], day)  # type: ignore[arg-type]
    assert [c for c in recorded.calls if c[0] == "book"] == [
        ("book", "care", ["D"]),
        ("book", "last_visits", ["D"]),
    ]
    want = coverage_input(street, codes, day)
    assert want is not None and want.set_index("code").loc["D", "in_time"]
    columns = ["code", "in_time", "overdue"]
    assert (
        after.sort_values("code")[columns].values.tolist()
        == want.sort_values("code")[columns].values.tolist()
    )
