"""Within one process, one SQLite library at a time has a GeoPackage file open.

A process reaching one file through two SQLite libraries (Python's `sqlite3`
and the copy GDAL carries inside itself) breaks SQLite's locking: POSIX locks
belong to the process, and closing any descriptor of a file drops every lock
the process holds on it. Each library only knows its own descriptors, so
GDAL closing the file after a read silently releases the locks of a
`sqlite3` transaction still running in another thread (and the other way
round). Another process then finds the file unlocked: it may fold the
write-ahead log back and remove it, or rebuild its index, under a writer
that has not finished, and a commit that was acknowledged is gone.

A `Gate` per file keeps the two apart inside the process: any number of
`sqlite3` connections, or any number of GDAL opens (and other plain opens of
the file), but never both at once. A side that waits is served before
newcomers of the side holding the gate, so neither starves.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

Side = Literal["sqlite", "other"]
"""Python's `sqlite3` connections, or any other opener of the file (GDAL, a file copy)."""


class Gate:
    """Mutual exclusion between two sides, each shared among its own holders (see the module docstring)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._side: Side | None = None
        self._holders = 0
        self._waiting: dict[Side, int] = {"sqlite": 0, "other": 0}
        self._mine = threading.local()

    def _depth(self, side: Side) -> int:
        depth: int = getattr(self._mine, side, 0)
        return depth

    @contextmanager
    def held(self, side: Side) -> Iterator[None]:
        """Hold the gate for `side` while the block runs (re-entrant for the same side in one thread)."""
        other: Side = "other" if side == "sqlite" else "sqlite"
        if self._depth(other):
            raise RuntimeError(f"a thread holding the file through {other} cannot open it through {side}")
        if self._depth(side):
            setattr(self._mine, side, self._depth(side) + 1)
            try:
                yield
            finally:
                setattr(self._mine, side, self._depth(side) - 1)
            return
        with self._changed:
            self._waiting[side] += 1
            try:
                while not (self._side is None or (self._side == side and not self._waiting[other])):
                    self._changed.wait()
            finally:
                self._waiting[side] -= 1
            self._side = side
            self._holders += 1
        setattr(self._mine, side, 1)
        try:
            yield
        finally:
            setattr(self._mine, side, 0)
            with self._changed:
                self._holders -= 1
                if not self._holders:
                    self._side = None
                    self._changed.notify_all()


_GATES: dict[str, Gate] = {}
_GATES_LOCK = threading.Lock()


def gate(path: str | os.PathLike[str]) -> Gate:
    """The one gate of this process for the file at `path` (and its -wal and -shm companions)."""
    key = os.path.abspath(path)
    with _GATES_LOCK:
        found = _GATES.get(key)
        if found is None:
            found = _GATES[key] = Gate()
        return found
