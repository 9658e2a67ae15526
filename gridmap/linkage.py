"""一户十联 linkage: each party-member center household looks after up to N households of its own grid.

The rule, precisely. Within each grid, take every pair (center household,
other household) in order of distance, shortest first; link the pair when the
center still has quota (fewer than N links) and the household is not yet
linked. This is the greedy by distance: nearest first for both sides, each
household linked at most once, a center never over quota. Pairs at exactly
the same distance (households geocoded to one building share a point) go
by code, the center's first, then the household's, so a grid's links depend
on its own households alone: a street, a county or the whole city analysed,
in any row order, gives each grid the same links. A center household
is linked to itself and is never linked to another center; households outside
any grid are never linked.

Computing it pair by pair would loop over millions of pairs in Python, so it
runs in vectorised rounds that give exactly the same links: in each round a
pair (c, h) is linked when c is h's nearest center with quota left and h is
among c's q nearest unlinked households (q = c's remaining quota). Every such
pair is one the greedy would take, whatever else happens, and the shortest
remaining pair always qualifies, so rounds continue until no center with quota
shares a grid with an unlinked household. Grids are kept apart in one KD-tree
by shifting each grid's coordinates by a span larger than the whole layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.spatial import cKDTree

from gridmap.arrays import BoolArray, FloatArray, IntArray
from gridmap.assignment import codes_at

DEFAULT_QUOTA = 10


@dataclass(frozen=True)
class LinkageResult:
    """The links of every household, and how far each center household is from its quota.

    `linked_to`: code of the center household each household is linked to
    (a center to itself; null when unlinked), aligned with the input rows.
    `centers`: one row per center household: `code, grid_code, linked, quota, missing`
    (`missing` = quota − linked; a center is under quota when it is > 0), and
    `center_rows` their row positions in the input.
    """

    linked_to: pd.Series
    centers: pd.DataFrame
    center_rows: IntArray

    @property
    def unlinked(self) -> pd.Series:
        """Positions of households in a grid but linked to no center."""
        return pd.Series(np.flatnonzero(self.linked_to.isna().to_numpy()))

    @property
    def under_quota(self) -> pd.DataFrame:
        """Center households with fewer links than their quota."""
        return self.centers[self.centers["missing"] > 0].reset_index(drop=True)


def greedy_links(
    xy: FloatArray,
    group: IntArray,
    is_center: BoolArray,
    quota: int = DEFAULT_QUOTA,
    names: object = None,
) -> IntArray:
    """Position of the center each household is linked to (itself for a center, -1 for none).

    `xy`: n × 2 metric coordinates; `group`: grid number of each household
    (-1 outside any grid); `is_center`: center households. Pairs at exactly the
    same distance go by `names` (the codes; by row without them): the center's
    first, then the household's, so a grid's links depend on that grid alone,
    never on what else is analysed or in which order the rows come.
    """
    n = len(xy)
    partner = np.full(n, -1, dtype=np.intp)
    centers = np.flatnonzero(is_center)
    partner[centers] = centers
    usable = (group >= 0) & np.isfinite(xy).all(axis=1)
    c_all = np.flatnonzero(is_center & usable)
    h_all = np.flatnonzero(~is_center & usable)
    if c_all.size == 0 or h_all.size == 0 or quota <= 0:
        return partner
    space = _Space(xy, group, usable, names)
    left = np.zeros(n, dtype=np.intp)
    left[c_all] = quota
    free = np.zeros(n, dtype=bool)
    free[h_all] = True
    pool = h_all
    households = cKDTree(space.shifted[pool])
    reach = np.full(n, 2 * quota, dtype=np.intp)  # neighbours each center asks for; grows with linking
    while True:
        has_free = np.zeros(int(group.max()) + 1, dtype=bool)
        has_free[group[h_all[free[h_all]]]] = True
        cs = c_all[(left[c_all] > 0) & has_free[group[c_all]]]
        if cs.size == 0:
            return partner
        if 2 * np.count_nonzero(free[pool]) < pool.size:
            # Most of the tree is linked by now: rebuild it on the free households of open grids.
            pool = h_all[free[h_all] & np.isin(group[h_all], group[cs])]
            households = cKDTree(space.shifted[pool])
            reach[:] = 2 * quota
        pair_c, pair_h, pair_d = _offers(households, pool, space, cs, left, reach, free)
        if pair_c.size == 0:
            return partner
        # A household accepts the offer of its nearest center with quota (its own grid: others are far).
        offered, inverse = np.unique(pair_h, return_inverse=True)
        take = _nearest_centers(space, cs, offered)[inverse] == pair_c
        if not take.any():  # cannot happen: the first pair in (distance, center, household) order qualifies
            take[np.lexsort((pair_h, pair_c, pair_d))[0]] = True
        chosen_h, chosen_c = pair_h[take], pair_c[take]
        partner[chosen_h] = chosen_c
        free[chosen_h] = False
        np.subtract.at(left, chosen_c, 1)


class _Space:
    """Households placed for KD-trees (each group shifted far from the others) and measured exactly.

    The trees only find candidates: their distances carry the rounding of the
    shift, so the order of a pair is always its distance from the original
    coordinates, and a search goes on until nothing within `slack` of its last
    pick can be missing. Exact ties go by `names` (codes) when given, else by row.
    """

    def __init__(self, xy: FloatArray, group: IntArray, usable: BoolArray, names: object) -> None:
        self.xy, self.group, self.names = xy, group, names
        self.shifted, self.span = _separate_groups(xy, group, usable)
        self.slack = 64 * float(np.spacing(float(np.abs(self.shifted).max()) + self.span)) + 1e-9
        self._ranks: IntArray | None = None

    def distance(self, a: IntArray, b: IntArray) -> FloatArray:
        """The exact distance between rows `a` and `b` (pairwise), the same whatever else is analysed."""
        d = self.xy[a] - self.xy[b]
        return np.hypot(d[..., 0], d[..., 1])

    def rank(self, rows: IntArray) -> IntArray:
        """Each row's place in tie order; the codes are ranked (one sort) only once a tie needs them."""
        if self.names is None:
            return rows
        if self._ranks is None:
            text = pa.array(self.names, type=pa.large_string())
            ranked = pc.rank(text, sort_keys="ascending", tiebreaker="first")
            self._ranks = np.asarray(ranked, dtype=np.intp)
        return self._ranks[rows]


def _offers(
    households: cKDTree,
    h_all: IntArray,
    space: _Space,
    cs: IntArray,
    left: IntArray,
    reach: IntArray,
    free: BoolArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Each center's `left` nearest free households of its grid: (center, household, distance).

    The tree holds households linked or not, so a center that saw too few free
    ones, or whose last pick ties with a neighbour it has not seen, asks again
    for twice as many neighbours (and keeps that number for later rounds) until
    it has enough or has seen its whole grid. Among what it saw, its picks are
    the nearest by exact distance, then the first listed.
    """
    out_c, out_h, out_d = [], [], []
    todo = cs
    group = space.group
    while todo.size:
        ks = np.minimum(reach[todo], households.n)
        again = []
        for k in np.unique(ks):
            batch = todo[ks == k]
            dist, idx = households.query(
                space.shifted[batch], k=int(k), distance_upper_bound=space.span / 2, workers=-1
            )
            dist, idx = dist.reshape(batch.size, k), idx.reshape(batch.size, k)
            found = idx < households.n
            member = np.where(found, h_all[np.minimum(idx, households.n - 1)], -1)
            ok = found & free[member] & (group[member] == group[batch][:, None])
            rank = np.cumsum(ok, axis=1)
            enough = rank[:, -1] >= left[batch]
            # The tree's distance of the last pick it would make: a neighbour past the end of the
            # query must be farther than that by more than the rounding, or it may belong in.
            pick = np.where(ok & (rank == left[batch][:, None]), dist, np.inf).min(axis=1)
            clear = dist[:, -1] > pick + space.slack
            done = (enough & clear) | ~found[:, -1] | (k >= households.n)
            rows, cols = np.nonzero(ok & done[:, None])  # by center, each in the tree's order
            c, h, d = batch[rows], member[rows, cols], dist[rows, cols]
            _exact_order(space, rows, c, h, d)
            first = np.flatnonzero(np.diff(rows, prepend=-1))
            nth = np.arange(rows.size) - np.repeat(first, np.diff(np.r_[first, rows.size]))
            keep = nth < left[c]
            out_c.append(c[keep])
            out_h.append(h[keep])
            out_d.append(d[keep])
            again.append(batch[~done])
        todo = np.concatenate(again)
        reach[todo] *= 2
    return np.concatenate(out_c), np.concatenate(out_h), np.concatenate(out_d)


def _exact_order(space: _Space, rows: IntArray, c: IntArray, h: IntArray, d: FloatArray) -> None:
    """Put each row's pairs (c, h) in exact-distance order, then household order, in place.

    They come in the tree's order, which only near-ties (within the rounding) can
    get wrong: rows holding one are measured exactly and sorted; `d` becomes exact there.
    """
    close = (rows[1:] == rows[:-1]) & (d[1:] - d[:-1] <= space.slack)
    if not close.any():
        return
    where = np.flatnonzero(np.isin(rows, rows[1:][close]))
    exact = space.distance(c[where], h[where])
    order = _tie_order(space, rows[where], exact, h[where])
    c[where], h[where], d[where] = c[where][order], h[where][order], exact[order]


def _tie_order(space: _Space, first: IntArray, d: FloatArray, rows: IntArray) -> IntArray:
    """The order by `first`, then exact distance `d`, then `rows` in tie order (ranked only on a tie)."""
    order = np.lexsort((rows, d, first))
    f, e = first[order], d[order]
    if space.names is None or not ((f[1:] == f[:-1]) & (e[1:] == e[:-1])).any():
        return order
    return np.lexsort((space.rank(rows), d, first))


def _nearest_centers(space: _Space, cs: IntArray, households: IntArray) -> IntArray:
    """For each household, the nearest of the centers `cs` (exact distance, then the first listed).

    Every household here has a center of its own grid among `cs`; other grids are far away.
    """
    tree = cKDTree(space.shifted[cs])
    out = np.empty(households.size, dtype=np.intp)
    todo, k = np.arange(households.size), 2
    while todo.size:
        kk = min(k, cs.size)
        dist, idx = tree.query(space.shifted[households[todo]], k=kk, workers=-1)
        dist, idx = dist.reshape(todo.size, kk), idx.reshape(todo.size, kk)
        within = dist <= dist[:, :1] + 2 * space.slack  # may be the nearest, the rounding aside
        clear = ~within[:, -1] | (kk >= cs.size)
        alone = clear & ~within[:, 1] if kk > 1 else clear
        out[todo[alone]] = cs[idx[alone, 0]]
        rows, cols = np.nonzero((clear & ~alone)[:, None] & within)
        c, h = cs[idx[rows, cols]], todo[rows]
        order = _tie_order(space, h, space.distance(c, households[h]), c)
        h, c = h[order], c[order]
        first = np.diff(h, prepend=-1) != 0
        out[h[first]] = c[first]
        todo, k = todo[~clear], k * 2
    return out


def _separate_groups(xy: FloatArray, group: IntArray, usable: BoolArray) -> tuple[FloatArray, float]:
    """Coordinates with each group moved `span` further along x, so no two groups are ever near."""
    pts = xy[usable]
    lo = pts.min(axis=0)
    span = float((pts.max(axis=0) - lo).max()) * 4.0 + 1000.0
    out = np.zeros_like(xy)
    out[usable] = pts - lo
    out[usable, 0] += group[usable] * span
    return out, span


def link_households(
    codes: pd.Series,
    grid_codes: pd.Series,
    xy: FloatArray,
    is_center: BoolArray,
    quota: int = DEFAULT_QUOTA,
) -> LinkageResult:
    """一户十联 links for households given by code, grid code, metric coordinates and center flag."""
    codes = pd.Series(codes).astype("string").reset_index(drop=True)
    grid = pd.Series(grid_codes).astype("string").reset_index(drop=True)
    group, _ = pd.factorize(grid, use_na_sentinel=True)
    partner = greedy_links(xy, np.asarray(group, dtype=np.intp), is_center, quota, codes.array)
    centers = np.flatnonzero(is_center)
    links = np.bincount(partner[partner >= 0], minlength=len(codes))[centers] - 1  # minus the self-link
    table = pd.DataFrame(
        {
            "code": codes.iloc[centers].to_numpy(),
            "grid_code": grid.iloc[centers].to_numpy(),
            "linked": links.astype(np.int64),
            "quota": np.full(centers.size, quota, dtype=np.int64),
        }
    ).astype({"code": "string", "grid_code": "string"})
    table["missing"] = table["quota"] - table["linked"]
    return LinkageResult(linked_to=pd.Series(codes_at(codes, partner)), centers=table, center_rows=centers)
