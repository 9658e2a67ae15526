"""What the builder spends per edit, step by step: refresh, render, publish; whole documents against parts.

    .venv/bin/python -m bench.bench_publish --store URL --compare DIR [--rounds 2]

A `Builder` (the server's) follows the store at URL; after its first whole
build, each round writes one edit of every kind of `bench.bench_edits`
through the store and times, in CPU seconds of this process (so other work
on the machine does not count): the refresh (`LiveAnalysis.refresh`), the
per-street render of the streets redone (`api.coverage.documents`), the
publish (rendered parts written, the others hard-linked), and, for the same
analysis, the whole documents as the code at DIR (a checkout of the
baseline) rendered them every revision. Also the bytes an edition wrote.
Writes bench/RESULTS.md section "publish-per-street".
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from api.coverage import documents
from bench.bench_edits import EDITS
from bench.common import table, write_section
from gridmap.serving import Builder, Shelf
from gridmap.stores import open_store


def baseline(checkout: Path) -> ModuleType:
    """`api.coverage` of the baseline checkout, under a name of its own."""
    spec = importlib.util.spec_from_file_location("baseline_coverage", checkout / "api" / "coverage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Clock:
    """CPU seconds of this process since the previous lap."""

    def __init__(self) -> None:
        self.at = time.process_time()

    def lap(self) -> float:
        before, self.at = self.at, time.process_time()
        return self.at - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--compare", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    load = os.getloadavg()
    whole_render = baseline(args.compare.resolve()).documents
    folder = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    rows: dict[str, list[list[float]]] = {name: [] for name in EDITS}
    try:
        with open_store(args.store) as store:
            counts = store.counts()
            builder = Builder(store, Shelf(folder), documents)
            clock = Clock()
            builder.step()
            first = clock.lap()
            assert builder.live.analysis is not None
            whole_render(builder.live.analysis)  # its first call encodes every gap: not an edit's cost
            for n in range(args.rounds):
                for name, edit in EDITS.items():
                    edit(store, builder.live, n)
                    clock.lap()
                    done = builder.live.refresh()
                    refresh = clock.lap()
                    assert (
                        done is not None and done.streets is not None and builder.live.analysis is not None
                    ), name
                    docs = documents(builder.live.analysis, done.streets)
                    render = clock.lap()
                    builder.last = builder.shelf.publish(
                        done.revision, docs, {}, previous=builder.last, streets=done.streets
                    )
                    publish = clock.lap()
                    whole_render(builder.live.analysis)
                    whole = clock.lap()
                    written = sum(len(b) for b in docs.whole.values()) + sum(
                        len(b) for parts in docs.parts.values() for b in parts.values()
                    )
                    rows[name].append([refresh, render, publish, whole, written, len(done.streets)])
                    print(name, [f"{v:.3f}" for v in rows[name][-1]], flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def med(name: str, i: int) -> float:
        return statistics.median(r[i] for r in rows[name])

    lines: list[list[object]] = [
        [
            name,
            f"{med(name, 5):.0f}",
            f"{med(name, 0):.3f}",
            f"{med(name, 1) + med(name, 2):.3f}",
            f"{med(name, 3):.3f}",
            f"{med(name, 3) / (med(name, 1) + med(name, 2)):.1f}×",
            f"{med(name, 4) / 2**10:,.0f}",
        ]
        for name in EDITS
    ]
    body = "\n\n".join(
        [
            f"`python -m bench.bench_publish --store {args.store} --compare {args.compare} --rounds"
            f" {args.rounds}`: the builder over {counts['households']:,} households, {counts['grids']:,}"
            f" grids, {counts['streets']:,} streets (first whole build {first:.1f} CPU s); per edit, medians"
            f" of {args.rounds} rounds in CPU seconds of the builder's process (not wall time: the machine's"
            f" 1-minute load average was {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)."
            " `parts`: the streets redone rendered and written, the others hard-linked; `whole`: every"
            " document rendered again, as before.",
            table(
                [
                    "edit",
                    "streets redone",
                    "refresh (s)",
                    "render + publish, parts (s)",
                    "render, whole (s)",
                    "whole / parts",
                    "KiB written, parts",
                ],
                lines,
            ),
        ]
    )
    write_section("publish-per-street", body)
    print(body)


if __name__ == "__main__":
    main()
