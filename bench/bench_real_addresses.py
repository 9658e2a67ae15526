"""Addresses on real districts' names: per-form rates and lookups per second, before and after.

    .venv/bin/python -m bench.bench_real_addresses --baseline DIR [--seeds 1 2 3] [--rounds 3]

For each seed, the district of bench/real_districts.py (one real county's 街道,
社区 and 村 from jionlp's location dictionary, roads named after them) goes
into a GeoPackage store and the corpus of bench/real_corpus.py through
`LookupService.batch`, once with this code and once with the code at
`--baseline` (a checkout, e.g. `git worktree add /tmp/base <commit>`), in the
same run, alternating. The baseline runs in a subprocess that imports its
gridmap first and this bench's corpus after, so both answer the same
addresses. Writes bench/RESULTS.md section "address-real-names".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import table, write_section

HERE = Path(__file__).resolve().parent.parent


def measure(seed: int, rounds: int) -> dict[str, Any]:
    """Per form (cases, right, wrong, answered) and batch lookups per second (median of `rounds`)."""
    from bench.real_corpus import corpus, evaluate
    from bench.real_districts import real_district
    from gridmap.lookup import LookupService, Query
    from gridmap.stores import open_store

    plan = real_district(seed)
    cases = corpus(plan)
    with tempfile.TemporaryDirectory() as work, open_store(str(Path(work) / "store.gpkg")) as store:
        store.replace_many(plan.frames)
        service = LookupService(store)
        service.snapshot()
        forms = evaluate(service, cases)
        queries = [Query(address=c.text) for c in cases]
        seconds = []
        for _ in range(rounds):
            start = time.perf_counter()
            service.batch(queries)
            seconds.append(time.perf_counter() - start)
        service.close()
    county = f"{plan.county.province}{plan.county.city}{plan.county.name}"
    return {
        "county": county,
        "buildings": len(plan.frames["buildings"]),
        "forms": {f.form: [f.cases, f.right, f.wrong, f.answered] for f in forms},
        "per_second": len(cases) / statistics.median(seconds),
    }


def _baseline(baseline: Path, seed: int, rounds: int) -> dict[str, Any]:
    """`measure` with the baseline's gridmap (imported first) and this bench's corpus."""
    code = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(baseline)!r}]\n"
        "import gridmap, gridmap.lookup, gridmap.stores, gridmap.frames\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "for name in [m for m in sys.modules if m == 'bench' or m.startswith('bench.')]:\n"
        "    del sys.modules[name]\n"
        "from bench.bench_real_addresses import measure\n"
        f"print(json.dumps(measure({seed}, {rounds}), ensure_ascii=False))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd="/")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the code before")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    before: dict[int, dict[str, Any]] = {}
    after: dict[int, dict[str, Any]] = {}
    load_before = os.getloadavg()[0]
    for seed in args.seeds:
        before[seed] = _baseline(args.baseline, seed, args.rounds)
        after[seed] = measure(seed, args.rounds)
    load_after = os.getloadavg()[0]
    forms = list(dict.fromkeys(f for seed in args.seeds for f in after[seed]["forms"]))
    rows: list[list[object]] = []
    for form in forms:
        row: list[object] = [form]
        for side in (before, after):
            cells = [side[s]["forms"].get(form) for s in args.seeds]
            row.append(" / ".join(f"{c[1] / c[0]:.1%}" if c else "—" for c in cells))
            row.append(sum(c[2] for c in cells if c))
        row.append(
            " / ".join(
                str(after[s]["forms"][form][0]) if form in after[s]["forms"] else "—" for s in args.seeds
            )
        )
        answered = [after[s]["forms"].get(form) for s in args.seeds]
        row.append(" / ".join(f"{c[3] / c[0]:.0%}" if c else "—" for c in answered))
        rows.append(row)
    seeds = " / ".join(str(s) for s in args.seeds)
    header = [
        "form",
        f"right before (seeds {seeds})",
        "wrong before",
        f"right after (seeds {seeds})",
        "wrong after",
        "cases",
        "answered with a grid, after",
    ]
    districts = "; ".join(
        f"seed {s}: {after[s]['county']}, {after[s]['buildings']:,} buildings" for s in args.seeds
    )
    speed = table(
        ["seed", "lookups/s before", "lookups/s after"],
        [[s, f"{before[s]['per_second']:,.0f}", f"{after[s]['per_second']:,.0f}"] for s in args.seeds],
    )
    body = f"""
Districts on real names (`bench/real_districts.py`, jionlp's location dictionary): {districts}.
Every form through `LookupService.batch` on a GeoPackage store; "before" is `{args.baseline}`
(commit 212f957), "after" this branch, in the same run. "right": the building named; for another
community written before the road, the building with that community flagged (`match.disagrees`,
which did not exist before); for a road with a mistyped character or a number past a road's last,
no answer; for a number the register lacks between two registered ones on its side, its grid
(`interpolated`) or a 404 naming it among the candidate grids. "wrong": another building, or
another grid answered. "answered with a grid": status ok.

{table(header, rows)}

Lookups per second, the whole corpus of each seed through `LookupService.batch` (median of
{args.rounds}; before and after alternate per seed, on the machine's 2 cores shared with other
work: load average {load_before:.0f} when the runs began, {load_after:.0f} when they ended):

{speed}
"""
    print(body)
    write_section("address-real-names", body)


if __name__ == "__main__":
    main()
