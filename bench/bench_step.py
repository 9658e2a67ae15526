"""The builder's step per edit, phase by phase (refresh, render, publish, repair sync), two codes in one run.

    .venv/bin/python -m bench.bench_step --city PATH --baseline DIR [--rounds 3] [--profile DIR]

Workload: a copy of the city GeoPackage at PATH per code (`base`: the checkout
at DIR; `after`: this checkout), each followed by the server's `Builder`
(rendering `api.coverage:documents` to a shelf in a temporary folder) in a
child process running that code. After its first whole build and repair-ticket
sync, each round writes one edit of three kinds of `bench.bench_edits` through
the store (a speaker moved 100 m, a household made a center household or back,
a grid's party branch changed) and times the `Builder.step` that follows, whole
and by phase, in CPU seconds of the child (`time.process_time`: other work on
the machine does not count) and wall seconds. Both codes make the same edits in
the same order. With `--profile` each step also runs under cProfile, dumped to
DIR/<code>-<round>-<edit>.prof (the times then include the profiler's overhead).
Prints JSON; `--section NAME` also writes it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from bench.common import run_codes, run_on_copy, table, write_section

KINDS = ("speaker moved 100 m", "household made a center household", "grid's party branch changed")
PHASES = ("step", "refresh", "render", "publish", "sync_repairs")

CHILD = """
import cProfile, importlib.util, json, sys, tempfile, time
from pathlib import Path
spec = importlib.util.spec_from_file_location("edits", sys.argv[5])  # this checkout's edits, for both codes
edits = importlib.util.module_from_spec(spec); spec.loader.exec_module(edits)
from api.coverage import documents
from gridmap.serving import Builder, Shelf
from gridmap.stores import open_store
path, rounds, label, profile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
kinds = json.loads(sys.argv[6])
laps = {}

def timed(name, fn):
    def run(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            laps[name] = (time.process_time() - cpu, time.perf_counter() - wall)
    return run

out = {"edits": {name: [] for name in kinds}}
with open_store(path) as store, tempfile.TemporaryDirectory() as folder:
    builder = Builder(store, Shelf(Path(folder)), documents)
    cpu = time.process_time(); builder.step(); out["first_cpu_s"] = time.process_time() - cpu
    builder.live.refresh = timed("refresh", builder.live.refresh)
    builder.render = timed("render", builder.render)
    builder.shelf.publish = timed("publish", builder.shelf.publish)
    builder.sync_repairs = timed("sync_repairs", builder.sync_repairs)
    for n in range(rounds):
        for i, name in enumerate(kinds):
            edits.EDITS[name](store, builder.live, n)
            laps.clear()
            profiler = cProfile.Profile(time.process_time) if profile else None
            if profiler: profiler.enable()
            edition = timed("step", builder.step)()
            if profiler: profiler.disable()
            assert edition is not None and edition.streets is not None, name
            if profiler: profiler.dump_stats(f"{profile}/{label}-{n}-{i}.prof")
            row = {phase: {"cpu_s": c, "wall_s": w} for phase, (c, w) in laps.items()}
            out["edits"][name].append({**row, "streets": len(edition.streets)})
            cpu, wall = laps["step"]
            print(label, n, name, f"{cpu:.3f} CPU s, {wall:.3f} s", file=sys.stderr, flush=True)
print(json.dumps(out))
"""


def run(city: Path, code: Path, label: str, rounds: int, profile: Path | None) -> dict[str, object]:
    """`CHILD` on a copy of `city` in a process running the `gridmap` and `api` of `code`."""
    copy = city.with_name(f"{city.stem}-step-{label}.gpkg")
    args = [
        str(copy),
        str(rounds),
        label,
        str(profile or ""),
        str(Path(__file__).with_name("bench_edits.py")),
    ]
    return run_on_copy(CHILD, city, copy, code, [*args, json.dumps(KINDS)])


def report(found: dict[str, dict], load: tuple[float, float]) -> str:
    """Per edit kind and code: the step's median CPU and wall seconds, and each phase's median CPU."""

    def med(label: str, kind: str, phase: str, unit: str) -> float:
        return statistics.median(e[phase][unit] for e in found[label]["edits"][kind] if phase in e)

    rows = []
    for kind in KINDS:
        for label in found:
            steps = " / ".join(f"{e['step']['cpu_s']:.2f}" for e in found[label]["edits"][kind])
            rows.append(
                [
                    kind,
                    label,
                    steps,
                    f"{med(label, kind, 'step', 'cpu_s'):.3f}",
                    f"{med(label, kind, 'step', 'wall_s'):.3f}",
                    *(f"{med(label, kind, p, 'cpu_s'):.3f}" for p in PHASES[1:]),
                ]
            )
    firsts = ", ".join(f"{label} {found[label]['first_cpu_s']:.0f}" for label in found)
    return "\n\n".join(
        [
            f"First build and repair sync, CPU s: {firsts}. 1-minute load average {load[0]:.1f} at the"
            f" start, {load[1]:.1f} at the end.",
            table(
                [
                    "edit",
                    "code",
                    "step CPU s per round",
                    "step CPU median",
                    "step wall median",
                    *(f"{p} CPU" for p in PHASES[1:]),
                ],
                rows,
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True, help="a city GeoPackage (copied, not written)")
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the code before")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="a folder for each step's cProfile statistics")
    parser.add_argument("--only", choices=["base", "after"], help="run one code")
    parser.add_argument("--section", help="write the figures to this section of bench/RESULTS.md")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    start = os.getloadavg()[0]
    found = run_codes(
        args.baseline,
        args.only,
        lambda code, label: run(args.city.resolve(), code, label, args.rounds, args.profile),
    )
    body = report(found, (start, os.getloadavg()[0]))
    print(body)
    if args.section:
        write_section(args.section, body)


if __name__ == "__main__":
    main()
