"""Whether a GeoPackage may have changed, told by two `stat` calls instead of opening it.

Watching a city's store means asking it, many times a second, for its revision, its books'
feed position and whether external edits wait to be settled. Each answer opens the file
(SQLite parses the whole schema of triggers and tables): milliseconds, a sixth of a core
at twenty questions a second, for a file that almost never changes. Yet every commit to it,
by gridmap or any other program (QGIS, GDAL, the sqlite3 shell), ends in a write() to the
file or to its write-ahead log, and a write() moves that file's modification and change
times. A `Watch` keeps each answer with the files' `stat` taken just before the query that
gave it, and gives it again while the `stat` is the same.

Linux stamps files from a coarse clock (a tick of a few milliseconds; some file systems keep
whole seconds), so a commit just after the `stat` may leave a time as it was. An answer is
therefore only kept when every time in its `stat` was `MARGIN_SECONDS` old already: a write
after that `stat` carries a later time. Clocks can be set back and a time can be set by
hand (`touch`), so an answer is asked again after `FULL_SECONDS` whatever the `stat` says.
An absent and an empty write-ahead log are the same (no commit in it): a reader opening the
file alone creates one, and the last to close removes it, with nothing written. The log's change
time is not watched: SQLite running as root gives the log its database's owner again at every
open (`fchown`), which moves that time with nothing written; commits to the log move its
modification time, and nothing sets that back.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

MARGIN_SECONDS = 1.0
"""How old every time of the files must be for an answer to be kept (many clock ticks)."""
FULL_SECONDS = 5.0
"""The longest an answer is kept, whatever the files' times say."""

FileStamp = tuple[int, int, int, int, int]
"""A file's device, inode, size, modification and change times (ns; the log's change time as 0)."""
Stamp = tuple[FileStamp | None, FileStamp | None]
"""The GeoPackage's stamp and its write-ahead log's (None: absent or empty)."""
T = TypeVar("T")


@dataclass(frozen=True)
class _Answer:
    stamp: Stamp
    value: Any
    asked: float  # time.monotonic() when asked


class Watch:
    """The answers to questions asked of one GeoPackage file, kept while the file stays as it was."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._wal = Path(f"{path}-wal")
        self._answers: dict[str, _Answer] = {}
        self._lock = threading.Lock()

    def stamp(self) -> tuple[Stamp, bool]:
        """The files' stamp, and whether every time in it is at least `MARGIN_SECONDS` old."""
        main, wal = _file_stamp(self.path), _file_stamp(self._wal)
        if wal is not None:
            wal = None if wal[2] == 0 else (*wal[:4], 0)
        oldest_allowed = time.time_ns() - int(MARGIN_SECONDS * 1e9)
        aged = all(s[3] < oldest_allowed and s[4] < oldest_allowed for s in (main, wal) if s is not None)
        return (main, wal), aged and main is not None

    def answer(self, question: str, ask: Callable[[], T]) -> T:
        """What `ask` answered last, while the files are as they were then; else `ask()` again."""
        stamp, aged = self.stamp()  # before asking: a write after it moves the stamp
        known = self._answers.get(question)
        if known is not None and known.stamp == stamp and time.monotonic() - known.asked < FULL_SECONDS:
            return cast(T, known.value)
        asked = time.monotonic()
        value = ask()
        with self._lock:
            if aged:
                self._answers[question] = _Answer(stamp, value, asked)
            else:
                self._answers.pop(question, None)
        return value


def _file_stamp(path: Path) -> FileStamp | None:
    try:
        s = os.stat(path)
    except FileNotFoundError:
        return None
    return (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)
