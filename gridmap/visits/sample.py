"""A year of door-to-door visits over a district, for the demo and benchmarks (seeded, reproducible).

About one household in twelve is given a care category; each grid's worker
visits its households at their frequency, a little ahead of it — except the
workers of one grid in five, who fall behind (their visits come later than
the rule asks, so their grids show overdue households and a lower coverage).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gridmap.visits.rules import CARE_CATEGORIES, FREQUENCY_DAYS, ORDINARY

DEFAULT_SEED = 25
CARE_SHARE = 0.08
CARE_WEIGHTS = {"hardship": 3.0, "elderly_alone": 3.0, "migrant": 2.0, "disabled": 1.5, "correction": 0.5}
BEHIND_SHARE = 0.2
NOTES = ("家中一切正常", "反映楼道灯不亮", "老人身体状况良好", "询问低保政策", "反映噪音扰民", "")


def sample_visits(
    households: pd.DataFrame, grids: pd.DataFrame, now: dt.datetime, seed: int = DEFAULT_SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(visits, care register) for `households` (code, grid_code) over the year up to `now` (aware).

    The visitor is the grid's `worker_name` (网格员 + grid code where the grid names none).
    """
    rng = np.random.default_rng(seed)
    codes = households["code"].astype(str).to_numpy(dtype=object)
    grid = households["grid_code"].astype("string").fillna("").to_numpy(dtype=object)
    n = len(codes)
    categories = list(CARE_CATEGORIES)
    weights = np.array([CARE_WEIGHTS[c] for c in categories])
    in_care = rng.random(n) < CARE_SHARE
    chosen = rng.choice(len(categories), size=n, p=weights / weights.sum())
    category = np.where(in_care, np.array(categories, dtype=object)[chosen], ORDINARY)
    care = pd.DataFrame(
        {
            "household_code": codes[in_care],
            "category": category[in_care],
            "noted_by": "seed",
            "noted_at": pd.Timestamp(now - dt.timedelta(days=365)),
        }
    )
    days = np.array([FREQUENCY_DAYS[c] for c in category], dtype=np.float64)
    grid_codes = np.unique(grid)
    behind = dict(zip(grid_codes, rng.random(len(grid_codes)) < BEHIND_SHARE, strict=True))
    late = np.array([behind[g] for g in grid], dtype=bool)
    factor = np.where(late, rng.uniform(1.3, 2.4, n), rng.uniform(0.6, 0.95, n))
    interval = days * factor
    offset = rng.uniform(0, 1, n) * interval
    per = np.floor((365 - offset) / interval).astype(np.int64) + 1
    per = np.maximum(per, 0)
    rows = np.repeat(np.arange(n), per)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(per) - per, per)
    ago = offset[rows] + k * interval[rows] + rng.uniform(-0.2, 0.2, len(rows))
    ago = np.clip(ago, 0.01, 365)
    workers = _workers(grids)
    visited = pd.Timestamp(now) - pd.to_timedelta(ago, unit="D")
    visits = pd.DataFrame(
        {
            "key": [f"seed-{i}" for i in range(len(rows))],
            "household_code": codes[rows],
            "grid_code": pd.Series(grid[rows], dtype="string").replace("", pd.NA),
            "visitor": [workers.get(g) or f"网格员{g}" for g in grid[rows]],
            "visited_at": visited.round("min"),
            "reached": rng.random(len(rows)) < 0.85,
            "notes": np.array(NOTES, dtype=object)[rng.integers(0, len(NOTES), len(rows))],
            "follow_up": rng.random(len(rows)) < 0.05,
            "case_code": None,
            "recorded_at": visited.round("min"),
        }
    )
    visits["notes"] = visits["notes"].replace("", None)
    return visits.sort_values("visited_at", kind="stable").reset_index(drop=True), care


def _workers(grids: pd.DataFrame) -> dict[str, str]:
    if "worker_name" not in grids.columns:
        return {}
    names = grids["worker_name"].astype("string")
    return {str(c): str(w) for c, w in zip(grids["code"], names, strict=True) if not pd.isna(w) and w}
