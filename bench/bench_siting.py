"""Siting and topology benchmark at city scale.

    .venv/bin/python -m bench.bench_siting [--scale 20] [--households 1000000] [--repeat 3]

Workload: the sample district (`gridmap.sample.generate(scale)`: 1,220 grids
at scale 20), its households topped up to `--households` by adding households
to randomly chosen existing buildings (same point, new code) when the
generator makes fewer. Measures, each the median of `--repeat` runs:
- `site(frames, "speakers", 20)` with default settings (the method it picks
  is reported) and with greedy forced (`exact_limit=0`);
- greedy against the proven optimum (exact MIP with no size limit) on the
  sample district at scale 1 and at full scale, for speakers and service points;
- `check_grids` on the 1,220 grids with household counts, clean and dirty.
Writes the tables to bench/RESULTS.md (section "siting").
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import geopandas as gpd

from bench.common import median_seconds, table, write_section
from bench.workload import densify
from gridmap.assignment import assign
from gridmap.sample import generate, generate_dirty
from gridmap.siting import EXACT_LIMIT, SiteKind, SitingResult, site
from gridmap.topology import check_grids

T = TypeVar("T")

TARGET_SITING_S = 60.0
TARGET_GAP = 0.05
TARGET_TOPOLOGY_S = 5.0


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Median seconds of `repeat` calls of `fn`, and the last call's result."""
    results: list[T] = []
    seconds = median_seconds(lambda: results.append(fn()), repeat)
    return seconds, results[-1]


def describe(result: SitingResult) -> str:
    return (
        f"{result.method}; {len(result.sites)} sites cover {result.newly_covered:,} more households "
        f"({result.covered_before:,} → {result.covered_after:,} of {result.total_households:,}); "
        f"{result.candidates:,} candidates, {result.demand_points:,} demand points ({result.demand})"
    )


def siting_rows(frames: dict[str, gpd.GeoDataFrame], repeat: int) -> tuple[list[list[object]], list[str]]:
    rows: list[list[object]] = []
    notes: list[str] = []
    for label, limit in ((f"default (exact up to {EXACT_LIMIT:,} pairs)", EXACT_LIMIT), ("greedy forced", 0)):
        seconds, result = timed(partial(site, frames, "speakers", 20, exact_limit=limit), repeat)
        rows.append([label, f"{seconds:.2f}", describe(result)])
        if limit:
            verdict = "met" if seconds <= TARGET_SITING_S else "NOT met"
            notes.append(f"- k = 20 speakers: {seconds:.2f} s (target ≤ {TARGET_SITING_S:.0f} s): {verdict}")
    return rows, notes


def gap_rows(
    cases: list[tuple[str, dict[str, gpd.GeoDataFrame], SiteKind, int]],
) -> tuple[list[list[object]], float]:
    rows: list[list[object]] = []
    worst = 0.0
    for label, frames, kind, k in cases:
        result = site(frames, kind, k, exact_limit=10**9, time_limit_s=300.0)
        gap = result.greedy_gap
        if gap is None:
            rows.append(
                [
                    label,
                    kind,
                    k,
                    "—",
                    f"{result.greedy_total:,}",
                    result.exact_status,
                    f"{result.seconds:.1f}",
                ]
            )
            continue
        worst = max(worst, gap)
        rows.append(
            [
                label,
                kind,
                k,
                f"{result.exact_total:,}",
                f"{result.greedy_total:,}",
                f"{gap:.2%}",
                f"{result.seconds:.1f}",
            ]
        )
    return rows, worst


def topology_rows(scale: int, repeat: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for label, frames in (
        ("clean", generate(scale)),
        ("dirty (planted overlap, gap, self-intersection)", generate_dirty(scale)),
    ):
        counts = assign(frames)["households"]["grid_code"].value_counts()
        check = partial(check_grids, frames["grids"], frames["communities"], counts)
        seconds, found = timed(check, repeat)
        kinds = found["kind"].value_counts().to_dict()
        summary = ", ".join(f"{k} {n}" for k, n in kinds.items()) or "none"
        verdict = "met" if seconds <= TARGET_TOPOLOGY_S else "NOT met"
        rows.append([label, f"{len(frames['grids']):,}", f"{seconds:.2f}", summary, verdict])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    small = generate(1)
    frames = generate(args.scale)
    generated = len(frames["households"])
    frames["households"] = densify(frames["households"], args.households)
    print(f"workload: {len(frames['grids']):,} grids, {len(frames['households']):,} households", flush=True)

    siting, notes = siting_rows(frames, args.repeat)
    print(table(["run", "seconds", "result"], siting), flush=True)
    gaps, worst = gap_rows(
        [
            ("sample, scale 1", small, "speakers", 5),
            ("sample, scale 1", small, "service_points", 5),
            (f"scale {args.scale}", frames, "speakers", 20),
            (f"scale {args.scale}", frames, "service_points", 20),
        ]
    )
    print(table(["case", "kind", "k", "optimum", "greedy", "gap", "seconds"], gaps), flush=True)
    notes.append(
        f"- greedy vs proven optimum: worst gap {worst:.2%} (target ≤ {TARGET_GAP:.0%}): "
        + ("met" if worst <= TARGET_GAP else "NOT met")
    )
    topology = topology_rows(args.scale, max(args.repeat, 5))
    print(
        table(["grids", "count", "seconds", "findings", f"≤ {TARGET_TOPOLOGY_S:.0f} s"], topology), flush=True
    )

    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    body = f"""
Workload: `gridmap.sample.generate(scale={args.scale})`, {len(frames["grids"]):,} grids; its
{generated:,} households topped up to {len(frames["households"]):,} with extra households in
randomly chosen existing buildings (`python -m bench.bench_siting --scale {args.scale}
--households {args.households}`). Seconds are medians of {args.repeat} runs of the whole
`site(...)` call (projection, existing coverage, coverage matrix, solver). Load average
{load} (the 2 cores are shared with other work: figures above 1 mean contention).

**Siting k = 20 speakers**

{table(["run", "seconds", "result"], siting)}

**Greedy (lazy greedy + 1-swap) against the proven optimum (HiGHS MIP, no size limit)**

{table(["case", "kind", "k", "optimum", "greedy", "gap", "seconds (both)"], gaps)}

**Topology validation (`check_grids` with household counts), median of {max(args.repeat, 5)} runs**

{table(["grids", "count", "seconds", "findings", f"≤ {TARGET_TOPOLOGY_S:.0f} s"], topology)}

{chr(10).join(notes)}
"""
    write_section("siting", body)


if __name__ == "__main__":
    main()
