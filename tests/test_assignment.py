"""Assignment: points by containment with the smallest-code tie-break, buildings by largest share."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.assignment import (
    BuildingLocator,
    GridLocator,
    assign,
    building_grids,
    locate_points,
    point_grids,
    unassigned,
    write_assignment,
)
from gridmap.catalogue import LAYER_NAMES
from gridmap.frames import conform, empty_frame
from gridmap.stores import Store

STEP = 0.01  # degrees; the layouts sit on the CGCS2000 zone meridian 120°E, near 30°N
LON, LAT = 120.0, 30.0


def cell(i: int, j: int) -> shapely.Polygon:
    """The square of the test lattice in column i, row j."""
    x, y = LON + i * STEP, LAT + j * STEP
    return shapely.box(x, y, x + STEP, y + STEP)


def grids_frame(cells: dict[str, shapely.Geometry]) -> gpd.GeoDataFrame:
    rows = {"code": list(cells), "name": list(cells), "community_code": ["C1"] * len(cells)}
    return conform("grids", gpd.GeoDataFrame(rows, geometry=list(cells.values()), crs=4326))


def points_frame(layer: str, points: dict[str, tuple[float, float]], **columns: list) -> gpd.GeoDataFrame:
    geoms = [shapely.Point(p) for p in points.values()]
    return conform(layer, gpd.GeoDataFrame({"code": list(points), **columns}, geometry=geoms, crs=4326))


# Four grids meeting at the vertex (120.01, 30.01); codes deliberately not in row or position order.
QUAD = {"G3": cell(0, 0), "G1": cell(1, 0), "G4": cell(0, 1), "G2": cell(1, 1)}


def test_point_inside_belongs_to_its_grid() -> None:
    grids = grids_frame(QUAD)
    pos = locate_points(grids, [LON + 0.005, LON + 0.015], [LAT + 0.005, LAT + 0.015])
    assert grids["code"].iloc[pos].tolist() == ["G3", "G2"]


def test_point_on_shared_edge_goes_to_smallest_code() -> None:
    grids = grids_frame(QUAD)
    # On the edge between G3 (left) and G1 (right), and between G4 (top) and G3 (bottom).
    pos = locate_points(grids, [LON + STEP, LON + 0.005], [LAT + 0.005, LAT + STEP])
    assert grids["code"].iloc[pos].tolist() == ["G1", "G3"]


def test_point_on_shared_vertex_goes_to_smallest_code() -> None:
    grids = grids_frame(QUAD)
    pos = locate_points(grids, [LON + STEP], [LAT + STEP])
    assert grids["code"].iloc[pos].tolist() == ["G1"]


def test_point_on_outer_boundary_belongs_to_the_grid() -> None:
    grids = grids_frame(QUAD)
    pos = locate_points(grids, [LON], [LAT + 0.005])
    assert grids["code"].iloc[pos].tolist() == ["G3"]


def test_points_outside_or_without_coordinates_get_none() -> None:
    grids = grids_frame(QUAD)
    pos = locate_points(grids, [LON - 0.001, np.nan, LON + 0.5], [LAT, LAT, LAT])
    assert pos.tolist() == [-1, -1, -1]


def test_no_grids_means_no_grid_for_anyone() -> None:
    pos = locate_points(empty_frame("grids"), np.full(300, LON), np.full(300, LAT))
    assert (pos == -1).all()


def test_overlap_goes_to_smallest_code() -> None:
    grids = grids_frame({"B": cell(0, 0), "A": shapely.box(LON + 0.005, LAT, LON + 0.015, LAT + STEP)})
    pos = locate_points(grids, [LON + 0.007, LON + 0.002], [LAT + 0.005, LAT + 0.005])
    assert grids["code"].iloc[pos].tolist() == ["A", "B"]


def test_many_points_sweep_agrees_with_few_points_query() -> None:
    grids = grids_frame(QUAD)
    rng = np.random.default_rng(7)
    # A lattice that puts many points exactly on edges and vertices.
    lon = LON - 0.005 + rng.integers(0, 7, 2000) * 0.005
    lat = LAT - 0.005 + rng.integers(0, 7, 2000) * 0.005
    sweep = GridLocator(grids).locate(lon, lat)
    locator = GridLocator(grids)
    chunks = [locator.locate(lon[i : i + 100], lat[i : i + 100]) for i in range(0, 2000, 100)]
    one_by_one = np.concatenate(chunks)
    assert (sweep == one_by_one).all()
    assert (sweep == -1).any() and (sweep >= 0).any()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 4), st.integers(-1, 4)),
        min_size=1,
        max_size=400,
    ),
    st.permutations(["G1", "G2", "G3", "G4"]),
)
def test_each_point_gets_the_smallest_covering_grid(lattice: list[tuple[int, int]], codes: list[str]) -> None:
    """Property: at most one grid per point, it covers the point, and no smaller code does."""
    grids = grids_frame(dict(zip(codes, QUAD.values(), strict=True)))
    lon = np.array([LON + i * STEP / 2 for i, _ in lattice])
    lat = np.array([LAT + j * STEP / 2 for _, j in lattice])
    pos = locate_points(grids, lon, lat)
    geoms = grids.geometry.to_numpy()
    codes_arr = grids["code"].to_numpy(dtype=object)
    for p, x, y in zip(pos, lon, lat, strict=True):
        covering = sorted(c for c, g in zip(codes_arr, geoms, strict=True) if g.covers(shapely.Point(x, y)))
        assert (codes_arr[p] if p >= 0 else None) == (covering[0] if covering else None)


def values(series: pd.Series) -> list:
    """A column as a list with None for nulls."""
    return [None if pd.isna(v) else v for v in series]


def buildings_frame(polys: dict[str, shapely.Geometry]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame({"code": list(polys)}, geometry=list(polys.values()), crs=4326)
    return conform("buildings", frame)


def test_building_goes_to_largest_area_share() -> None:
    grids = grids_frame({"A": cell(0, 0), "B": cell(1, 0)})
    buildings = buildings_frame(
        {
            "inside": shapely.box(LON + 0.002, LAT + 0.002, LON + 0.004, LAT + 0.004),
            "mostly_b": shapely.box(LON + 0.009, LAT + 0.002, LON + 0.013, LAT + 0.004),  # 25 % A, 75 % B
            "mostly_a": shapely.box(LON + 0.006, LAT + 0.002, LON + 0.011, LAT + 0.004),  # 80 % A
            "outside": shapely.box(LON - 0.004, LAT + 0.002, LON - 0.002, LAT + 0.004),
            "touching": shapely.box(LON - 0.004, LAT + 0.002, LON, LAT + 0.004),  # shares only an edge
        }
    )
    pos = building_grids(grids, buildings)
    got = dict(zip(buildings["code"], [grids["code"].iloc[p] if p >= 0 else None for p in pos], strict=True))
    assert got == {"inside": "A", "mostly_b": "B", "mostly_a": "A", "outside": None, "touching": None}


def test_building_split_evenly_goes_to_smallest_code() -> None:
    # The edge lies on the zone meridian, so both halves have the same area in metres.
    grids = grids_frame({"Z": shapely.box(LON - STEP, LAT, LON, LAT + STEP), "Y": cell(0, 0)})
    buildings = buildings_frame({"b": shapely.box(LON - 0.002, LAT + 0.002, LON + 0.002, LAT + 0.004)})
    assert grids["code"].iloc[building_grids(grids, buildings)].tolist() == ["Y"]


def sample_frames() -> dict[str, gpd.GeoDataFrame]:
    """Two grids, two buildings, households by building and by point, points in and out."""
    grids = grids_frame({"A": cell(0, 0), "B": cell(1, 0)})
    buildings = buildings_frame(
        {
            "BA": shapely.box(LON + 0.002, LAT + 0.002, LON + 0.004, LAT + 0.004),
            "BX": shapely.box(LON - 0.004, LAT + 0.002, LON - 0.002, LAT + 0.004),  # outside every grid
        }
    )
    households = points_frame(
        "households",
        {
            "h_building": (LON + 0.015, LAT + 0.005),  # point in B, building in A: the building wins
            "h_point": (LON + 0.015, LAT + 0.005),  # no building: by point
            "h_unknown_building": (LON + 0.005, LAT + 0.005),  # building code not in the register
            "h_lost_building": (LON + 0.015, LAT + 0.005),  # its building has no grid: by point
            "h_nowhere": (LON + 0.5, LAT + 0.5),
        },
        building_code=["BA", None, "NOPE", "BX", None],
    )
    speakers = points_frame("speakers", {"s1": (LON + 0.01, LAT + 0.005), "s2": (LON - 1, LAT)})
    service_points = points_frame("service_points", {"p1": (LON + 0.005, LAT + 0.005)})
    return {
        "grids": grids,
        "buildings": buildings,
        "households": households,
        "speakers": speakers,
        "service_points": service_points,
    }


def test_assign_sets_grid_code_on_every_derived_layer() -> None:
    out = assign(sample_frames())
    assert values(out["buildings"]["grid_code"]) == ["A", None]
    h = dict(zip(out["households"]["code"], values(out["households"]["grid_code"]), strict=True))
    assert h == {
        "h_building": "A",
        "h_point": "B",
        "h_unknown_building": "A",
        "h_lost_building": "B",
        "h_nowhere": None,
    }
    assert values(out["speakers"]["grid_code"]) == ["A", None]  # s1 sits on the A/B edge
    assert out["service_points"]["grid_code"].tolist() == ["A"]
    assert str(out["households"]["grid_code"].dtype) == "string"


def test_assign_ignores_grid_code_from_input() -> None:
    frames = sample_frames()
    frames["households"]["grid_code"] = "B"
    out = assign(frames)
    assert out["households"]["grid_code"].iloc[0] == "A"


def test_unassigned_are_reported_with_their_layer() -> None:
    lost = unassigned(assign(sample_frames()))
    assert sorted(zip(lost["layer"], lost["code"], strict=True)) == [
        ("buildings", "BX"),
        ("households", "h_nowhere"),
        ("speakers", "s2"),
    ]
    assert set(lost.geometry.geom_type) == {"Point"}
    assert lost.crs.equals("EPSG:4326")


def test_assign_rejects_frames_outside_wgs84() -> None:
    frames = sample_frames()
    frames["grids"] = frames["grids"].to_crs(3857)
    with pytest.raises(Exception, match="EPSG:4326"):
        assign(frames)


def test_write_assignment_round_trips_through_the_store(store: Store) -> None:
    frames = assign(sample_frames())
    store.replace_many({name: frames.get(name, empty_frame(name)) for name in LAYER_NAMES})
    frames["households"]["grid_code"] = None  # as if never assigned
    store.replace("households", frames["households"])
    written = write_assignment(store, assign({name: store.read(name) for name in LAYER_NAMES}))
    assert written == {"buildings": 1, "households": 4, "service_points": 1, "speakers": 1}
    back = store.read("households")
    assert dict(zip(back["code"], back["grid_code"], strict=True))["h_building"] == "A"
    assert back["grid_code"].isna().sum() == 1


def test_a_point_inside_a_building_takes_the_building_grid() -> None:
    """A building straddling A (a quarter) and B (three quarters) is B's, and so is every point in it."""
    grids = grids_frame({"A": cell(0, 0), "B": cell(1, 0)})
    straddling = shapely.box(LON + 0.009, LAT + 0.002, LON + 0.013, LAT + 0.004)
    buildings = buildings_frame(
        {"BS": straddling, "BA": shapely.box(LON + 0.002, LAT + 0.002, LON + 0.004, LAT + 0.004)}
    )
    in_a_part = (LON + 0.0095, LAT + 0.003)
    frames = {
        "grids": grids,
        "buildings": buildings,
        "households": points_frame(
            "households",
            {"h_in": in_a_part, "h_beside": (LON + 0.0095, LAT + 0.006)},
            building_code=[None, None],
        ),
        "speakers": points_frame("speakers", {"s_in": in_a_part}),
        "service_points": points_frame("service_points", {"p_in": in_a_part}),
    }
    out = assign(frames)
    assert dict(zip(out["buildings"]["code"], out["buildings"]["grid_code"], strict=True)) == {
        "BA": "A",
        "BS": "B",
    }
    assert out["households"]["grid_code"].tolist() == ["B", "A"]
    assert out["speakers"]["grid_code"].tolist() == ["B"]
    assert out["service_points"]["grid_code"].tolist() == ["B"]
    locator, inside = GridLocator(grids), BuildingLocator(buildings)
    grid, building = point_grids(
        locator, inside, building_grids(grids, buildings), *zip(in_a_part, (LON + 0.5, LAT), strict=True)
    )
    assert grid.tolist() == [grids["code"].tolist().index("B"), -1]
    assert buildings["code"].iloc[building[0]] == "BS" and building[1] == -1


def test_overlapping_buildings_give_a_point_the_smallest_code() -> None:
    box = shapely.box(LON + 0.002, LAT + 0.002, LON + 0.004, LAT + 0.004)
    buildings = buildings_frame({"B9": box, "B1": box})
    found = BuildingLocator(buildings).locate([LON + 0.003, LON + 0.5], [LAT + 0.003, LAT])
    assert buildings["code"].iloc[found[0]] == "B1" and found[1] == -1
