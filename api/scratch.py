"""Temporary folders of requests (bodies being imported, exports being sent), and sweeping the stale ones.

They can hold personal data (household contacts). A request removes its own
folder however it ends; a worker killed mid-request cannot, so each folder is
named after the worker's pid and every worker, starting, removes the folders
of processes that no longer exist.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

KINDS = ("write", "export")
_NAME = re.compile(rf"^gridmap-(?:{'|'.join(KINDS)})-(?:(\d+)-)?")


def make_folder(kind: str) -> Path:
    """A new private folder for one request; the caller removes it (`remove`)."""
    assert kind in KINDS
    return Path(tempfile.mkdtemp(prefix=f"gridmap-{kind}-{os.getpid()}-"))


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def folder(kind: str) -> Iterator[Path]:
    """A request's folder, removed on the way out whatever happens."""
    made = make_folder(kind)
    try:
        yield made
    finally:
        remove(made)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep(root: Path | None = None) -> list[Path]:
    """Remove the request folders under `root` (the temp dir) whose process is gone; returns them.

    A folder without a pid in its name was left by an earlier version, whose
    workers are gone too.
    """
    root = Path(tempfile.gettempdir()) if root is None else root
    removed = []
    for entry in root.glob("gridmap-*"):
        match = _NAME.match(entry.name)
        if match is None or not entry.is_dir() or entry.is_symlink():
            continue
        pid = match.group(1)
        if pid is not None and _alive(int(pid)):
            continue
        remove(entry)
        removed.append(entry)
    return removed
