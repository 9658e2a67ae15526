"""Who writes, and what a revision looks like when read back.

Every write to a store is one revision: when, who, the command, and each
changed feature's full before and after. The author is taken from the
context (`acting_as`): the API sets the token's name and role around a
request's write; anything else (the CLI, scripts) is recorded as the OS user
running the command line. History carries personal data, so whoever shows it
passes it through `visible`, which masks exactly as the layers are masked.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from gridmap.catalogue import get_layer
from gridmap.privacy import Role, protect

__all__ = ["Author", "FeatureChange", "Revision", "acting_as", "current_author", "visible"]


@dataclass(frozen=True)
class Author:
    """Who made a write and with what command."""

    name: str
    role: str | None
    command: str


_author: ContextVar[Author | None] = ContextVar("gridmap_author", default=None)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def current_author() -> Author:
    """The author set by `acting_as`, else the OS user and the command line of this process."""
    set_ = _author.get()
    if set_ is not None:
        return set_
    command = (
        " ".join(["gridmap", *sys.argv[1:]]) if sys.argv and "gridmap" in sys.argv[0] else " ".join(sys.argv)
    )
    return Author(_os_user(), None, command or "python")


@contextmanager
def acting_as(name: str, role: str | None, command: str) -> Iterator[Author]:
    """Record writes made inside the block as made by `name` (`role`) running `command`."""
    author = Author(name, role, command)
    token = _author.set(author)
    try:
        yield author
    finally:
        _author.reset(token)


@dataclass
class FeatureChange:
    """One feature changed by one revision: its stored row before and after (None when absent)."""

    layer: str
    code: str
    op: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass
class Revision:
    """One write: its number, time, author, command, per-layer counts and (when asked for) its changes."""

    id: int
    at: dt.datetime
    author: str
    role: str | None
    command: str
    reverts: int | None
    counts: dict[str, dict[str, int]]
    changes: list[FeatureChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "revision": self.id,
            "at": self.at.isoformat(timespec="seconds"),
            "author": self.author,
            "role": self.role,
            "command": self.command,
            "reverts": self.reverts,
            "counts": self.counts,
            "changes": [
                {"layer": c.layer, "code": c.code, "op": c.op, "before": c.before, "after": c.after}
                for c in self.changes
            ],
        }


def feature_changes(layer: str, before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> list[FeatureChange]:
    """Pair the before and after rows of one layer of one revision by code (either side may be missing)."""
    spec = get_layer(layer)
    olds = _records(before)
    news = _records(after)
    out: list[FeatureChange] = []
    for code in sorted(set(olds) | set(news)):
        old, new = olds.get(code), news.get(code)
        op = "inserted" if old is None else "deleted" if new is None else "updated"
        out.append(FeatureChange(spec.name, code, op, old, new))
    return out


def _records(frame: gpd.GeoDataFrame) -> dict[str, dict[str, Any]]:
    """Rows as JSON-ready dicts keyed by code (geometry as WKT)."""
    if len(frame) == 0:
        return {}
    table = pd.DataFrame(frame.drop(columns="geometry")).astype(object)
    table = table.where(table.notna(), None)
    table["geometry"] = [None if g is None else g.wkt for g in frame.geometry.values]
    return {str(row["code"]): {str(k): v for k, v in row.items()} for row in table.to_dict("records")}


def visible(changes: list[FeatureChange], role: Role | str) -> list[FeatureChange]:
    """Changes as `role` may read them: personal fields masked or removed as in the layers."""
    out: list[FeatureChange] = []
    for change in changes:
        sides: list[dict[str, Any] | None] = []
        for side in (change.before, change.after):
            if side is None:
                sides.append(None)
                continue
            shown = protect(change.layer, gpd.GeoDataFrame(pd.DataFrame([side])), role)
            row = shown.astype(object).where(shown.notna(), None).to_dict("records")[0]
            sides.append({str(k): v for k, v in row.items()})
        out.append(FeatureChange(change.layer, change.code, change.op, sides[0], sides[1]))
    return out


def set_author(author: Author) -> None:
    """Record the writes of the current context (one API request's task) as made by `author`."""
    _author.set(author)
