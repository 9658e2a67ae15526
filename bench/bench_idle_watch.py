"""What an idle builder costs to watch a GeoPackage: CPU seconds per second, before and after.

    .venv/bin/python -m bench.bench_idle_watch --store A.gpkg [--store B.gpkg] --baseline DIR [--seconds 30]

Workload: `Builder.run` of the code at DIR (a checkout before the change, the baseline) and of
this checkout, each in a child process of its own, on a copy of each store nobody writes: the
builder's loop (a revision poll every `REVISION_POLL_SECONDS`) and its settler thread
(`Store.settle` every `SETTLE_SECONDS`), exactly as served, over a store whose analysis is
already published. The analysis itself is not built (a city's takes minutes and gigabytes and
plays no part while nothing changes): the live analysis is told it is at the store's revision,
feed position and day, so each poll finds nothing to do. Per store and code: the child
process's CPU seconds per wall second over `--seconds`, after 3 s of warm-up, and how many
polls it made. Prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

WARMUP_S = 3.0
WORK = Path(__file__).with_name("work")


def child(store_path: str, seconds: float) -> dict[str, object]:
    """The idle builder of the gridmap on `sys.path`, measured in this process."""
    from gridmap import serving
    from gridmap.serving import Builder, Documents, Shelf
    from gridmap.stores import open_store

    polls = 0
    step = Builder.step

    def counted(self: Builder) -> object:
        nonlocal polls
        polls += 1
        return step(self)

    Builder.step = counted  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as shelf_dir, open_store(store_path) as store:
        builder = Builder(store, Shelf(Path(shelf_dir)), lambda _a, _s: Documents(whole={}))
        live = builder.live
        live.revision, live._feed, live._day = store.revision(), live._feed_position(), live.today()
        live.analysis = object()  # type: ignore[assignment]  # published already: nothing to build
        stop = threading.Event()
        thread = threading.Thread(target=builder.run, args=(stop,), daemon=True)
        thread.start()
        time.sleep(WARMUP_S)
        polls, cpu, wall = 0, time.process_time(), time.perf_counter()
        time.sleep(seconds)
        cpu, wall, done = time.process_time() - cpu, time.perf_counter() - wall, polls
        stop.set()
        thread.join(timeout=10)
    return {
        "cpu_s_per_s": round(cpu / wall, 4),
        "polls_per_s": round(done / wall, 1),
        "cpu_ms_per_poll": round(1000 * cpu / max(done, 1), 3),
        "poll_seconds": serving.REVISION_POLL_SECONDS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, action="append", default=[])
    parser.add_argument("--baseline", type=Path, help="checkout of the code before (required)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.seconds)))
        return
    if not args.store or args.baseline is None:
        parser.error("--store and --baseline are required")
    here = Path(__file__).resolve().parents[1]
    WORK.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as work:
        for source in args.store:
            copy = Path(work) / source.name
            shutil.copyfile(source, copy)
            time.sleep(1.5)  # the copy's times age as a store's do between edits
            for label, code in (("before", args.baseline.resolve()), ("after", here)):
                env = {**os.environ, "PYTHONPATH": str(code)}
                command = [sys.executable, str(Path(__file__).resolve()), "--child", str(copy)]
                done = subprocess.run(
                    [*command, "--seconds", str(args.seconds)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(done.stdout.splitlines()[-1])
                print(json.dumps({"store": source.name, "code": label, **result}), flush=True)


if __name__ == "__main__":
    main()
