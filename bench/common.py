"""Shared benchmark plumbing: medians of repeated runs, peak memory, RESULTS.md sections."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).with_name("RESULTS.md")
WORK = Path(__file__).with_name("work")


def median_seconds(fn: Callable[[], Any], repeat: int = 5, warmup: int = 0) -> float:
    """Median wall time of `repeat` calls of `fn` (after `warmup` untimed calls)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _child(fn: Callable[[], Any], queue: Any) -> None:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    queue.put((elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def run_isolated(fn: Callable[[], Any]) -> tuple[float, float]:
    """Run `fn` in a forked process: (seconds, peak resident memory in MiB)."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, queue))
    proc.start()
    elapsed, peak = queue.get()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"benchmark child failed with exit code {proc.exitcode}")
    return float(elapsed), float(peak)


def run_cli(args: list[str], source: str | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak MiB of `python -m gridmap ARGS` in a child process.

    With `source` (a directory holding another `gridmap` package) the child runs from there:
    `python -m` puts its working directory first on the path. The figures are the child's own
    (`wait4`), not the maximum over every child so far.
    """
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "gridmap", *args], cwd=source, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, child.args)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def machine() -> str:
    """One line naming the machine the figures were taken on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Python {platform.python_version()}"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section `name` of bench/RESULTS.md, stamped with machine and date."""
    stamp = f"_Measured {dt.date.today().isoformat()} on {machine()}._"
    block = f"<!-- bench:{name} -->\n{stamp}\n\n{body.strip()}\n<!-- /bench:{name} -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
    RESULTS.write_text(text)


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def analysed(base: str, timeout: float) -> bool:
    """Whether the server at `base` answers /health and has published its first analysis.

    A server takes requests at once and builds its first analysis meanwhile; the
    benchmarks that read coverage wait for both.
    """
    try:
        answer = httpx.get(f"{base}/health", timeout=timeout)
    except httpx.TransportError:
        return False
    return answer.status_code == 200 and answer.json().get("analysis") == "published"
