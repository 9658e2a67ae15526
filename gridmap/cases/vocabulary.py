"""The words of the case loop, declared once: statuses, actions, sources.

Everything that shows a status or an action (CLI tables, API replies, the
workbook) reads its labels here, so 上报/立案/派遣… are spelled in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Where a case is in its lifecycle 上报 → 立案 → 派遣 → 处置 → 核查 → 结案 (or 作废)."""

    REPORTED = "reported"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    HANDLED = "handled"
    CHECKED = "checked"
    CLOSED = "closed"
    VOID = "void"

    @property
    def label_zh(self) -> str:
        return STATUS_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return STATUS_LABELS[self][1]


STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.REPORTED: ("上报", "Reported"),
    Status.ACCEPTED: ("立案", "Accepted"),
    Status.DISPATCHED: ("派遣", "Dispatched"),
    Status.HANDLED: ("处置", "Handled"),
    Status.CHECKED: ("核查", "Checked"),
    Status.CLOSED: ("结案", "Closed"),
    Status.VOID: ("作废", "Void"),
}

OPEN_STATUSES = frozenset(
    {Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.HANDLED, Status.CHECKED}
)
"""Statuses of a case still in the loop."""


class Action(StrEnum):
    """A transition a caller asks for (`POST /cases/{code}/{action}`, `gridmap cases move`)."""

    ACCEPT = "accept"
    DISPATCH = "dispatch"
    HANDLE = "handle"
    CHECK = "check"
    CLOSE = "close"
    RETURN = "return"
    VOID = "void"

    @property
    def label_zh(self) -> str:
        return ACTION_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return ACTION_LABELS[self][1]


ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.ACCEPT: ("立案", "Accept"),
    Action.DISPATCH: ("派遣", "Dispatch"),
    Action.HANDLE: ("处置", "Handle"),
    Action.CHECK: ("核查", "Check"),
    Action.CLOSE: ("结案", "Close"),
    Action.RETURN: ("退回", "Return"),
    Action.VOID: ("作废", "Void"),
}


@dataclass(frozen=True)
class Source:
    """Who brought a case in."""

    code: str
    label_zh: str
    label_en: str


SOURCES: dict[str, Source] = {
    s.code: s
    for s in (
        Source("grid_worker", "网格员上报", "Grid worker"),
        Source("resident", "群众举报", "Resident"),
        Source("hotline", "12345热线", "Hotline 12345"),
        Source("other", "其他", "Other"),
    )
}
