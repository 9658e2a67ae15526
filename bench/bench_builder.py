"""The analysis builder under sustained writes: its memory, its publish times, how stale coverage gets.

The real builder process (`python -m gridmap.serving`, the one `gridmap serve`
starts) follows a store while writer threads keep creating households, moving
them and renaming speakers; every few seconds its resident memory, the newest
published revision and the store's are sampled. Staleness is how long ago the
store first held a write the newest published edition does not show yet.

    python -m bench.bench_builder --minutes 30 [--store URL] [--writers 8]

Writes bench/RESULTS.md section "builder".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import shapely

from bench.common import WORK, table, write_section
from gridmap.sample import load_sample
from gridmap.serving import Shelf
from gridmap.stores import open_store

SAMPLE_SECONDS = 5.0
OBSERVE_SECONDS = 0.25  # how often the store's and the shelf's revisions are compared


def sample_store() -> str:
    """A fresh GeoPackage holding the sample district."""
    path = Path(WORK) / "builder-sample.gpkg"
    for leftover in path.parent.glob(f"{path.name}*"):
        leftover.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_store(str(path)) as store:
        load_sample(store)
    return str(path)


def counter(revision: str) -> int:
    """The write counter of a store revision (`<counter>.<digest>` or a number)."""
    return int(revision.split(".")[0])


def write(url: str, writer: int, stop: threading.Event, done: list[int], pause: float) -> None:
    """Create a household, move an existing one, rename a speaker, round after round."""
    with open_store(url) as store:
        households = store.read("households")
        speakers = store.read("speakers")
        n = 0
        while not stop.is_set():
            row = households.iloc[[(writer * 7919 + n) % len(households)]].copy()
            point = row.geometry.iloc[0]
            moved = row.set_geometry([shapely.Point(point.x + 1e-5 * (n % 7 - 3), point.y)], crs=row.crs)
            new = moved.assign(code=f"BW{writer}-{n}")
            speaker = speakers.iloc[[(writer + n) % len(speakers)]].assign(name=f"喇叭 {writer}-{n}")
            for layer, frame in (("households", new), ("households", moved), ("speakers", speaker)):
                store.upsert(layer, frame)
                done[writer] += 1
            n += 1
            stop.wait(pause)


def measure(url: str, minutes: float, writers: int, pause: float) -> list[dict[str, float]]:
    shelf_dir = Path(tempfile.mkdtemp(prefix="bench-builder-"))
    render, parent = "api.coverage:documents", str(os.getpid())
    command = [sys.executable, "-m", "gridmap.serving", str(shelf_dir), render, parent]
    builder = subprocess.Popen(command, env={**os.environ, "GRIDMAP_STORE": url})
    shelf, proc = Shelf(shelf_dir), psutil.Process(builder.pid)
    samples: list[dict[str, float]] = []
    stop = threading.Event()
    done = [0] * writers
    threads = [threading.Thread(target=write, args=(url, w, stop, done, pause)) for w in range(writers)]
    try:
        while shelf.newest() is None:
            time.sleep(0.5)
        started = next_sample = time.monotonic()
        for thread in threads:
            thread.start()
        seen: list[tuple[float, int]] = []  # when the store was first seen at each counter
        with open_store(url) as store:
            while (elapsed := time.monotonic() - started) < minutes * 60:
                time.sleep(OBSERVE_SECONDS)
                now, at = time.monotonic(), counter(store.revision())
                if not seen or at > seen[-1][1]:
                    seen.append((now, at))
                edition = shelf.newest()
                assert edition is not None
                shown = counter(edition.revision)
                # Stale: how long ago the store first held a write the newest edition does not show.
                unshown = [t for t, c in seen if c > shown]
                seen = [(t, c) for t, c in seen if c > shown] or seen[-1:]
                if now >= next_sample:
                    next_sample += SAMPLE_SECONDS
                    samples.append(
                        {
                            "minute": elapsed / 60,
                            "rss_mib": proc.memory_info().rss / 2**20,
                            "writes": sum(done),
                            "revisions_behind": at - shown,
                            "stale_s": now - unshown[0] if unshown else 0.0,
                            "publish_s": edition.seconds,
                        }
                    )
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        builder.terminate()
        builder.wait(timeout=30)
    return samples


def report(samples: list[dict[str, float]], args: argparse.Namespace) -> str:
    minutes = samples[-1]["minute"] if samples else 0.0
    rows = []
    for minute in sorted({int(s["minute"]) for s in samples}):
        window = [s for s in samples if int(s["minute"]) == minute]
        rows.append(
            [
                minute,
                f"{max(s['rss_mib'] for s in window):.0f}",
                int(window[-1]["writes"]),
                int(max(s["revisions_behind"] for s in window)),
                f"{max(s['stale_s'] for s in window):.1f}",
                f"{max(s['publish_s'] for s in window):.2f}",
            ]
        )
    peak = max(s["rss_mib"] for s in samples)
    first = samples[0]["rss_mib"]
    lines = [
        f"The builder process (`python -m gridmap.serving`) following the sample district "
        f"({args.store or 'GeoPackage'}) for {minutes:.1f} minutes while {args.writers} writer threads "
        f"created households, moved households and renamed speakers (pause {args.pause} s between rounds); "
        f"sampled every {SAMPLE_SECONDS:.0f} s. Resident memory {first:.0f} MiB after the first sample, "
        f"peak {peak:.0f} MiB; {int(samples[-1]['writes'])} writes. Per minute: the peak memory, the writes "
        "so far, the most revisions the newest edition was behind the store, the age of the oldest "
        "write not yet shown (stale), and the slowest publish.",
        "",
        table(["minute", "RSS MiB", "writes", "revisions behind", "stale s", "publish s"], rows),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--pause", type=float, default=0.2, help="seconds a writer rests between rounds")
    parser.add_argument(
        "--store", default=None, help="a store holding the sample (default: a fresh GeoPackage)"
    )
    args = parser.parse_args()
    url = args.store or sample_store()
    samples = measure(url, args.minutes, args.writers, args.pause)
    write_section("builder", report(samples, args))


if __name__ == "__main__":
    main()
