"""Work that holds the interpreter lock for seconds runs in a process of its own, not in a worker.

GDAL's writers (XLSX above all: 4.3 s without a pause for 100,000
households) keep the GIL for a whole file. A thread of the worker, be it the
event loop or uvicorn's health-check responder, then cannot run, and the
supervisor kills the worker with every request in flight on it. A thread pool
does not help; a process does. One spawned process per worker, started on
first use and kept: exports queue behind each other rather than multiply the
memory a big layer needs.
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from gridmap.errors import UnavailableError
from gridmap.stores import Store, open_store

P = ParamSpec("P")
T = TypeVar("T")


@functools.cache
def helper_store(url: str) -> Store:
    """The store at `url`, opened once per helper process (what it reads, it reads itself)."""
    return open_store(url, create=False)


class Offload:
    """Runs a picklable function in a spawned helper process and waits for its result (from a thread)."""

    def __init__(self, processes: int = 1) -> None:
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # Spawned, not forked: a fork of a threaded worker can inherit a held lock.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=self._processes, mp_context=context)
            return self._pool

    def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in the helper process; its exceptions are raised here."""
        pool = self._executor()
        try:
            return pool.submit(fn, *args, **kwargs).result()
        except BrokenProcessPool:
            with self._lock:  # the helper died (killed for memory?): the next call starts a new one
                if self._pool is pool:
                    self._pool = None
            raise UnavailableError("the export process stopped; try again") from None

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
