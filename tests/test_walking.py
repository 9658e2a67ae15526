"""Walking distance on the road network: known answers on hand-drawn roads (metres, UTM 50N)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap import walking
from gridmap.walking import (
    MOST_MOVED,
    SNAP_CHUNK,
    Network,
    PointSnaps,
    build_network,
    node_distances,
    reachable_lines,
    snap,
    sources,
    walk_to_nearest,
)

UTM = pyproj.CRS.from_epsg(32650)


def roads(*lines: list[tuple[float, float]], walkable: list[bool] | None = None) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"code": [f"R{i}" for i in range(len(lines))]},
        geometry=[shapely.LineString(line) for line in lines],
        crs=UTM,
    )
    if walkable is not None:
        frame["walkable"] = walkable
    return frame


def walk(
    network_roads: gpd.GeoDataFrame, points: list[tuple[float, float]], sites: list[tuple[float, float]]
):
    network = build_network(network_roads, UTM)
    return walk_to_nearest(
        network, snap(network, np.array(points, float)), snap(network, np.array(sites, float))
    )


# A river between y = -100 and y = 100, one road on each bank, one bridge at x = 500, and a
# railway over the river at x = 0 that meets neither road (its crossings are not junctions).
RIVER = roads(
    [(-1000, 100), (500, 100), (1000, 100)],
    [(-1000, -100), (500, -100), (1000, -100)],
    [(500, 100), (500, -100)],
    [(0, 150), (0, -150)],
)


def test_a_river_with_one_bridge() -> None:
    reach = walk(RIVER, [(0, 100)], [(0, -100)])
    # 200 m as the crow flies, 500 m to the bridge, 200 m over it and 500 m back: 1,200 m.
    assert reach.metres[0] == pytest.approx(1200.0)
    assert reach.facility[0] == 0
    assert not reach.metres[0] <= 500  # outside the 10-minute circle


def test_lines_crossing_without_a_shared_vertex_are_not_joined() -> None:
    network = build_network(RIVER, UTM)
    assert network.length_m == pytest.approx(4200.0)
    assert [(p.segments, p.length_m) for p in network.pieces] == [(1, pytest.approx(300.0))]


def test_snapping_beside_the_middle_of_a_long_segment() -> None:
    long_road = roads([(0, 0), (2000, 0)])
    reach = walk(long_road, [(1000, 30)], [(0, -20)])
    # 30 m to the road, 1,000 m along it, 20 m to the service point; the nearest node is 1,000 m away.
    assert reach.metres[0] == pytest.approx(1050.0)


def test_two_points_on_one_segment_walk_along_it() -> None:
    reach = walk(roads([(0, 0), (1000, 0)]), [(600, -10)], [(400, 10)])
    assert reach.metres[0] == pytest.approx(220.0)


def test_the_nearest_of_several_facilities_and_the_cut_off() -> None:
    line = roads([(0, 0), (1000, 0), (3000, 0), (6000, 0)])
    network = build_network(line, UTM)
    points = snap(network, np.array([[900.0, 0], [2900, 5], [5900, 0]]))
    sites = snap(network, np.array([[0.0, 0], [3000, 0]]))
    reach = walk_to_nearest(network, points, sites, cutoff_m=2000.0)
    assert reach.metres[:2] == pytest.approx([900.0, 105.0])
    assert reach.facility.tolist() == [0, 1, -1]
    assert np.isnan(reach.metres[2])  # 2,900 m on foot: beyond the 2,000 m cut-off


def test_unreachable_pieces_are_left_out_and_reported() -> None:
    main = [(0, 0), (1000, 0)]
    island = [(0, 500), (100, 500)]  # a path of its own, 500 m north
    network = build_network(roads(main, island, [(5000, 0), (5000, 50)]), UTM)
    assert network.segments == 1
    assert [(p.segments, round(p.length_m)) for p in network.pieces] == [(1, 100), (1, 50)]
    # A household beside the island walks to the main network: its leg is 500 m.
    reach = walk_to_nearest(
        network, snap(network, np.array([[50.0, 500]])), snap(network, np.array([[0.0, 0]]))
    )
    assert reach.metres[0] == pytest.approx(550.0)


def test_roads_that_are_not_walkable_are_left_out() -> None:
    network = build_network(roads([(0, 0), (100, 0)], [(100, 0), (200, 0)], walkable=[True, False]), UTM)
    assert network.length_m == pytest.approx(100.0)


def test_points_without_a_location_reach_nothing() -> None:
    reach = walk(roads([(0, 0), (100, 0)]), [(np.nan, np.nan), (50, 0)], [(0, 0)])
    assert np.isnan(reach.metres[0]) and reach.facility[0] == -1
    assert reach.metres[1] == pytest.approx(50.0)


def test_reachable_lines_follow_the_network() -> None:
    network = build_network(RIVER, UTM)
    sites = snap(network, np.array([[0.0, -100]]))
    band = shapely.union_all(reachable_lines(network, sites, 600.0))
    # Along the south bank 600 m each way, 100 m up the bridge; nothing of the north bank.
    assert band.length == pytest.approx(1200.0 + 100.0)
    assert not band.intersects(shapely.Point(0, 100))


@pytest.mark.parametrize("chunk", [SNAP_CHUNK, 777])
def test_snapping_finds_the_nearest_segment_exactly(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact, whether the points are snapped at once or in parts (with a NaN point at a part's edge)."""
    monkeypatch.setattr(walking, "SNAP_CHUNK", chunk)
    rng = np.random.default_rng(7)
    # A jittered lattice of roads (segments of 20–400 m) and points anywhere among and beyond them.
    xs, ys = np.cumsum(rng.uniform(20, 400, 12)), np.cumsum(rng.uniform(20, 400, 9))
    lines = [[(x, ys[0]), (x, ys[-1])] for x in xs] + [[(xs[0], y), (xs[-1], y)] for y in ys]
    lines += [[(xs[0], ys[0]), (xs[-1], ys[-1])]]
    network = build_network(roads(*lines), UTM)
    points = rng.uniform([xs[0] - 500, ys[0] - 500], [xs[-1] + 500, ys[-1] + 500], (5000, 2))
    got = snap(network, np.insert(points, 777, np.nan, axis=0))
    assert got.segment[777] == -1 and np.isnan(got.leg[777])
    got = type(got)(*(np.delete(column, 777) for column in (got.segment, got.along, got.leg)))
    segments = shapely.linestrings(np.stack([network.start, network.end], axis=1))
    _, exact = shapely.STRtree(segments).query_nearest(
        shapely.points(points), return_distance=True, all_matches=False
    )
    assert got.leg == pytest.approx(exact, abs=1e-9)
    assert shapely.distance(segments[got.segment], shapely.points(points)) == pytest.approx(exact, abs=1e-9)


def test_kept_snaps_equal_snapping_and_snap_each_place_once(monkeypatch: pytest.MonkeyPatch) -> None:
    network = build_network(RIVER, UTM)
    asked: list[int] = []
    real = walking.snap
    monkeypatch.setattr(walking, "snap", lambda net, xy: asked.append(len(xy)) or real(net, xy))
    kept = PointSnaps(network)
    homes = np.array([[0.0, 120], [0, 120], [600, -90], [np.nan, np.nan], [990, 80]])
    first = kept.snap(homes)
    assert asked == [3]  # the two at one place snapped once, the one without a place not at all
    want = real(network, homes)
    for got, expected in ((first.segment, want.segment), (first.along, want.along), (first.leg, want.leg)):
        np.testing.assert_array_equal(got, expected)
    again = kept.snap(homes[[4, 2, 0]])
    assert asked == [3]  # all known: nothing snapped
    np.testing.assert_array_equal(again.leg, want.leg[[4, 2, 0]])
    moved = kept.snap(np.array([[600.0, -90], [100, 90]]))
    assert asked == [3, 1] and len(kept) == 4  # only the new place
    assert moved.leg[1] == pytest.approx(10.0) and moved.along[1] == pytest.approx(1100.0)


def test_snaps_carried_to_edited_roads_equal_snapping_on_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second bridge at x = 300 splits both banks' roads there, and a lane runs north from the
    north road's east end: the points on the split segments, or as near a new segment as their own
    (10 m from the lane, 200 m from the road), are snapped again; the others keep their snap on the
    same segment, numbered anew; every snap equals one on the new network."""
    kept = PointSnaps(build_network(RIVER, UTM))
    homes = np.array([[0.0, 120], [290, 0], [300, -90], [990, 300], [990, 80], [510, 0], [700, -110]])
    kept.snap(homes)
    edited = roads(
        [(-1000, 100), (300, 100), (500, 100), (1000, 100)],
        [(-1000, -100), (300, -100), (500, -100), (1000, -100)],
        [(500, 100), (500, -100)],
        [(300, 100), (300, -100)],
        [(0, 150), (0, -150)],
        [(1000, 100), (1000, 400)],
    )
    after = build_network(edited, UTM)
    asked: list[int] = []
    real = walking.snap
    monkeypatch.setattr(walking, "snap", lambda net, xy: asked.append(len(xy)) or real(net, xy))
    got = kept.carried(after).snap(homes)
    assert asked == [4]  # the first four: their road split, or a new segment 10 m away
    want = real(after, homes)
    for a, b in ((got.segment, want.segment), (got.along, want.along), (got.leg, want.leg)):
        np.testing.assert_array_equal(a, b)
    assert got.leg[1] == pytest.approx(10.0) and got.leg[3] == pytest.approx(10.0)


def test_a_moved_facility_changes_the_nodes_around_it() -> None:
    # A straight road of 100 m segments from 0 to 3,000 m; facilities at 0 and 3,000 m, cut-off 1,050 m.
    network = build_network(roads([(float(x), 0.0) for x in range(0, 3001, 100)]), UTM)
    node_x = np.empty(network.nodes)
    node_x[network.u], node_x[network.v] = network.start[:, 0], network.end[:, 0]
    order = np.argsort(node_x)
    before = sources(network, np.array([[0.0, 0], [3000, 0]]), 1050.0)
    assert np.isinf(before.distance[order][11:20]).all()  # 1,100–1,900 m: beyond both
    moved = sources(network, np.array([[0.0, 0], [2000, 0]]), 1050.0, before)  # the second 1 km west
    x = np.arange(0, 3001, 100.0)
    np.testing.assert_allclose(moved.distance[order], np.minimum(x, np.abs(x - 2000)), atol=1e-6)
    nearest = moved.nearest[order].tolist()
    assert nearest[:10] == [0] * 10 and nearest[11:] == [1] * 20  # 1,000 m: as near to both


def _lattice(rng: np.random.Generator) -> Network:
    """A jittered street lattice with a diagonal, a river (no crossings at two rows) and a dead end."""
    xs, ys = np.cumsum(rng.uniform(60, 400, 9)), np.cumsum(rng.uniform(60, 400, 8))
    lines = [[(x, ys[0]), *((x, y) for y in ys[1:])] for x in xs[::2]]
    lines += [[(x, ys[0]), (x, ys[3])] for x in xs[1::2]] + [[(x, ys[4]), (x, ys[-1])] for x in xs[1::2]]
    lines += [[(xs[0], y), *((x, y) for x in xs[1:])] for y in ys]
    lines += [[(xs[0], ys[0]), (xs[-1], ys[-1])], [(xs[-1], ys[0]), (xs[-1] + 500, ys[0] - 300)]]
    return build_network(roads(*lines), UTM)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), edits=st.lists(st.integers(0, 5), min_size=1, max_size=6))
def test_facilities_moved_added_and_removed_equal_a_search_from_them_all(seed: int, edits: list[int]) -> None:
    rng = np.random.default_rng(seed)
    network = _lattice(rng)
    lo, hi = network.start.min(axis=0) - 200, network.start.max(axis=0) + 200
    homes = snap(network, rng.uniform(lo, hi, (400, 2)))
    at = rng.uniform(lo, hi, (int(rng.integers(1, 12)), 2))
    cutoff = float(rng.choice([300.0, 800.0, 2000.0]))
    state = sources(network, at, cutoff)
    for edit in edits:
        if edit <= 1 and len(at):  # moved a little or far
            i = int(rng.integers(len(at)))
            at = at.copy()
            at[i] += rng.normal(0, 60 if edit == 0 else 900, 2)
        elif edit == 2:  # added, sometimes on top of another
            new = (
                at[[int(rng.integers(len(at)))]]
                if len(at) and rng.random() < 0.3
                else rng.uniform(lo, hi, (1, 2))
            )
            at = np.insert(at, int(rng.integers(len(at) + 1)), new, axis=0)
        elif edit == 3 and len(at):  # removed
            at = np.delete(at, int(rng.integers(len(at))), axis=0)
        elif edit == 4:  # several at once, as a whole layer written again
            at = np.concatenate([at[rng.permutation(len(at))][1:], rng.uniform(lo, hi, (2, 2))])
        else:  # without a place
            at = np.concatenate([at, [[np.nan, np.nan]]])
        state = sources(network, at, cutoff, state)
        distance, nearest = node_distances(network, snap(network, at), cutoff)
        np.testing.assert_array_equal(state.distance, distance)
        # Facilities at one place are equally near: compare where they stand, not which row.
        np.testing.assert_array_equal(state.nearest >= 0, nearest >= 0)
        got, want = state.walk(homes), walk_to_nearest(network, homes, snap(network, at), cutoff)
        np.testing.assert_array_equal(got.metres, want.metres)
        np.testing.assert_array_equal(got.facility >= 0, want.facility >= 0)
        if len(at):  # none left: nothing is near
            np.testing.assert_array_equal(at[np.maximum(state.nearest, 0)], at[np.maximum(nearest, 0)])
            np.testing.assert_array_equal(at[np.maximum(got.facility, 0)], at[np.maximum(want.facility, 0)])


def test_many_facilities_changed_at_once_are_searched_again_whole() -> None:
    line = roads([(0.0, 0.0), (5000.0, 0.0)])
    network = build_network(line, UTM)
    before = sources(network, np.column_stack([np.arange(100.0) * 50, np.zeros(100)]), 500.0)
    shifted = np.column_stack([np.arange(100.0) * 50 + 1, np.zeros(100)])  # every one moved 1 m
    assert MOST_MOVED < 2 * 100
    after = sources(network, shifted, 500.0, before)
    np.testing.assert_array_equal(after.distance, node_distances(network, snap(network, shifted), 500.0)[0])
