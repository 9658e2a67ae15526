"""The serving builder's start: its first analysis, publish and repair-ticket sync, in seconds and memory.

    .venv/bin/python bench/bench_builder_start.py --base DIR [--city PATH] [--rounds N] [--render REF]

Runs what `gridmap serve` runs first (`Builder.step`: the whole analysis, the
API's documents rendered and published, then `sync_repairs`, every broken
speaker's ticket opened on an empty case book) in a child process per run, on
a fresh copy of the sample district and, with `--city`, of a city GeoPackage
(`bench/work/city200.gpkg`: 5M households). Each run is made once with this
checkout's code and once with the code at DIR (a checkout of the code before,
e.g. `git worktree add --detach DIR main`), alternating, in the same run.
Per run: the step's seconds, the sync's, the tickets opened, the resident
memory just before the sync and after the step (what the builder holds from
then on), and the peak. Prints one JSON line per run. `--render
__main__:no_documents` leaves the documents out (a city's render costs both
codes the same minute).

The script is run by path, not with `-m`: each child imports `gridmap` and `api`
from the checkout on its PYTHONPATH, and nothing of `bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AFTER = HERE.parent
WORK = HERE / "work"
RENDER = "api.coverage:documents"  # what `gridmap serve` publishes


def no_documents(_analysis: Any, _streets: Any = None) -> Any:
    """A render that publishes nothing (`--render __main__:no_documents`): the analysis and the sync alone."""
    from gridmap.serving import Documents

    return Documents({})


def child(url: str, render: str) -> dict[str, Any]:
    """One builder's first step over the store at `url`, its case book emptied first."""
    import pandas as pd
    import psutil

    from gridmap.serving import Builder, Shelf, resolve
    from gridmap.stores import open_store
    from gridmap.stores.cases import CASE_COLUMNS, EVENT_COLUMNS

    me = psutil.Process()
    out: dict[str, Any] = {}
    with open_store(url) as store, tempfile.TemporaryDirectory() as shelf:
        store.case_book().replace(
            pd.DataFrame(columns=list(CASE_COLUMNS)), pd.DataFrame(columns=list(EVENT_COLUMNS))
        )
        builder = Builder(store, Shelf(Path(shelf)), resolve(render))
        sync = builder.sync_repairs

        def timed() -> Any:
            out["rss_before_sync_mib"] = me.memory_info().rss / 2**20
            start = time.perf_counter()
            done = sync()
            out["sync_s"] = time.perf_counter() - start
            out["opened"] = len(done.opened) if done is not None else None
            return done

        builder.sync_repairs = timed  # type: ignore[method-assign]
        start = time.perf_counter()
        builder.step()
        out["step_s"] = time.perf_counter() - start
        out["rss_after_mib"] = me.memory_info().rss / 2**20
        out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out["households"] = len(builder.live.frames["households"])
    return out


def sample_store(path: Path) -> None:
    """The committed sample district in a new GeoPackage at `path` (run with this checkout's code)."""
    from gridmap.sample import load_sample
    from gridmap.stores import open_store

    with open_store(str(path)) as store:
        load_sample(store)


def run(code: Path, template: Path, label: str, render: str) -> dict[str, Any]:
    """A child builder with the code at `code` over a fresh copy of `template`."""
    copy = WORK / f"builder-start-{os.getpid()}.gpkg"
    for leftover in WORK.glob(f"{copy.name}*"):
        leftover.unlink()
    shutil.copyfile(template, copy)
    try:
        env = {**os.environ, "PYTHONPATH": str(code)}
        found = subprocess.run(
            [sys.executable, __file__, "--child", str(copy), "--render", render],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        for leftover in WORK.glob(f"{copy.name}*"):
            leftover.unlink()
    figures: dict[str, Any] = json.loads(found.stdout.strip().splitlines()[-1])
    return {"store": label, "code": "after" if code == AFTER else "base", **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path)
    parser.add_argument("--city", type=Path)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--render", default=RENDER, help="module:function rendering the documents")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.render)), flush=True)
        return
    WORK.mkdir(exist_ok=True)
    stores: list[tuple[str, Path]] = []
    if not args.skip_sample:
        sample = WORK / "builder-start-sample.gpkg"
        for leftover in WORK.glob(f"{sample.name}*"):
            leftover.unlink()
        sample_store(sample)
        stores.append(("sample", sample))
    if args.city:
        stores.append(("city", args.city))
    for label, template in stores:
        for _ in range(args.rounds):
            for code in (args.base.resolve(), AFTER):
                figures = run(code, template, label, args.render)
                print(json.dumps({**figures, "load": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
