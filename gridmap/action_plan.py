"""The speaker action list of an area: repairs ranked by what each adds, then new sites after them.

A list a planner acts on top to bottom must not count one household twice:
two broken speakers whose ranges overlap cannot both claim the households
they share. So every action's figure is what it adds after the actions
above it — repairs ranked greedily (the repair adding the most uncovered
households given the repairs above it, again and again), then new sites
chosen for the households still uncovered once every repair is made. The
last line's `covered_after` is what re-running the analysis with the
actions applied gives (tests/test_action_plan.py applies them and checks).

Every broken speaker of the area is listed, also one that adds nobody (its
households are covered already): it is still broken, and a meeting should
hear so. Greedy is exact for ranking by marginal gain; a lazy priority
queue keeps it cheap with many broken speakers (gains only shrink).
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from gridmap.analysis import Analysis, projections
from gridmap.coverage import metric_xy, speaker_radii, working
from gridmap.crs import metric_crs
from gridmap.frames import WGS84

REPAIR_COLUMNS = [
    "rank",
    "code",
    "name",
    "grid_code",
    "radius_m",
    "gain",
    "covered_after",
    "share_after",
    "lon",
    "lat",
]


@dataclass(frozen=True)
class SpeakerPlan:
    """Repairs then new sites for one area, each with what it adds after the ones above it.

    `households`: the area's households; `covered_before`: those a working
    speaker covers now. `repairs` (columns REPAIR_COLUMNS, rank from 1) and
    `sites` (a `gridmap.siting` sites frame, ranks from 1, chosen with the
    repairs made) carry `gain`, `covered_after` and `share_after` over the
    area's households, so the last row of `sites` (or of `repairs`) is the
    coverage once everything listed is done.
    """

    households: int
    covered_before: int
    repairs: pd.DataFrame
    sites: gpd.GeoDataFrame

    @property
    def covered_after_repairs(self) -> int:
        return self.covered_before + int(self.repairs["gain"].sum())

    @property
    def covered_after(self) -> int:
        return self.covered_after_repairs + int(self.sites["gain"].sum())

    def share(self, covered: int) -> float | None:
        return covered / self.households if self.households else None


def speaker_plan(
    analysis: Analysis,
    frames: Mapping[str, gpd.GeoDataFrame],
    grid_codes: Collection[str] | None = None,
    *,
    sites: int = 5,
) -> SpeakerPlan:
    """The repairs and `sites` new speaker sites for the grids `grid_codes` (None: the whole analysis).

    Repairs are the broken speakers standing in those grids; their gains,
    and the sites', count the area's households only (what the area's
    figures will show). Candidates for new sites are the area's buildings.
    """
    households = analysis.households
    speakers_derived = _derived(analysis, frames, "speakers")
    if grid_codes is not None:
        wanted = set(map(str, grid_codes))
        households = households[households["grid_code"].isin(wanted).to_numpy()]
        in_area = speakers_derived["grid_code"].isin(wanted).to_numpy() if len(speakers_derived) else []
        speakers_derived = speakers_derived[in_area]
    covered = households["speaker_covered"].fillna(False).astype(bool).to_numpy()
    total, before = len(households), int(covered.sum())
    broken = speakers_derived[~working(speakers_derived)] if len(speakers_derived) else speakers_derived
    broken = broken[~(broken.geometry.isna() | broken.geometry.is_empty)] if len(broken) else broken
    repairs = _rank_repairs(analysis, households[~covered], broken, total, before)
    repaired = _with_repairs(frames["speakers"], set(repairs["code"]))
    after_repairs = before + int(repairs["gain"].sum())
    chosen = None
    if after_repairs < total:
        chosen = _sites(analysis, frames, households, repaired, grid_codes, sites)
    if chosen is None:
        chosen = gpd.GeoDataFrame(
            {"rank": pd.Series(dtype="int64"), "gain": pd.Series(dtype="int64")}, geometry=[], crs=WGS84
        )
    return SpeakerPlan(total, before, repairs, chosen)


def _derived(analysis: Analysis, frames: Mapping[str, gpd.GeoDataFrame], name: str) -> gpd.GeoDataFrame:
    """A layer with its derived `grid_code` (the analysis's copy, else the input's)."""
    derived = getattr(analysis, "frames", None) or {}
    frame = derived.get(name)
    if frame is None:
        frame = frames.get(name)
    if frame is None or frame.empty:
        return gpd.GeoDataFrame({"code": [], "status": [], "grid_code": []}, geometry=[], crs=WGS84)
    if "grid_code" not in frame:
        frame = frame.assign(grid_code=pd.NA)
    return frame


def _rank_repairs(
    analysis: Analysis,
    uncovered: gpd.GeoDataFrame,
    broken: gpd.GeoDataFrame,
    total: int,
    before: int,
) -> pd.DataFrame:
    """Broken speakers in greedy order of the uncovered households each adds after those above it."""
    if broken.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in REPAIR_COLUMNS}).astype(
            {"rank": "int64", "gain": "int64", "covered_after": "int64"}
        )
    # Distances as the analysis measures them, so a household on a range's edge is decided alike.
    derived = getattr(analysis, "frames", None)
    metric = projections(derived).analysis if derived else metric_crs(broken)
    radius = speaker_radii(broken)
    reach: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(broken)
    if not uncovered.empty:
        tree = cKDTree(metric_xy(uncovered, metric))
        found = tree.query_ball_point(metric_xy(broken, metric), radius)
        reach = [np.asarray(f, dtype=np.int64) for f in found]
    codes = broken["code"].astype(str).to_numpy()
    taken = np.zeros(len(uncovered), dtype=bool)
    # Lazy greedy: a stale gain bounds the true one from above, so the top, once fresh, is the best.
    heap = [(-len(r), codes[i], i) for i, r in enumerate(reach)]
    heapq.heapify(heap)
    order: list[int] = []
    gains: list[int] = []
    while heap:
        stale, code, i = heapq.heappop(heap)
        fresh = int((~taken[reach[i]]).sum())
        if fresh != -stale:
            heapq.heappush(heap, (-fresh, code, i))
            continue
        order.append(i)
        gains.append(fresh)
        taken[reach[i]] = True
    picked = broken.iloc[order]
    after = before + np.cumsum(np.asarray(gains, dtype=np.int64))
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1, dtype=np.int64),
            "code": codes[order],
            "name": picked["name"].to_numpy() if "name" in picked else None,
            "grid_code": picked["grid_code"].to_numpy(),
            "radius_m": radius[order],
            "gain": np.asarray(gains, dtype=np.int64),
            "covered_after": after,
            "share_after": after / total if total else np.zeros(len(order)),
            "lon": picked.geometry.x.to_numpy(),
            "lat": picked.geometry.y.to_numpy(),
        }
    )


def _with_repairs(speakers: gpd.GeoDataFrame, codes: set[str]) -> gpd.GeoDataFrame:
    """The speaker layer as it stands once the speakers `codes` are repaired (status working)."""
    if not codes:
        return speakers
    fixed = speakers["code"].astype(str).isin(codes).to_numpy()
    out = speakers.copy()
    out.loc[fixed, "status"] = "working"
    return out


def _sites(
    analysis: Analysis,
    frames: Mapping[str, gpd.GeoDataFrame],
    households: gpd.GeoDataFrame,
    speakers: gpd.GeoDataFrame,
    grid_codes: Collection[str] | None,
    k: int,
) -> gpd.GeoDataFrame | None:
    """Up to `k` new sites for what the repairs leave uncovered; candidates: the area's buildings."""
    # Imported here: scipy.optimize (the MIP solver) takes about a second to import, and every API
    # worker imports this module at start while few requests ever site anything.
    from gridmap.siting import site

    buildings = _derived(analysis, frames, "buildings")
    register = _derived(analysis, frames, "households")
    if grid_codes is not None and "grid_code" in buildings:
        buildings = buildings[buildings["grid_code"].isin(set(map(str, grid_codes))).to_numpy()]
    # The register's rows (with building codes, to aggregate a city's demand), the area's only.
    mine = register[register["code"].isin(set(households["code"])).to_numpy()]
    if k < 1 or mine.empty or buildings.empty:
        return None
    found = site({"households": mine, "buildings": buildings, "speakers": speakers}, "speakers", k)
    return found.sites if len(found.sites) else None
