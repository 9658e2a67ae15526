"""Broadcast speakers and volunteer service points, placed to leave gaps a planner can find.

Urban grids get zero, one or two speakers (应急广播), fewer in communities
the speaker programme has not reached, and about one in eight is broken;
villages get 村村响 on a few houses. Service points are uneven on purpose:
western communities have several volunteer stations, eastern ones few, some
communities lack a 党群服务中心, and points sit towards a community's west.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridmap.arrays import FloatArray
from gridmap.arrays import Int64Array as IntArray
from gridmap.sample.buildings import Buildings, number_within
from gridmap.sample.layout import Layout

DENSE_SHARES = (0.35, 0.5, 0.15)  # urban grids with 0, 1, 2 speakers
SPARSE_SHARES = (0.8, 0.2, 0.0)  # the same in a community the speaker programme has not reached
SPARSE_COMMUNITY_SHARE = 0.35
VILLAGE_SPEAKERS = 4
BROKEN_SHARE = 0.12
SPEAKER_RADIUS_M = 300.0
SERVICE_RADIUS_M = 500.0
CENTER_SHARE_WEST, CENTER_SHARE_EAST = 0.9, 0.5  # urban communities with a 党群服务中心
STATIONS_WEST, STATIONS_EAST = 2.0, 0.3  # mean 志愿服务站 per community
PRACTICE_SHARE = 0.35  # communities with a 新时代文明实践站


@dataclass(frozen=True)
class Points:
    """Point features with their grid, name, kind (service points) and status (speakers)."""

    grid: IntArray
    xy: FloatArray
    name: list[str]
    kind: list[str]
    status: list[str]
    radius_m: FloatArray


def build_speakers(layout: Layout, buildings: Buildings, rng: np.random.Generator) -> Points:
    """Speakers in urban grids (uniform in the buildable area) and on village houses."""
    urban = np.flatnonzero(~layout.grid_village)
    # Some communities were left behind by the speaker programme: their grids mostly have none.
    sparse = (rng.random(len(layout.community_code)) < SPARSE_COMMUNITY_SHARE)[layout.grid_community[urban]]
    shares = np.where(sparse[:, None], SPARSE_SHARES, DENSE_SHARES).cumsum(axis=1)
    per_grid = (rng.random(len(urban))[:, None] > shares[:, :-1]).sum(axis=1)
    grid = np.repeat(urban, per_grid)
    rect = layout.grid_rect[grid]
    xy = rng.uniform(rect[:, :2], rect[:, 2:])
    label = [f"{layout.grid_name[g]}应急广播" for g in grid]

    village_grid, village_xy = [], []
    for g in np.flatnonzero(layout.grid_village):
        houses = np.flatnonzero(buildings.grid == g)
        chosen = np.sort(rng.choice(houses, min(VILLAGE_SPEAKERS, len(houses)), replace=False))
        r = buildings.rect[chosen]
        village_grid.append(np.full(len(chosen), g))
        village_xy.append((r[:, :2] + r[:, 2:]) / 2)
        label += [f"{layout.community_name[layout.grid_community[g]]}村村响"] * len(chosen)
    grid = np.concatenate([grid, *village_grid])
    xy = np.concatenate([xy, *village_xy])
    order = np.argsort(grid, kind="stable")
    grid, xy, label = grid[order], xy[order], [label[i] for i in order]
    n = len(grid)
    numbers = number_within(grid)
    status = np.where(rng.permutation(n) < round(BROKEN_SHARE * n), "broken", "working")
    return Points(
        grid=grid,
        xy=xy,
        name=[f"{lab}{k}号" for lab, k in zip(label, numbers, strict=True)],
        kind=[""] * n,
        status=status.tolist(),
        radius_m=np.full(n, SPEAKER_RADIUS_M),
    )


def build_service_points(layout: Layout, rng: np.random.Generator) -> Points:
    """Per community: a centre (usually), volunteer stations (west-heavy), maybe a practice station."""
    grids, xys, labels, kinds = [], [], [], []
    west_edge = layout.grid_col == 0
    for c, cname in enumerate(layout.community_name):
        members = np.flatnonzero(layout.grid_community == c)
        village = layout.community_kind[c] == "village"
        west = bool(west_edge[members].any())
        center_share = CENTER_SHARE_WEST if west else CENTER_SHARE_EAST
        plan = [("党群服务中心", "党群服务中心")] if village or rng.random() < center_share else []
        stations = rng.poisson(STATIONS_WEST if west else STATIONS_EAST)
        plan += [("志愿服务站", f"志愿服务站{k + 1}号") for k in range(stations)]
        if rng.random() < PRACTICE_SHARE:
            plan.append(("新时代文明实践站", "新时代文明实践站"))
        # Points sit towards the community's west side, leaving its eastern grids farther away.
        weight = 1.0 / (1 + layout.grid_col[members] - layout.grid_col[members].min()) ** 2
        for kind, label in plan:
            g = int(rng.choice(members, p=weight / weight.sum()))
            rect = layout.grid_rect[g]
            grids.append(g)
            xys.append(rng.uniform(rect[:2], rect[2:]))
            labels.append(f"{cname}{label}")
            kinds.append(kind)
    grid = np.asarray(grids, dtype=np.int64)
    return Points(
        grid=grid,
        xy=np.asarray(xys).reshape(-1, 2),
        name=labels,
        kind=kinds,
        status=[""] * len(grid),
        radius_m=np.full(len(grid), SERVICE_RADIUS_M),
    )
