"""Shared benchmark plumbing: medians of repeated runs, peak memory, RESULTS.md sections."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import re
import resource
import shutil
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


def run_on_copy(
    script: str, source: Path, copy: Path, code: Path, args: list[str], **popen: Any
) -> dict[str, Any]:
    """`python -c script ARGS` over `copy`, a copy of `source` removed after, in a child process running
    the `gridmap` of the checkout `code`: the JSON its last line of output holds.

    `-c` puts the working directory first on the path, so the child runs from `code`. Extra `popen`
    arguments (e.g. `stderr=subprocess.PIPE`) go to `subprocess.run`.
    """
    shutil.copyfile(source, copy)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, *args],
            env={**os.environ, "PYTHONPATH": str(code)},
            cwd=code,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
            **popen,
        )
    finally:
        copy.unlink(missing_ok=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_codes(
    baseline: Path, only: str | None, run: Callable[[Path, str], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """`run(code, label)` for the checkout before (`base`, at `baseline`) and this one (`after`), or the
    `only` one; printed as JSON once both are done."""
    codes = {"base": baseline.resolve(), "after": Path(__file__).resolve().parents[1]}
    found = {label: run(code, label) for label, code in codes.items() if only in (None, label)}
    print(json.dumps(found), flush=True)
    return found
