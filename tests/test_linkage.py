"""一户十联 linkage: greedy by distance within each grid, quotas, nearest first, at most once."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.linkage import greedy_links, link_households


def links(xy: list[tuple[float, float]], group: list[int], center: list[bool], quota: int) -> list[int]:
    return greedy_links(np.array(xy, dtype=float), np.array(group), np.array(center), quota).tolist()


def test_center_links_its_nearest_households_up_to_quota() -> None:
    #            center     3 away    1 away    2 away
    got = links([(0, 0), (3, 0), (1, 0), (0, 2)], [0, 0, 0, 0], [True, False, False, False], quota=2)
    assert got == [0, -1, 0, 0]


def test_pairs_are_taken_in_global_distance_order() -> None:
    # C1 (x=0) and C2 (x=10), one link each. H1 (x=1) is nearest C1; H2 (x=2) is also nearest C1 but
    # comes later, finds C1 full and goes to C2: each household at most once, no center over quota.
    got = links([(0, 0), (10, 0), (1, 0), (2, 0)], [0, 0, 0, 0], [True, True, False, False], quota=1)
    assert got == [0, 1, 0, 1]


def test_only_households_of_the_same_grid_are_linked() -> None:
    # H (grid 1) is right beside the center of grid 0 but its own grid has no center.
    got = links([(0, 0), (0.5, 0), (50, 0)], [0, 1, 0], [True, False, False], quota=10)
    assert got == [0, -1, 0]


def test_centers_link_to_themselves_and_never_to_each_other() -> None:
    got = links([(0, 0), (1, 0)], [0, 0], [True, True], quota=10)
    assert got == [0, 1]


def test_households_outside_any_grid_are_not_linked() -> None:
    got = links([(0, 0), (1, 0), (2, 0)], [0, -1, 0], [True, False, False], quota=10)
    assert got == [0, -1, 0]


def test_default_quota_is_ten() -> None:
    xy = [(0.0, 0.0)] + [(float(i), 0.0) for i in range(1, 16)]
    result = link_households(
        [f"h{i:02d}" for i in range(16)],
        pd.Series(["G"] * 16, dtype="string"),
        np.array(xy),
        np.array([True] + [False] * 15),
    )
    assert result.linked_to.notna().sum() == 11  # the center itself and its ten nearest
    assert result.linked_to.iloc[10] == "h00" and pd.isna(result.linked_to.iloc[11])
    assert result.centers.to_dict("records") == [
        {"code": "h00", "grid_code": "G", "linked": 10, "quota": 10, "missing": 0}
    ]
    assert result.unlinked.tolist() == [11, 12, 13, 14, 15]


def test_centers_under_quota_are_reported() -> None:
    result = link_households(
        ["a", "b", "c", "d"],
        pd.Series(["G1", "G1", "G2", None], dtype="string"),
        np.array([(0.0, 0.0), (1.0, 0.0), (100.0, 0.0), (2.0, 0.0)]),
        np.array([True, False, True, False]),
        quota=3,
    )
    assert result.linked_to.tolist() == ["a", "a", "c", pd.NA]
    assert result.under_quota[["code", "linked", "missing"]].to_dict("records") == [
        {"code": "a", "linked": 1, "missing": 2},
        {"code": "c", "linked": 0, "missing": 3},
    ]


def brute_force(xy: np.ndarray, group: np.ndarray, center: np.ndarray, quota: int) -> np.ndarray:
    """The rule as written: every (center, household) pair of a grid by distance, shortest first."""
    partner = np.full(len(xy), -1)
    partner[center] = np.flatnonzero(center)
    pairs = sorted(
        (float(np.hypot(*(xy[c] - xy[h]))), c, h)
        for c in np.flatnonzero(center & (group >= 0))
        for h in np.flatnonzero(~center & (group == group[c]))
    )
    left = dict.fromkeys(np.flatnonzero(center).tolist(), quota)
    for _, c, h in pairs:
        if left[c] > 0 and partner[h] < 0:
            partner[h], left[c] = c, left[c] - 1
    return partner


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 120), st.integers(1, 6), st.floats(0.02, 0.6))
def test_vectorised_rounds_equal_the_greedy_by_distance(
    seed: int, n: int, quota: int, centers: float
) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    group = rng.integers(-1, 4, n)
    center = rng.random(n) < centers
    got = greedy_links(xy, group, center, quota)
    assert (got == brute_force(xy, group, center, quota)).all()
    linked = got[~center & (got >= 0)]
    assert (np.bincount(linked, minlength=n) <= quota).all()  # no center over quota
    assert (group[linked] == group[~center & (got >= 0)]).all()  # same grid


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 150), st.integers(1, 6), st.integers(1, 4))
def test_ties_go_in_row_order_as_the_greedy_takes_them(seed: int, n: int, quota: int, spots: int) -> None:
    """Households geocoded to their building share a point: many pairs at exactly the same distance."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, spots, (n, 2)).astype(float) * 7.5 + 1_000_000.0
    group = rng.integers(-1, 3, n)
    center = rng.random(n) < 0.2
    assert (greedy_links(xy, group, center, quota) == brute_force(xy, group, center, quota)).all()


def test_a_grids_links_do_not_depend_on_the_other_grids() -> None:
    """Analysed alone (a street, a county) or with a whole city, a grid links the same households."""
    rng = np.random.default_rng(7)
    n = 4000
    buildings = rng.uniform(0, 40_000, (300, 2)) + np.array([500_000.0, 3_300_000.0])
    xy = buildings[rng.integers(0, len(buildings), n)]  # each household at its building's point
    group = ((xy[:, 0] - 500_000.0) // 2_000).astype(np.intp)  # 20 strip-shaped grids
    center = rng.random(n) < 0.05
    whole = greedy_links(xy, group, center, 10)
    for g in (0, 7, 19):
        mine = np.flatnonzero(group == g)
        alone = greedy_links(xy[mine], np.zeros(mine.size, dtype=np.intp), center[mine], 10)
        assert (np.where(alone >= 0, mine[np.maximum(alone, 0)], -1) == whole[mine]).all()


def test_ties_go_by_code_whatever_the_row_order() -> None:
    """Three households at one point, one center with room for two: the two first codes are linked."""
    codes = ["H3", "H1", "C1", "H2"]
    grid = pd.Series(["G"] * 4, dtype="string")
    xy = np.array([(5.0, 0.0), (5.0, 0.0), (0.0, 0.0), (5.0, 0.0)])
    center = np.array([False, False, True, False])
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        result = link_households([codes[i] for i in order], grid, xy[order], center[order], quota=2)
        linked = dict(zip([codes[i] for i in order], result.linked_to, strict=True))
        assert linked == {"H1": "C1", "H2": "C1", "H3": pd.NA, "C1": "C1"}
