"""gridmap.lookup: answers, batch order, and when the indexes are rebuilt (on both stores)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridmap.lookup import (
    AddressNotFoundError,
    LookupService,
    OutsideError,
    Query,
    changed_layers,
)
from gridmap.privacy import Role
from gridmap.stores import Store
from tests.api.conftest import district

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
LAYERS = ("streets", "communities", "grids", "buildings", "households", "service_points", "speakers")


@pytest.fixture
def service(store: Store) -> Iterator[LookupService]:
    store.replace_many(district())
    service = LookupService(store, refresh_seconds=0.0)
    yield service
    service.close()  # no background refresh may outlive the store


def _wait_for(service: LookupService, condition: object) -> None:
    deadline = time.monotonic() + 5
    while not callable(condition) or not condition():
        service.snapshot()
        assert time.monotonic() < deadline, "the snapshot was not refreshed"
        time.sleep(0.02)


def test_answers(service: LookupService) -> None:
    assert service.by_point(114.305, 30.505)["grid"]["code"] == "G1"
    assert service.by_address("幸福路88号3栋", Role.VIEWER)["grid"]["worker_name"] == "张三"
    with pytest.raises(OutsideError):
        service.by_point(120.0, 30.0)
    with pytest.raises(AddressNotFoundError) as caught:
        service.by_address("完全不存在的地址")
    assert len(caught.value.suggestions) <= 5


def test_batch_keeps_order_and_reports_each_failure(service: LookupService) -> None:
    results = service.batch(
        [
            Query(lon=114.3145, lat=30.5045),
            Query(address="nowhere street 1"),
            Query(lon=120.0, lat=30.0),
            Query(address="幸福路88号8栋"),
            Query(lon=114.3, lat=30.5, crs="not-a-crs"),
        ]
    )
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == ["ok", "not_found", "outside", "ok", "invalid"]
    assert results[3]["grid"]["code"] == "G2"


def test_only_lookup_layers_trigger_a_rebuild(service: LookupService, store: Store) -> None:
    first = service.snapshot()
    speakers = district()["speakers"]
    speakers.loc[0, "status"] = "broken"  # a real change: a write that changes nothing makes no revision
    store.upsert("speakers", speakers.iloc[[0]])
    _wait_for(service, lambda: service.snapshot().revision != first.revision)
    assert service.snapshot().addresses is first.addresses  # reused, not rebuilt
    assert service.snapshot().locator is first.locator
    grids = district()["grids"]
    grids.loc[0, "party_branch"] = "新党支部"
    store.upsert("grids", grids.iloc[[0]])
    _wait_for(service, lambda: service.snapshot().grid_rows is not first.grid_rows)
    assert service.snapshot().addresses is first.addresses  # grids changed, buildings did not
    assert service.snapshot().locator is first.locator  # an attribute alone: no grid is indexed again
    assert service.by_point(114.305, 30.505)["grid"]["party_branch"] == "新党支部"
    buildings = district()["buildings"]
    buildings.loc[0, "address"] = "武汉市武昌区新华路1号"
    store.upsert("buildings", buildings.iloc[[0]])
    _wait_for(service, lambda: service.snapshot().addresses is not first.addresses)
    assert service.by_address("新华路1号")["building"]["code"] == "B1"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({n: T0 for n in LAYERS}, {**{n: T0 for n in LAYERS}, "speakers": T1}, {"speakers"}),
        ({n: T0 for n in LAYERS}, {**{n: T0 for n in LAYERS}, "grids": T1}, {"grids"}),
        ({n: T0 for n in LAYERS}, {n: T0 for n in LAYERS}, None),  # a change no layer records
        ({n: None for n in LAYERS}, {**{n: None for n in LAYERS}, "speakers": T1}, None),
        ({}, {n: T0 for n in LAYERS}, None),
    ],
)
def test_change_detection_is_conservative(old: dict, new: dict, expected: set[str] | None) -> None:
    assert changed_layers(old, new) == expected


def _with_straddling_building(store: Store) -> None:
    """Building BX straddles G1 (a sixth of its area, to the south) and G2 (the rest)."""
    frames = district()
    extra = frames["buildings"].iloc[[0]].copy()
    extra["code"], extra["name"], extra["address"] = "BX", "玉兰新村4栋", "幸福路90号4栋"
    extra["geometry"] = [shapely.box(114.3060, 30.5095, 114.3070, 30.5125)]
    frames["buildings"] = pd.concat([frames["buildings"], extra], ignore_index=True)
    store.replace_many(frames)


def test_a_point_in_a_building_answers_the_building_grid_like_its_address(store: Store) -> None:
    _with_straddling_building(store)
    service = LookupService(store, refresh_seconds=0.0)
    try:
        by_point = service.by_point(114.3065, 30.5097)  # in the building, on G1's side of the edge
        by_address = service.by_address("幸福社区玉兰新村4栋")
        assert by_point["grid"]["code"] == by_address["grid"]["code"] == "G2"
        assert (
            by_point["building"]
            == by_address["building"]
            == {
                "code": "BX",
                "name": "玉兰新村4栋",
                "address": "幸福路90号4栋",
            }
        )
        assert service.by_point(114.3075, 30.5097)["grid"]["code"] == "G1"  # beside it: the grid under it
        batch = service.batch([Query(lon=114.3065, lat=30.5097), Query(address="幸福路90号4栋")])
        assert [r["grid"]["code"] for r in batch] == ["G2", "G2"]
        assert [r["building"]["code"] for r in batch] == ["BX", "BX"]
    finally:
        service.close()


def test_batch_limits_suggestions_and_coordinate_systems(service: LookupService) -> None:
    queries = [Query(address=f"无此路{i}号") for i in range(4)]
    results = service.batch(queries, suggest=True, suggest_limit=2)
    assert [r["suggestions"] is not None for r in results] == [True, True, False, False]
    points = [Query(lon=114.3045, lat=30.5045, crs=crs) for crs in ("wgs84", "EPSG:4490", "cgcs2000")]
    limited = service.batch(points, max_systems=2)
    assert [r["status"] for r in limited] == ["ok", "ok", "invalid"]
    assert "at most 2" in limited[2]["detail"]


def _numbered_road() -> dict[str, gpd.GeoDataFrame]:
    """武铁路 through 武铁社区 (odd side in G1, even side in G2) and on into 大东门社区 (G3)."""
    box = shapely.box

    def frame(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    buildings = [
        (f"R{n}", f"武铁路{n}号1栋", x)
        for n, x in (
            (1, 114.301),
            (3, 114.302),
            (7, 114.304),
            (2, 114.301),
            (6, 114.304),
            (11, 114.312),
            (15, 114.314),
        )
    ]
    return {
        "streets": frame(
            [{"code": "S1", "name": "中华路街道", "geometry": box(114.30, 30.50, 114.32, 30.52)}]
        ),
        "communities": frame(
            [
                {
                    "code": "C1",
                    "name": "武铁社区",
                    "street_code": "S1",
                    "geometry": box(114.30, 30.50, 114.31, 30.52),
                },
                {
                    "code": "C2",
                    "name": "大东门社区",
                    "street_code": "S1",
                    "geometry": box(114.31, 30.50, 114.32, 30.52),
                },
            ]
        ),
        "grids": frame(
            [
                {
                    "code": "G1",
                    "name": "一",
                    "community_code": "C1",
                    "geometry": box(114.30, 30.51, 114.31, 30.52),
                },
                {
                    "code": "G2",
                    "name": "二",
                    "community_code": "C1",
                    "geometry": box(114.30, 30.50, 114.31, 30.51),
                },
                {
                    "code": "G3",
                    "name": "三",
                    "community_code": "C2",
                    "geometry": box(114.31, 30.50, 114.32, 30.52),
                },
            ]
        ),
        "buildings": frame(
            [
                {
                    "code": code,
                    "name": None,
                    "address": address,
                    "geometry": box(x, y, x + 0.0004, y + 0.0004),
                }
                for code, address, x in buildings
                for y in [30.515 if int(code[1:]) % 2 or int(code[1:]) > 10 else 30.505]
            ]
        ),
    }


@pytest.fixture
def road_service(store: Store) -> Iterator[LookupService]:
    store.replace_many(_numbered_road())
    service = LookupService(store, refresh_seconds=0.0)
    yield service
    service.close()


def test_a_community_named_after_its_road_and_one_that_disagrees(road_service: LookupService) -> None:
    bare = road_service.by_address("武铁路3号1栋")
    prefixed = road_service.by_address("中华路街道武铁社区武铁路3号1栋")
    assert prefixed["building"] == bare["building"] and prefixed["grid"]["code"] == "G1"
    assert prefixed["match"]["disagrees"] == []
    other = road_service.by_address("大东门社区武铁路3号1栋")
    assert other["building"]["code"] == "R3" and other["match"]["disagrees"] == ["大东门社区"]


@pytest.mark.parametrize(
    ("address", "grid", "between"),
    [
        ("武铁路5号", "G1", [3, 7]),  # odd side, between 3 and 7
        ("武铁社区武铁路4号2栋", "G2", [2, 6]),  # even side
        ("武铁路3号2栋", "G1", [3]),  # a registered house, a building the register lacks
        ("大东门社区武铁路13号", "G3", [11, 15]),
    ],
)
def test_a_number_the_register_lacks_is_interpolated(
    road_service: LookupService, address: str, grid: str, between: list[int]
) -> None:
    reply = road_service.by_address(address)
    assert reply["grid"]["code"] == grid and reply["building"] is None
    assert reply["match"]["method"] == "interpolated" and reply["match"]["between"] == between


@pytest.mark.parametrize(
    ("address", "candidates"),
    [
        ("武铁路9号", ["G1", "G3"]),  # between 7 (G1) and 11 (G3): no confident answer
        ("武铁路17号", ["G3"]),  # past the last number
        ("武铁里5号", []),  # a road the register lacks
    ],
)
def test_no_confident_answer_names_the_candidate_grids(
    road_service: LookupService, address: str, candidates: list[str]
) -> None:
    with pytest.raises(AddressNotFoundError) as caught:
        road_service.by_address(address)
    assert caught.value.candidates == candidates


def test_batch_interpolates_and_names_candidates(road_service: LookupService) -> None:
    results = road_service.batch(
        [Query(address="武铁路5号"), Query(address="武铁路9号"), Query(address="武铁里5号")]
    )
    assert [r["status"] for r in results] == ["ok", "not_found", "not_found"]
    assert results[0]["match"]["method"] == "interpolated" and results[0]["grid"]["code"] == "G1"
    assert results[1]["candidates"] == ["G1", "G3"] and results[2]["candidates"] == []
