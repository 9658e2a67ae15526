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
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

from gridmap.errors import UnavailableError
from gridmap.stores import Store, open_store

P = ParamSpec("P")
T = TypeVar("T")


@functools.cache
def helper_store(url: str) -> Store:
    """The store at `url`, opened once per helper process (what it reads, it reads itself)."""
    return open_store(url, create=False)


@dataclass(frozen=True)
class _Raised:
    """An exception of the helper, sent back as its class, args and attributes.

    Pickling an exception re-calls its class with `args`, which fails for
    classes whose `__init__` takes other arguments (`ValidationError(source,
    problems)`): the pool would break and the caller get a 503 instead of the 422.
    """

    cls: type[BaseException]
    args: tuple[Any, ...]
    state: dict[str, Any]

    def rebuilt(self) -> BaseException:
        exc = self.cls.__new__(self.cls)
        exc.args = self.args
        exc.__dict__.update(self.state)
        return exc


def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run in the helper: `fn`'s result, or its exception as a `_Raised`."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        raised = _Raised(type(exc), exc.args, dict(vars(exc)))
        try:
            pickle.dumps(raised)
        except Exception:
            return _Raised(RuntimeError, (f"{type(exc).__name__}: {exc}",), {})
        return raised


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
            result = pool.submit(_call, fn, args, kwargs).result()
        except BrokenProcessPool:
            with self._lock:  # the helper died (killed for memory?): the next call starts a new one
                if self._pool is pool:
                    self._pool = None
            raise UnavailableError("the export process stopped; try again") from None
        if isinstance(result, _Raised):
            raise result.rebuilt()
        return cast(T, result)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
