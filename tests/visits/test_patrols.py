"""Patrols on both stores: a track of known geometry gives known metres, minutes and share of roads.

The layout is drawn in metres (CGCS2000 3-degree zone CM 114E, the CRS the grid is measured in)
around (114.305 E, 30.505 N): grid P1 is a 1,000 m square; road A crosses it west to east through
its centre, road B 400 m south of A, road C lies outside. The track walks A from 200 m west of the
grid to 200 m east of it, stopping 120 s in the middle, then 300 m north outside the grid:
1,700 m in all, 1,000 m and 620 s inside; the grid's roads are those within 10 m of it, so road A
counts for 1,020 m, all walked, and road B for 1,000 m: a share of 1,020 / 2,020.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from gridmap.errors import NotFoundError, ValidationError
from gridmap.frames import WGS84, conform
from gridmap.privacy import may_see_track
from gridmap.stores import Store
from gridmap.visits.patrols import Patrol, import_gpx, record_patrol, stored_track, week_stats
from gridmap.visits.tracks import Track, check_track, inside_grids, metric_area

METRIC = "EPSG:4547"
_to = pyproj.Transformer.from_crs(WGS84, METRIC, always_xy=True)
_back = pyproj.Transformer.from_crs(METRIC, WGS84, always_xy=True)
X, Y = _to.transform(114.305, 30.505)
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # a Tuesday

# (metres east of X, metres north of Y, seconds)
FIXES = [(-700, 0, 0), (0, 0, 350), (0, 0, 470), (700, 0, 820), (700, 300, 1420)]


def _lonlat(geom: shapely.Geometry) -> shapely.Geometry:
    """A metric geometry, densified every metre, in lon/lat (so it stays straight in metres)."""
    return shapely.transform(
        shapely.segmentize(geom, 1.0), lambda xy: np.column_stack(_back.transform(*xy.T))
    )


def _layers() -> dict[str, gpd.GeoDataFrame]:
    grid = _lonlat(shapely.box(X - 500, Y - 500, X + 500, Y + 500))
    roads = {
        "A": shapely.LineString([(X - 800, Y), (X + 800, Y)]),
        "B": shapely.LineString([(X - 500, Y - 400), (X + 500, Y - 400)]),
        "C": shapely.LineString([(X + 600, Y - 400), (X + 900, Y - 400)]),
    }
    area = _lonlat(shapely.box(X - 1000, Y - 1000, X + 1000, Y + 1000))
    return {
        "streets": conform(
            "streets", gpd.GeoDataFrame({"code": ["S1"], "name": ["街道"]}, geometry=[area], crs=WGS84)
        ),
        "communities": conform(
            "communities",
            gpd.GeoDataFrame(
                {"code": ["C1"], "name": ["社区"], "street_code": ["S1"]}, geometry=[area], crs=WGS84
            ),
        ),
        "grids": conform(
            "grids",
            gpd.GeoDataFrame(
                {"code": ["P1"], "name": ["巡查网格"], "community_code": ["C1"], "worker_name": ["张三"]},
                geometry=[grid],
                crs=WGS84,
            ),
        ),
        "roads": conform(
            "roads",
            gpd.GeoDataFrame(
                {
                    "code": list(roads),
                    "name": ["甲路", "乙路", "丙路"],
                    "kind": "residential",
                    "walkable": True,
                },
                geometry=[_lonlat(r) for r in roads.values()],
                crs=WGS84,
            ),
        ),
    }


def _track() -> tuple[list[float], list[float], list[float]]:
    lon, lat = _back.transform([X + dx for dx, _, _ in FIXES], [Y + dy for _, dy, _ in FIXES])
    return list(lon), list(lat), [float(t) for _, _, t in FIXES]


@pytest.fixture
def patrolled(store: Store) -> Store:
    store.replace_many(_layers())
    return store


def test_a_known_track_gives_known_figures(patrolled: Store) -> None:
    patrol = Patrol("phone-p-1", "张三", "P1", START, check_track(*_track(), source="test"))
    row, created = record_patrol(patrolled, patrol)
    assert created and row["day"] == dt.date(2026, 12, 1)
    assert row["length_m"] == pytest.approx(1700, abs=0.5)
    assert row["inside_m"] == pytest.approx(1000, abs=0.5)
    assert row["inside_s"] == pytest.approx(620, abs=1)
    assert row["ended_at"] == START + dt.timedelta(seconds=1420)
    again, created_again = record_patrol(patrolled, patrol)
    assert not created_again and again == row  # the same key: one record, the same answer
    stored = patrolled.visit_book().patrols(tracks=True)
    assert len(stored) == 1
    np.testing.assert_allclose(stored_track(stored[0]).seconds, [0, 350, 470, 820, 1420])
    week = week_stats(patrolled, dt.date(2026, 12, 6)).set_index("grid_code").loc["P1"]
    assert week["patrols"] == 1 and week["days"] == 1
    assert week["inside_km"] == pytest.approx(1.0, abs=0.001)
    assert week["inside_minutes"] == pytest.approx(10.3)
    assert week["road_km"] == pytest.approx(2.02, abs=0.002)
    assert week["road_share"] == pytest.approx(1020 / 2020, abs=0.002)
    later = week_stats(patrolled, dt.date(2026, 12, 7)).set_index("grid_code").loc["P1"]
    assert later["patrols"] == 0 and later["road_share"] == 0.0  # the next week: nothing walked yet


def test_a_gpx_file_is_imported_once(patrolled: Store, tmp_path: Path) -> None:
    lon, lat, seconds = _track()
    points = "".join(
        f'<trkpt lat="{y:.8f}" lon="{x:.8f}"><time>'
        f"{(START + dt.timedelta(seconds=t)).astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}</time></trkpt>"
        for x, y, t in zip(lon, lat, seconds, strict=True)
    )
    path = tmp_path / "patrol.gpx"
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>",
        encoding="utf-8",
    )
    row, created = import_gpx(patrolled, path, "张三")  # the grid 张三 works
    assert created and row["grid_code"] == "P1" and row["source"] == "gpx"
    assert row["inside_m"] == pytest.approx(1000, abs=0.5) and row["inside_s"] == pytest.approx(620, abs=1)
    assert import_gpx(patrolled, path, "张三")[1] is False
    assert len(patrolled.visit_book().patrols()) == 1


def test_bad_patrols_change_nothing(patrolled: Store, tmp_path: Path) -> None:
    lon, lat, seconds = _track()
    with pytest.raises(ValidationError, match="backwards"):
        check_track(lon, lat, [0, 10, 5, 20, 30], source="phone")
    with pytest.raises(ValidationError, match="lon/lat"):
        check_track([500.0], [30.0], [0.0], source="phone")
    with pytest.raises(NotFoundError, match="P9"):
        record_patrol(patrolled, Patrol("k", "张三", "P9", START, check_track(lon, lat, seconds, "t")))
    untimed = tmp_path / "untimed.gpx"
    untimed.write_text(
        '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
        '<trkpt lat="30.5" lon="114.3"></trkpt></trkseg></trk></gpx>',
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match="time"):
        import_gpx(patrolled, untimed, "张三")
    assert patrolled.visit_book().patrols() == []


def test_tracks_are_read_by_their_worker_and_admins_alone() -> None:
    assert may_see_track("admin", None, "张三")
    assert may_see_track("editor", "张三", "张三")
    assert not may_see_track("editor", "李四", "张三")
    assert not may_see_track("viewer", None, "张三")


def test_many_tracks_measured_in_one_pass_each_give_their_own_figures() -> None:
    """The seed measures a year of patrols at once: each track's figures are still its own."""
    metric = pyproj.CRS(METRIC)
    grid = _layers()["grids"].geometry.iloc[0]
    area = metric_area(grid, metric)
    far = metric_area(_lonlat(shapely.box(X + 5000, Y, X + 6000, Y + 1000)), metric)

    def track(fixes: list[tuple[float, float, float]]) -> Track:
        lon, lat = _back.transform([X + dx for dx, _, _ in fixes], [Y + dy for _, dy, _ in fixes])
        return check_track(lon, lat, [t for _, _, t in fixes], source="test")

    tracks = [
        track(FIXES),
        track([(0, 0, 0)]),  # one fix: nothing walked
        track([(-100, 0, 0), (100, 0, 100)]),  # wholly inside
        track([(700, 300, 0), (800, 300, 60)]),  # wholly outside
        track(FIXES),  # the known track against a grid far away: nothing inside
    ]
    length, inside_m, inside_s = inside_grids(tracks, np.array([area, area, area, area, far]), metric)
    assert length == pytest.approx([1700, 0, 200, 100, 1700], abs=0.5)
    assert inside_m == pytest.approx([1000, 0, 200, 0, 0], abs=0.5)
    assert inside_s == pytest.approx([620, 0, 100, 0, 0], abs=1)
