"""Walking distance cross-checked in PostGIS: pgRouting on the roads noded in SQL gives the answers
of gridmap's scipy path (`gridmap.walking`), on hand-drawn roads with known answers and on a
generated district whose river has one bridge.

Tolerance: 1e-6 m per household. Both engines start from the same stored WGS84 coordinates but
project them with different PROJ builds (PostGIS's and pyproj's), and sum path lengths in a
different order; what is left is float rounding (the sample district differs by under 1e-9 m).
The shares per grid are compared exactly: no household lies within 1e-6 m of a circle's edge.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyproj
import pytest
import shapely
from psycopg import sql

from bench.walking_pgrouting import walk_in_database
from gridmap.analysis import analyze, projections, read_inputs
from gridmap.coverage import metric_xy
from gridmap.sample.generate import generate
from gridmap.stores import Store, open_store
from gridmap.vocabulary import LIFE_CIRCLES
from gridmap.walking import build_network, snap, walk_to_nearest
from tests.conftest import emptied

pytestmark = pytest.mark.postgis

UTM = pyproj.CRS.from_epsg(32650)
ORIGIN = np.array([530_000.0, 3_380_000.0])  # the drawings' (0, 0): UTM 50N, near Wuhan
TOLERANCE_M = 1e-6


@pytest.fixture(scope="module")
def routed_url(postgis_url: str) -> str:
    """The session's PostGIS database with pgRouting (scripts/system-deps.sh installs it)."""
    with psycopg.connect(postgis_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    return postgis_url


@pytest.fixture(scope="module")
def store(routed_url: str) -> Iterator[Store]:
    """One emptied store for the module: every test replaces the layers it walks."""
    with open_store(emptied(routed_url)) as opened:
        yield opened


def _frame(rows: list[tuple[float, float]], prefix: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [f"{prefix}{i:02d}" for i in range(len(rows))]},
        geometry=shapely.points(np.asarray(rows, dtype=float) + ORIGIN),
        crs=UTM,
    )


def put(
    store: Store,
    lines: list[list[tuple[float, float]]],
    homes: list[tuple[float, float]],
    sites: list[tuple[float, float]],
    walkable: list[bool] | None = None,
) -> None:
    """Hand-drawn roads (metres from `ORIGIN`), households H00… and service points S00… into the store."""
    roads = gpd.GeoDataFrame(
        {"code": [f"R{i}" for i in range(len(lines))], "walkable": walkable or [True] * len(lines)},
        geometry=[shapely.LineString(np.asarray(line, dtype=float) + ORIGIN) for line in lines],
        crs=UTM,
    )
    store.replace_many(
        {"roads": roads, "households": _frame(homes, "H"), "service_points": _frame(sites, "S")}
    )


def both(store: Store, crs: pyproj.CRS = UTM) -> tuple[np.ndarray, np.ndarray]:
    """Every household's walk (by code) from pgRouting in the database and from gridmap's scipy path,
    both read from what the store holds."""
    with psycopg.connect(store.url.replace("+psycopg", "")) as conn:
        routed, _ = walk_in_database(conn, int(crs.to_epsg()))
    households = store.read("households").sort_values("code", ignore_index=True)
    network = build_network(store.read("roads"), crs)
    sites = snap(network, metric_xy(store.read("service_points"), crs))
    scipy = walk_to_nearest(network, snap(network, metric_xy(households, crs)), sites).metres
    assert sorted(routed["code"]) == households["code"].tolist()
    return routed.set_index("code")["metres"].reindex(households["code"]).to_numpy(), scipy


def known(store: Store, expected: list[float]) -> None:
    routed, scipy = both(store)
    assert routed == pytest.approx(expected, abs=TOLERANCE_M, nan_ok=True)
    assert scipy == pytest.approx(expected, abs=TOLERANCE_M, nan_ok=True)


# The river of tests/test_walking.py: banks at y = ±100, one bridge at x = 500, and a railway over
# the river at x = 0 that meets neither road.
RIVER = [
    [(-1000, 100), (500, 100), (1000, 100)],
    [(-1000, -100), (500, -100), (1000, -100)],
    [(500, 100), (500, -100)],
    [(0, 150), (0, -150)],
]


def test_a_river_with_one_bridge(store: Store) -> None:
    # 200 m as the crow flies, 1,200 m on foot; from beside the railway (on it, 40 m off the bank
    # road) the railway is no way across: it is not part of the network walked.
    put(store, RIVER, [(0, 100), (0, 140)], [(0, -100)])
    known(store, [1200.0, 1240.0])


def test_snapping_beside_the_middle_of_a_long_segment(store: Store) -> None:
    # 30 m to the road, 1,000 m along it, 20 m to the service point (the nearest node is 1,000 m
    # away); and off the middle, 1,500 m along.
    put(store, [[(0, 0), (2000, 0)]], [(1000, 30), (1500, -30)], [(0, -20)])
    known(store, [1050.0, 1550.0])


def test_two_points_on_one_segment_walk_along_it(store: Store) -> None:
    put(store, [[(0, 0), (1000, 0)]], [(600, -10), (400, 10)], [(400, 10)])
    known(store, [220.0, 20.0])


def test_the_nearest_of_several_facilities_and_the_cut_off(store: Store) -> None:
    put(
        store,
        [[(0, 0), (1000, 0), (3000, 0), (6000, 0)]],
        [(900, 0), (2900, 5), (5900, 0)],
        [(0, 0), (3000, 0)],
    )
    known(store, [900.0, 105.0, np.nan])  # 2,900 m on foot: beyond the 2,000 m cut-off


def test_unreachable_pieces_are_left_out(store: Store) -> None:
    # An island path 500 m north and a stub 500 m east of the main road's end: households beside
    # them walk straight to the main road; from 4 km away the leg alone is beyond the cut-off.
    put(
        store,
        [[(0, 0), (1000, 0)], [(0, 500), (100, 500)], [(1500, 0), (1500, 50)]],
        [(50, 500), (1500, 25), (5000, 0)],
        [(0, 0)],
    )
    known(store, [550.0, 1000.0 + float(np.hypot(500, 25)), np.nan])


def test_roads_that_are_not_walkable_are_left_out(store: Store) -> None:
    put(store, [[(0, 0), (100, 0)], [(100, 0), (200, 0)]], [(200, 0)], [(0, 0)], walkable=[True, False])
    known(store, [200.0])  # 100 m along the road, then 100 m straight to the end of the closed one


@pytest.mark.slow  # a whole district into PostGIS and analysed: `make test`, not the fast lane
def test_a_district_with_one_bridge_gives_the_same_shares(store: Store) -> None:
    frames = generate()
    roads = frames["roads"]
    bridges = roads[roads["kind"] == "bridge"]["code"].tolist()
    frames["roads"] = roads[~roads["code"].isin(bridges[1:])]  # the river keeps its first bridge only
    store.replace_many(frames)
    inputs = read_inputs(store)
    analysis = analyze(inputs)
    metric = projections(inputs).analysis
    routed, scipy = both(store, metric)
    households = analysis.households.set_index("code")
    codes = sorted(households.index)
    gridmap = households["service_walk_m"].astype(float).reindex(codes).to_numpy()
    np.testing.assert_allclose(routed, gridmap, rtol=0, atol=TOLERANCE_M)
    np.testing.assert_allclose(scipy, gridmap, rtol=0, atol=TOLERANCE_M)
    # The river matters: households within 300 m of a service point as the crow flies, beyond
    # 1,000 m on foot.
    straight = _straight_to_nearest(inputs, metric)
    assert ((straight <= 300) & ~(routed <= 1000)).sum() > 0
    # Per grid, the households and buildings within each circle by the database's distances (its
    # buildings walking from ST_PointOnSurface) are the analysis' counts, and so are the shares.
    epsg = int(metric.to_epsg())
    with psycopg.connect(store.url.replace("+psycopg", "")) as conn:
        by_building, _ = walk_in_database(conn, epsg, walkers="buildings")
        per_grid = {
            "households": _within_per_grid(
                conn, "households", pd.DataFrame({"code": codes, "metres": routed})
            ),
            "buildings": _within_per_grid(conn, "buildings", by_building),
        }
    grids = analysis.grids.set_index("code")
    for _, metres in LIFE_CIRCLES:
        for unit, column in (("households", "share"), ("buildings", "building_share")):
            counted = per_grid[unit][metres].reindex(grids.index, fill_value=0)
            np.testing.assert_array_equal(counted.to_numpy(), grids[f"walk_{metres}_{unit}"].to_numpy())
            share = counted / per_grid[unit]["all"].reindex(grids.index)
            np.testing.assert_array_equal(share.to_numpy(), grids[f"walk_{metres}_{column}"].to_numpy(float))
            assert 0 < share.mean() < 1


def _within_per_grid(conn: psycopg.Connection, layer: str, walks: pd.DataFrame) -> pd.DataFrame:
    """Per grid (the store's `grid_code`) how many of `layer` in all and within each circle."""
    query = sql.SQL("SELECT code, grid_code FROM {}").format(sql.Identifier(layer))
    grid_of = dict(conn.execute(query).fetchall())
    frame = walks.assign(grid=walks["code"].map(grid_of))
    counts = {"all": frame.groupby("grid").size()}
    for _, metres in LIFE_CIRCLES:
        counts[metres] = frame[frame["metres"] <= metres].groupby("grid").size()
    return pd.DataFrame(counts).fillna(0).astype(int)


def _straight_to_nearest(inputs: dict[str, gpd.GeoDataFrame], crs: pyproj.CRS) -> np.ndarray:
    """Each household's straight-line distance (by code) to its nearest service point."""
    households = inputs["households"].sort_values("code", ignore_index=True)
    homes = metric_xy(households, crs)
    sites = metric_xy(inputs["service_points"], crs)
    return np.sqrt(((homes[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
