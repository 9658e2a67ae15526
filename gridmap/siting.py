"""Where to put the next k speakers or service points (maximal covering location problem).

Demand is the households that no existing site covers yet (for speakers only
`working` ones count). Each candidate point covers the demand within the new
sites' radius; we pick k candidates covering the most uncovered households.

Two solvers share one sparse coverage matrix (candidates × demand points,
built with a k-d tree in metres):
- exact: a MIP (max Σ w·y, y_j ≤ Σ x_i over candidates i covering j,
  Σ x ≤ k) solved by HiGHS through `scipy.optimize.milp`, in-process and fed
  the sparse matrix directly; used when the matrix, after merging demand
  points covered by the same candidates, has at most `exact_limit` entries;
- greedy: lazy greedy (a priority queue of stale gains, recomputed only when
  a candidate reaches the top), which covers at least 1 − 1/e of the
  optimum, followed by 1-swap local search (swap a chosen site for a better
  candidate while any swap gains), which closes most of the remaining gap.
For large problems households are aggregated to their building's point.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from gridmap.arrays import BoolArray, FloatArray
from gridmap.arrays import Int64Array as IntArray
from gridmap.catalogue import get_layer
from gridmap.coverage import CoverageOptions, metric_xy, service_coverage, speaker_coverage
from gridmap.crs import metric_crs
from gridmap.errors import CRSError, NotFoundError
from gridmap.frames import WGS84
from gridmap.texts import Message
from gridmap.walking import Network, build_network, snap, walk_matrix, walk_to_nearest

SiteKind = Literal["speakers", "service_points"]
SITE_KINDS: tuple[str, ...] = ("speakers", "service_points")

AGGREGATE_ABOVE = 20_000
"""Uncovered households above which demand is aggregated to building points."""

EXACT_LIMIT = 250_000
"""Largest coverage matrix (non-zero entries after reduction) given to the exact solver."""

_CHUNK = 4096


@dataclass(frozen=True)
class SitingResult:
    """Proposed sites in the order they add coverage, and how the answer was found.

    `sites` (EPSG:4326): rank, code and label (the candidate's, the label
    being its address or name when it has one), gain (households newly
    covered by this site given the ones before it), covered_after,
    share_after, radius_m, geometry. Gains add up to `newly_covered`.
    """

    kind: str
    k: int
    radius_m: float
    method: Literal["exact", "greedy"]
    exact_status: str
    demand: Literal["households", "buildings"]
    sites: gpd.GeoDataFrame
    total_households: int
    covered_before: int
    candidates: int
    demand_points: int
    greedy_total: int
    exact_total: int | None
    seconds: float
    walking: bool = False
    """Whether reach was walked along the roads (`gridmap.walking`) rather than measured straight."""

    @property
    def newly_covered(self) -> int:
        return int(self.sites["gain"].sum())

    @property
    def covered_after(self) -> int:
        return self.covered_before + self.newly_covered

    @property
    def greedy_gap(self) -> float | None:
        """How far greedy fell short of the proven optimum (0.02 = 2 %); None without an optimum."""
        if self.exact_total is None:
            return None
        return 0.0 if self.exact_total == 0 else (self.exact_total - self.greedy_total) / self.exact_total


def site(
    frames: Mapping[str, gpd.GeoDataFrame],
    kind: SiteKind,
    k: int,
    candidates: gpd.GeoDataFrame | str | Path | None = None,
    *,
    radius_m: float | None = None,
    exact_limit: int = EXACT_LIMIT,
    time_limit_s: float = 20.0,
    aggregate: bool | None = None,
    coverage_options: CoverageOptions | None = None,
    roads: gpd.GeoDataFrame | None = None,
) -> SitingResult:
    """Propose up to `k` new `kind` sites maximising newly covered households.

    `frames` holds canonical layers (households, buildings and `kind`).
    Candidates default to building representative points; a frame or a file
    of points (or polygons, taken at their representative point) may be
    given. `radius_m` defaults to the layer's catalogue default; existing
    sites cover as in `gridmap.coverage` (working speakers only, acoustic
    range when power and sensitivity are known). Fewer than k
    sites come back when the rest would cover nobody new.

    With `roads` (service points only), reach is walked: a household counts
    as covered, now and by a candidate, when it lies within `radius_m` on foot
    (`gridmap.walking`; e.g. 500 m, the 10-minute life circle), existing
    service points kept where they are.
    """
    start = time.perf_counter()
    if kind not in SITE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SITE_KINDS)}, got {kind!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    radius = float(radius_m if radius_m is not None else cast(float, get_layer(kind).get("radius_m").default))
    if radius <= 0:
        raise ValueError(f"radius_m must be positive, got {radius}")
    households = _frame(frames, "households")
    households = households[~(households.geometry.isna() | households.geometry.is_empty)]
    metric = metric_crs(households)
    hh_xy = _xy(households.geometry, metric)
    walking = roads is not None and len(roads) > 0
    if walking and kind != "service_points":
        raise ValueError("walking reach is for service points; speakers are heard, not walked to")
    network = build_network(roads, metric) if walking and roads is not None else None
    if network is not None:
        covered = _walked_now(network, frames, hh_xy, metric, radius)
    else:
        covered = _covered_now(frames, kind, hh_xy, metric, coverage_options)

    buildings = frames.get("buildings")
    aggregate = bool((~covered).sum() > AGGREGATE_ABOVE) if aggregate is None else aggregate
    demand_xy, weight = _demand(households[~covered], hh_xy[~covered], buildings, metric, aggregate)
    cand = _candidates(candidates, buildings)
    cand_xy = _xy(cand.geometry, metric)

    if network is not None:
        matrix = walk_matrix(network, snap(network, cand_xy), snap(network, demand_xy), radius)
    else:
        matrix = _coverage_matrix(cand_xy, demand_xy, radius)
    useful = np.flatnonzero(np.diff(matrix.indptr) > 0)
    matrix = matrix[useful]
    greedy_rows, greedy_gains = _reorder(
        matrix, weight, _swap_improve(matrix, weight, _greedy(matrix, weight, k)[0])
    )
    method: Literal["exact", "greedy"] = "greedy"
    rows, gains = greedy_rows, greedy_gains
    exact_total = None
    reduced, reduced_weight, reduced_rows = _reduce(matrix, weight)
    if reduced.nnz > exact_limit:
        status = f"too large for the exact solver ({reduced.nnz:,} > {exact_limit:,} coverage pairs)"
    else:
        chosen, status = _exact(reduced, reduced_weight, k, time_limit_s)
        if chosen is not None:
            order, gains = _reorder(reduced, reduced_weight, chosen)
            rows = reduced_rows[order]
            method = "exact"
            exact_total = int(sum(gains))
    picked = useful[rows]
    total = len(households)
    before = int(covered.sum())
    after = before + np.cumsum(np.asarray(gains, dtype=np.int64))
    sites = gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(picked) + 1, dtype=np.int64),
            "code": cand["code"].iloc[picked].reset_index(drop=True),
            "label": cand["label"].iloc[picked].reset_index(drop=True),
            "gain": np.asarray(gains, dtype=np.int64),
            "covered_after": after,
            "share_after": after / total if total else np.zeros(len(after)),
            "radius_m": np.full(len(picked), radius),
        },
        geometry=cand.geometry.to_numpy()[picked],
        crs=WGS84,
    )
    return SitingResult(
        kind=kind,
        k=k,
        radius_m=radius,
        method=method,
        exact_status=status,
        demand="buildings" if aggregate else "households",
        sites=sites,
        total_households=total,
        covered_before=before,
        candidates=len(cand),
        demand_points=len(weight),
        greedy_total=int(sum(greedy_gains)),
        exact_total=exact_total,
        seconds=time.perf_counter() - start,
        walking=network is not None,
    )


# --- inputs --------------------------------------------------------------------


def _frame(frames: Mapping[str, gpd.GeoDataFrame], name: str) -> gpd.GeoDataFrame:
    if name not in frames:
        raise NotFoundError(Message("siting.needs_layer", layer=name))
    frame = frames[name]
    if frame.crs is None:
        raise CRSError(f"{name}: frame has no CRS")
    return frame


def _xy(geometry: gpd.GeoSeries, metric: pyproj.CRS) -> FloatArray:
    """Metric coordinates of point geometries (n × 2)."""
    return metric_xy(gpd.GeoDataFrame(geometry=geometry), metric)


def _covered_now(
    frames: Mapping[str, gpd.GeoDataFrame],
    kind: str,
    households_xy: FloatArray,
    metric: pyproj.CRS,
    options: CoverageOptions | None,
) -> BoolArray:
    """Households the existing sites already cover, decided exactly as the coverage analysis decides it."""
    sites = frames.get(kind)
    if sites is None or sites.empty:
        return np.zeros(len(households_xy), dtype=bool)
    if kind == "speakers":
        return speaker_coverage(households_xy, sites, metric, options)
    return service_coverage(households_xy, sites, metric, options)


def _walked_now(
    network: Network,
    frames: Mapping[str, gpd.GeoDataFrame],
    households_xy: FloatArray,
    metric: pyproj.CRS,
    radius: float,
) -> BoolArray:
    """Households within `radius` on foot of an existing service point."""
    sites = frames.get("service_points")
    if sites is None or sites.empty:
        return np.zeros(len(households_xy), dtype=bool)
    facilities = snap(network, metric_xy(sites, metric))
    reach = walk_to_nearest(network, snap(network, households_xy), facilities, radius)
    return np.asarray(reach.metres <= radius, dtype=bool)


def _demand(
    households: gpd.GeoDataFrame,
    xy: FloatArray,
    buildings: gpd.GeoDataFrame | None,
    metric: pyproj.CRS,
    aggregate: bool,
) -> tuple[FloatArray, IntArray]:
    """Demand points and their household counts; households at one spot (or building) merge."""
    if aggregate and buildings is not None and len(buildings):
        pos = pd.Index(buildings["code"].astype(str)).get_indexer(households["building_code"].astype(str))
        inside = pos >= 0
        points = _xy(buildings.geometry.representative_point(), metric)
        xy = xy.copy()
        xy[inside] = points[pos[inside]]
    unique, inverse = np.unique(xy, axis=0, return_inverse=True)
    return unique, np.bincount(inverse.ravel(), minlength=len(unique)).astype(np.int64)


def _candidates(
    candidates: gpd.GeoDataFrame | str | Path | None, buildings: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """Candidate `code`, `label` (address or name, for people) and point (EPSG:4326).

    Building points by default, else the given frame or file.
    """
    if candidates is None:
        if buildings is None or buildings.empty:
            raise NotFoundError(Message("siting.no_candidates"))
        frame = buildings
    elif isinstance(candidates, str | Path):
        frame = gpd.read_file(candidates)
    else:
        frame = candidates
    if frame.crs is None:
        raise CRSError("candidates: frame has no CRS")
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)].to_crs(WGS84).reset_index(drop=True)
    if frame.empty:
        raise NotFoundError(Message("siting.no_geometry"))
    if "code" in frame.columns:
        codes = frame["code"].astype("string")
    else:
        codes = pd.Series([f"candidate-{i}" for i in range(1, len(frame) + 1)], dtype="string")
    label = pd.Series(pd.NA, index=frame.index, dtype="string")
    for column in ("name", "address"):
        if column in frame.columns:
            label = frame[column].astype("string").fillna(label)
    return gpd.GeoDataFrame(
        {"code": codes, "label": label}, geometry=frame.geometry.representative_point(), crs=WGS84
    )


# --- the coverage matrix and the solvers ----------------------------------------


def _coverage_matrix(cand_xy: FloatArray, demand_xy: FloatArray, radius: float) -> sparse.csr_matrix:
    """Candidates × demand points, 1 where the candidate is within `radius` of the point."""
    n_c, n_d = len(cand_xy), len(demand_xy)
    if not n_c or not n_d:
        return sparse.csr_matrix((n_c, n_d), dtype=np.int8)
    tree = cKDTree(demand_xy)
    counts: list[npt.NDArray[np.intp]] = []
    indices: list[npt.NDArray[np.int32]] = []
    for lo in range(0, n_c, _CHUNK):
        # chunks keep the Python lists query_ball_point returns small
        lists = tree.query_ball_point(cand_xy[lo : lo + _CHUNK], r=radius, workers=-1)
        sizes = np.fromiter(map(len, lists), dtype=np.intp, count=len(lists))
        counts.append(sizes)
        flat = itertools.chain.from_iterable(lists)
        indices.append(np.fromiter(flat, dtype=np.int32, count=int(sizes.sum())))
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))])
    col = np.concatenate(indices)
    data = np.ones(len(col), dtype=np.int8)
    matrix = sparse.csr_matrix((data, col, indptr), shape=(n_c, n_d))
    matrix.sort_indices()
    return matrix


def _greedy(matrix: sparse.csr_matrix, weight: IntArray, k: int) -> tuple[IntArray, list[int]]:
    """Lazy greedy: rows in the order picked and each one's marginal gain (stops at zero gain).

    Gains only shrink as coverage grows (submodularity), so a stale gain is
    an upper bound: a candidate whose recomputed gain still beats the next
    stale one is the true best. Ties go to the lower row.
    """
    covered = np.zeros(matrix.shape[1], dtype=bool)
    initial = matrix @ weight
    heap = [(-int(g), i) for i, g in enumerate(initial) if g > 0]
    heapq.heapify(heap)
    rows: list[int] = []
    gains: list[int] = []
    ptr, idx = matrix.indptr, matrix.indices
    while heap and len(rows) < k:
        _, i = heapq.heappop(heap)
        cols = idx[ptr[i] : ptr[i + 1]]
        gain = int(weight[cols][~covered[cols]].sum())
        if gain <= 0:
            continue
        if heap and (-gain, i) > heap[0]:
            heapq.heappush(heap, (-gain, i))
            continue
        rows.append(i)
        gains.append(gain)
        covered[cols] = True
    return np.asarray(rows, dtype=np.int64), gains


def _swap_improve(matrix: sparse.csr_matrix, weight: IntArray, rows: IntArray, passes: int = 10) -> IntArray:
    """1-swap local search: replace a chosen site by the best other candidate while that covers more.

    Greedy can lock in an early site that later ones make partly redundant;
    one pass costs one sparse product per chosen site.
    """
    rows = rows.copy()
    count = np.zeros(matrix.shape[1], dtype=np.int64)
    ptr, idx = matrix.indptr, matrix.indices
    for r in rows:
        count[idx[ptr[r] : ptr[r + 1]]] += 1
    for _ in range(passes):
        improved = False
        for pos, r in enumerate(rows):
            count[idx[ptr[r] : ptr[r + 1]]] -= 1
            open_weight = np.where(count == 0, weight, 0)
            gains = matrix @ open_weight
            best = int(np.argmax(gains))
            if gains[best] > gains[r]:
                rows[pos], r, improved = best, best, True
            count[idx[ptr[r] : ptr[r + 1]]] += 1
        if not improved:
            break
    return rows


def _reorder(matrix: sparse.csr_matrix, weight: IntArray, rows: IntArray) -> tuple[IntArray, list[int]]:
    """The chosen `rows` listed best first, each with its marginal gain; rows adding nothing are dropped."""
    order, gains = _greedy(matrix[rows], weight, len(rows))
    return rows[order], gains


def _reduce(matrix: sparse.csr_matrix, weight: IntArray) -> tuple[sparse.csr_matrix, IntArray, IntArray]:
    """The MIP's smaller twin: candidates covering the very same points merged (the lowest row
    stands for them), then demand points covered by the very same candidates merged (weights
    summed). Returns the reduced matrix, its weights and the original row of each reduced row."""
    rows, _ = _identical_rows(matrix)
    sub = matrix[rows]
    points, group = _identical_rows(sub.T.tocsr())
    merged_weight = np.bincount(group, weights=weight, minlength=len(points)).astype(np.int64)
    return sub[:, points].tocsr(), merged_weight, rows


def _identical_rows(matrix: sparse.csr_matrix) -> tuple[IntArray, IntArray]:
    """The first row of each group of rows with the same non-zero columns, and each row's group."""
    matrix.sort_indices()
    ptr, idx = matrix.indptr, matrix.indices
    keys = pd.Series([idx[ptr[i] : ptr[i + 1]].tobytes() for i in range(matrix.shape[0])], dtype=object)
    group, uniques = pd.factorize(keys)
    first = np.full(len(uniques), matrix.shape[0], dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(group)))
    return first, group.astype(np.int64)


def _exact(
    matrix: sparse.csr_matrix, weight: IntArray, k: int, time_limit_s: float
) -> tuple[IntArray | None, str]:
    """Solve the MCLP MIP; the chosen rows, or None (with the reason) when not proven optimal."""
    n_c, n_d = matrix.shape
    if n_c == 0 or n_d == 0:
        return np.empty(0, dtype=np.int64), "optimal"
    # variables: x (site opened, binary) then y (demand covered, 0..1)
    budget = sparse.hstack([sparse.csr_matrix(np.ones((1, n_c))), sparse.csr_matrix((1, n_d))])
    link = sparse.hstack([-matrix.T.astype(np.float64), sparse.identity(n_d)])
    constraints = [
        LinearConstraint(budget, -np.inf, k),
        LinearConstraint(link.tocsr(), -np.inf, 0),
    ]
    cost = np.concatenate([np.zeros(n_c), -weight.astype(np.float64)])
    integrality = np.concatenate([np.ones(n_c), np.zeros(n_d)])
    result = milp(
        cost,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit_s, "disp": False},
    )
    if result.status != 0 or result.x is None:
        return None, f"exact solver stopped without a proven optimum: {result.message}"
    return np.flatnonzero(result.x[:n_c] > 0.5).astype(np.int64), "optimal"
