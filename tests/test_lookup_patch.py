"""gridmap.lookup_patch: a patched snapshot answers every lookup as one loaded afresh (both stores)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.errors import NotFoundError
from gridmap.lookup import AddressNotFoundError, LookupService, Snapshot
from gridmap.lookup_patch import BOUNDARY_LAYERS, Boundaries
from gridmap.privacy import Role
from gridmap.sample import read_sample
from gridmap.stores import Store

LOOKUP = ("streets", "communities", "grids", "buildings")
ROLES = (Role.ANONYMOUS, Role.ADMIN)


@pytest.fixture(scope="module")
def sample() -> dict[str, gpd.GeoDataFrame]:
    """The sample district's lookup layers (61 grids, 1,007 buildings)."""
    frames = read_sample()
    return {name: frames[name] for name in LOOKUP}


@pytest.fixture
def service(store: Store, sample: dict[str, gpd.GeoDataFrame]) -> Iterator[LookupService]:
    store.replace_many(sample)
    service = LookupService(store, refresh_seconds=0.0)
    yield service
    service.close()


def _refreshed(service: LookupService, store: Store) -> Snapshot:
    """The service's snapshot once it has caught up with the store."""
    revision = store.revision()
    deadline = time.monotonic() + 10
    while service.snapshot().revision != revision:
        assert time.monotonic() < deadline, "the snapshot was not refreshed"
        time.sleep(0.02)
    return service.snapshot()


def _queries(sample: dict[str, gpd.GeoDataFrame]) -> tuple[list[tuple[float, float]], list[str]]:
    """Points (in buildings, anywhere in the district, on grid vertices) and addresses (registered,
    with a missing or unregistered number, with places written before them, misspelt)."""
    rng = np.random.default_rng(27)
    buildings = sample["buildings"]
    inside = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object)[::6])
    minx, miny, maxx, maxy = sample["grids"].total_bounds
    vertices = shapely.get_coordinates(np.asarray(sample["grids"].geometry.values[:6], dtype=object))[::7]
    points = [
        *zip(shapely.get_x(inside).tolist(), shapely.get_y(inside).tolist(), strict=True),
        *zip(rng.uniform(minx, maxx, 150).tolist(), rng.uniform(miny, maxy, 150).tolist(), strict=True),
        *map(tuple, vertices.tolist()),
    ]
    addresses = buildings["address"].dropna().astype(str).tolist()[::3]
    community = str(sample["communities"]["name"].iloc[0])
    odd = [a.replace("号", "1号", 1) for a in addresses[::5]]  # numbers the register lacks
    return points, [
        *addresses,
        *(community + a for a in addresses[::7]),
        *odd,
        *(a[:-1] for a in addresses[::11]),
        *(a[:2] + "x" + a[3:] for a in addresses[::13]),
        "完全不存在的地址",
    ]


def _answer(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except AddressNotFoundError as exc:
        return ("not_found", str(exc), exc.suggestions, exc.candidates)
    except NotFoundError as exc:
        return (type(exc).__name__, str(exc))


def _assert_same_answers(patched: Snapshot, fresh: Snapshot, sample: dict[str, gpd.GeoDataFrame]) -> None:
    points, addresses = _queries(sample)
    for role in ROLES:
        for lon, lat in points:
            expected = _answer(fresh.by_point, lon, lat, "wgs84", role)
            assert _answer(patched.by_point, lon, lat, "wgs84", role) == expected, (lon, lat)
    for role in ROLES[:1]:  # roles differ in the grid's fields alone, checked above
        for address in addresses:
            expected = _answer(fresh.by_address, address, role)
            assert _answer(patched.by_address, address, role) == expected, address
    assert patched.buildings.keys() == fresh.buildings.keys()
    grid_of = {c: patched.building_grid[r] for c, r in patched.buildings.items()}
    fresh_of = {c: fresh.building_grid[r] for c, r in fresh.buildings.items()}
    codes = fresh.locator.codes
    assert {c: codes[g] if g >= 0 else None for c, g in fresh_of.items()} == {
        c: patched.locator.codes[g] if g >= 0 else None for c, g in grid_of.items()
    }


def _fresh(store: Store) -> Snapshot:
    return Snapshot.load(store, store.revision())


def test_a_grid_attribute_edit_reindexes_nothing(
    service: LookupService, store: Store, sample: dict[str, gpd.GeoDataFrame]
) -> None:
    first = service.snapshot()
    grids = sample["grids"].copy()
    grids.loc[0, "party_branch"] = "新党支部"
    other = grids["community_code"].iloc[-1]  # a grid moves to another community: its buildings' areas
    grids.loc[1, "community_code"] = other
    store.upsert("grids", grids.iloc[[0, 1]])
    patched = _refreshed(service, store)
    assert patched.locator is first.locator and patched.building_grid is first.building_grid
    assert patched.building_locator is first.building_locator
    assert patched.building_rows is first.building_rows
    assert patched.addresses is not first.addresses  # the areas of grid 1's buildings changed, nothing else
    code = str(grids["code"].iloc[0])
    assert patched.grid_rows[Role.ANONYMOUS][patched.locator.codes.tolist().index(code)]["party_branch"] == (
        "新党支部"
    )
    _assert_same_answers(patched, _fresh(store), sample)


def test_a_redrawn_added_and_removed_grid_place_only_the_buildings_near_them(
    service: LookupService, store: Store, sample: dict[str, gpd.GeoDataFrame]
) -> None:
    first = service.snapshot()
    grids = sample["grids"].copy()
    shape = grids.geometry.iloc[3]
    minx, miny, maxx, maxy = shape.bounds
    cut = shapely.box(minx, miny, (minx + maxx) / 2, maxy)
    grids.loc[3, "geometry"] = shapely.difference(shape, cut)  # half of it now in no grid
    store.upsert("grids", grids.iloc[[3]])
    patched = _refreshed(service, store)
    assert patched.building_locator is first.building_locator and patched.locator is not first.locator
    assert not np.array_equal(patched.building_grid, first.building_grid)
    _assert_same_answers(patched, _fresh(store), sample)

    added = grids.iloc[[3]].copy()
    added["code"], added["name"] = "420106001001999", "新网格"
    added.loc[added.index[0], "geometry"] = shapely.MultiPolygon([cut])
    store.insert("grids", added)
    store.delete("grids", [str(grids["code"].iloc[10])])
    _assert_same_answers(_refreshed(service, store), _fresh(store), sample)


def test_building_edits_are_placed_alone(
    service: LookupService, store: Store, sample: dict[str, gpd.GeoDataFrame]
) -> None:
    first = service.snapshot()
    buildings = sample["buildings"]
    moved = buildings.iloc[[5]].copy()
    community = dict(zip(sample["grids"]["code"], sample["grids"]["community_code"], strict=True))
    own = buildings["grid_code"].iloc[5]
    target = next(
        i
        for i, grid in enumerate(buildings["grid_code"])
        if grid != own and community[grid] == community[own]
    )
    far = buildings.geometry.iloc[target].centroid
    here = moved.geometry.iloc[0].centroid
    moved["geometry"] = moved.geometry.translate(far.x - here.x + 0.0002, far.y - here.y)
    store.upsert("buildings", moved)
    patched = _refreshed(service, store)
    assert patched.addresses is first.addresses  # moved into another grid of the same community
    assert patched.locator is first.locator and patched.building_locator is not first.building_locator
    _assert_same_answers(patched, _fresh(store), sample)

    added = buildings.iloc[[40]].copy()
    added["code"] = str(buildings["code"].iloc[40]) + "5"  # between two codes of the register
    added["name"], added["address"] = "新楼", "幸福路999号1栋"
    renamed = buildings.iloc[[41]].copy()
    renamed["address"] = "和平路1号1栋"
    store.upsert("buildings", pd.concat([added, renamed]))
    store.delete("buildings", [str(buildings["code"].iloc[100])])
    patched = _refreshed(service, store)
    assert patched.locator is first.locator
    assert patched.by_address("和平路1号1栋", Role.ANONYMOUS)["building"]["code"] == renamed["code"].iloc[0]
    _assert_same_answers(patched, _fresh(store), sample)


def test_dated_lookups_use_that_dates_boundaries(
    service: LookupService, store: Store, sample: dict[str, gpd.GeoDataFrame]
) -> None:
    grids = sample["grids"].copy()
    grids.loc[3, "geometry"] = shapely.affinity.translate(grids.geometry.iloc[3], 0.001, 0.0)
    store.upsert("grids", grids.iloc[[3]])
    patched = _refreshed(service, store)
    for date in ("2020-01-01", pd.Timestamp.now().strftime("%Y-%m-%d")):
        bounds = Boundaries(*(store.read_as_of(name, date) for name in BOUNDARY_LAYERS))
        fresh = Snapshot.build(patched.revision, {}, bounds, store.read("buildings"))
        _assert_same_answers(service.as_of(date), fresh, sample)


def test_without_a_log_the_snapshot_is_loaded_again(
    service: LookupService, store: Store, sample: dict[str, gpd.GeoDataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = service.snapshot()
    monkeypatch.setattr(store, "touched_since", lambda position, most=0: None)
    grids = sample["grids"].copy()
    grids.loc[0, "party_branch"] = "新党支部"
    store.upsert("grids", grids.iloc[[0]])
    patched = _refreshed(service, store)
    assert patched.locator is not first.locator  # read and indexed again
    _assert_same_answers(patched, _fresh(store), sample)


def test_a_patch_that_fails_loads_the_snapshot_again(
    service: LookupService, store: Store, sample: dict[str, gpd.GeoDataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = service.snapshot()

    def broken(*args: object, **kwargs: object) -> Snapshot:
        raise ValueError("a patch that cannot be applied")

    monkeypatch.setattr(Snapshot, "patched", broken)
    grids = sample["grids"].copy()
    grids.loc[0, "party_branch"] = "新党支部"
    store.upsert("grids", grids.iloc[[0]])
    reloaded = _refreshed(service, store)
    assert reloaded.locator is not first.locator  # read and indexed again, not stuck on the old snapshot
    _assert_same_answers(reloaded, _fresh(store), sample)
