"""The builder's refresh per edit kind, in CPU seconds, for two codes in the same run.

    .venv/bin/python -m bench.bench_refresh --baseline DIR [--scale 40] [--rounds 3] [--profile DIR]

Workload: the city GeoPackage of `bench.bench_city` at `--scale` (40: 1,007,061
households). Per code (`base`: the checkout at DIR; `after`: this checkout) a
child process running that code's `gridmap` keeps the builder's
`LiveAnalysis` of its own copy of the city; each round writes one edit of
every kind of `bench.bench_edits` through the store and times the `refresh`
after it, in CPU seconds of the child (other work on the machine does not
count) and wall seconds. Both codes make the same edits in the same order.
With `--profile` each refresh is also run under cProfile and its statistics
are dumped to DIR/<code>-<round>-<edit>.prof (the times then include the
profiler's overhead). Writes bench/RESULTS.md section "refresh-cpu-<scale>".
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from bench.bench_edits import EDITS
from bench.common import WORK, run_codes, run_on_copy, table, write_section
from gridmap.stores import open_store

CHILD = """
import cProfile, importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("edits", sys.argv[5])  # this checkout's edits, for both codes
edits = importlib.util.module_from_spec(spec); spec.loader.exec_module(edits); EDITS = edits.EDITS
from gridmap.serving import LiveAnalysis
from gridmap.stores import open_store
path, rounds, label, profile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {"edits": {name: [] for name in EDITS}}
with open_store(path) as store:
    live = LiveAnalysis(store)
    cpu = time.process_time(); live.refresh(); out["first_cpu_s"] = time.process_time() - cpu
    for n in range(rounds):
        for i, (name, edit) in enumerate(EDITS.items()):
            edit(store, live, n)
            profiler = cProfile.Profile(time.process_time) if profile else None
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler: profiler.enable()
            done = live.refresh()
            if profiler: profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert done is not None, name
            if profiler: profiler.dump_stats(f"{profile}/{label}-{n}-{i}.prof")
            out["edits"][name].append({"cpu_s": cpu, "wall_s": wall, "streets": len(done.streets or [])})
            print(label, n, name, f"{cpu:.3f}", file=sys.stderr, flush=True)
print(json.dumps(out))
"""


def run(source: Path, code: Path, label: str, rounds: int, profile: Path | None) -> dict[str, object]:
    """`CHILD` on a copy of `source` in a process running the `gridmap` (and `bench`) of `code`."""
    copy = source.with_name(f"{source.stem}-refresh-{label}.gpkg")
    args = [
        str(copy),
        str(rounds),
        label,
        str(profile or ""),
        str(Path(__file__).with_name("bench_edits.py")),
    ]
    return run_on_copy(CHILD, source, copy, code, args)


def report(args: argparse.Namespace, counts: dict[str, int], found: dict[str, dict], load: tuple) -> str:
    """The section's text: per edit kind each code's refresh CPU seconds, round by round."""

    def cpu(label: str, name: str) -> list[float]:
        return [e["cpu_s"] for e in found[label]["edits"][name]]

    rows = [
        [
            name,
            " / ".join(f"{c:.2f}" for c in cpu("base", name)),
            " / ".join(f"{c:.2f}" for c in cpu("after", name)),
            f"{statistics.median(cpu('base', name)):.3f}",
            f"{statistics.median(cpu('after', name)):.3f}",
            f"{statistics.median(cpu('base', name)) / statistics.median(cpu('after', name)):.1f}×",
        ]
        for name in EDITS
    ]
    return "\n\n".join(
        [
            f"`python -m bench.bench_refresh --baseline {args.baseline} --scale {args.scale} --rounds"
            f" {args.rounds}`{' --profile' if args.profile else ''}: a `LiveAnalysis` per code over its"
            f" own copy of the city GeoPackage at scale {args.scale} ({counts['households']:,} households,"
            f" {counts['grids']:,} grids, {counts['speakers']:,} speakers, {counts['service_points']:,}"
            f" service points, {counts['roads']:,} roads), one child process each, one after the other;"
            " each round one edit of every kind of `bench.bench_edits` written through the store, and the"
            " CPU seconds of the `refresh` after it. First whole analysis:"
            f" {found['base']['first_cpu_s']:.0f} CPU s (base), {found['after']['first_cpu_s']:.0f} (after)."
            f" 1-minute load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.",
            table(
                [
                    "edit",
                    "base CPU s per round",
                    "after CPU s per round",
                    "base median",
                    "after median",
                    "less",
                ],
                rows,
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the code before")
    parser.add_argument("--scale", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="a folder for each refresh's cProfile statistics")
    parser.add_argument("--only", choices=["base", "after"], help="run one code and print its figures")
    args = parser.parse_args()
    source = WORK / f"city{args.scale}.gpkg"
    with open_store(str(source)) as store:
        counts = store.counts()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    found = run_codes(
        args.baseline, args.only, lambda code, label: run(source, code, label, args.rounds, args.profile)
    )
    if args.only is None:
        write_section(f"refresh-cpu-{args.scale}", report(args, counts, found, load))


if __name__ == "__main__":
    main()
