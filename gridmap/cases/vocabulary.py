"""The words of the case loop, declared once: statuses, actions, sources.

Everything that shows a status or an action (CLI tables, API replies, the
workbook) reads its labels here, so 上报/立案/派遣… are spelled in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Where a case is in its lifecycle 上报 → 立案 → 派遣 → 处置 → 核查 → 结案 (or 缓办, 作废)."""

    REPORTED = "reported"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    SUSPENDED = "suspended"
    HANDLED = "handled"
    CHECKED = "checked"
    CLOSED = "closed"
    VOID = "void"
    MERGED = "merged"

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
    Status.SUSPENDED: ("缓办", "Suspended"),
    Status.HANDLED: ("处置", "Handled"),
    Status.CHECKED: ("核查", "Checked"),
    Status.CLOSED: ("结案", "Closed"),
    Status.VOID: ("作废", "Void"),
    Status.MERGED: ("已并单", "Merged"),
}

OPEN_STATUSES = frozenset(
    {Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.SUSPENDED, Status.HANDLED, Status.CHECKED}
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
    EXTEND = "extend"
    SUSPEND = "suspend"
    RESUME = "resume"
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"
    RAISE = "raise"
    SEND_DOWN = "send_down"

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
    Action.EXTEND: ("延期", "Extend"),
    Action.SUSPEND: ("缓办", "Suspend"),
    Action.RESUME: ("恢复办理", "Resume"),
    Action.APPROVE: ("批准", "Approve"),
    Action.REJECT: ("驳回", "Reject"),
    Action.REVIEW: ("回访", "Follow up"),
    Action.RAISE: ("上报上级", "Raise a level"),
    Action.SEND_DOWN: ("下派", "Send down a level"),
}

REQUESTED = frozenset({Action.RETURN, Action.VOID, Action.EXTEND, Action.SUSPEND})
"""Actions that are requests: they take effect when the level above approves them (审批台账)."""


@dataclass(frozen=True)
class Term:
    """A code and its Chinese and English labels."""

    code: str
    label_zh: str
    label_en: str


def _terms(*terms: Term) -> dict[str, Term]:
    return {t.code: t for t in terms}


SATISFACTION = _terms(
    Term("satisfied", "满意", "Satisfied"),
    Term("basic", "基本满意", "Basically satisfied"),
    Term("dissatisfied", "不满意", "Dissatisfied"),
)
"""What the reporter says at the follow-up (评价); the first two count as satisfied."""

SATISFIED = frozenset({"satisfied", "basic"})

DISSATISFACTION_REASONS = _terms(
    Term("unsolved", "问题未解决", "Problem not solved"),
    Term("recurred", "问题复发", "Problem came back"),
    Term("partly", "仅部分解决", "Only partly solved"),
    Term("slow", "办理不及时", "Too slow"),
    Term("attitude", "服务态度", "Attitude of the staff"),
    Term("unreasonable", "诉求不合理", "Request not reasonable"),
)
"""Why a reporter is dissatisfied; a category names which of these are substantive (reopen the case)."""

CHANNELS = _terms(
    Term("phone", "电话回访", "Phone call"),
    Term("channel", "原渠道回访", "Through the reporting channel"),
)
"""How a follow-up reaches the reporter; anonymous reporters only through the channel they used."""

LEVELS = _terms(
    Term("grid", "网格", "Grid"),
    Term("community", "社区", "Community"),
    Term("street", "街道", "Street"),
)
"""The levels a case is solved at, lowest first (小事不出网格, 大事不出社区)."""
LEVEL_ORDER: tuple[str, ...] = tuple(LEVELS)

DECISIONS = _terms(
    Term("pending", "待审批", "Pending"),
    Term("approved", "已批准", "Approved"),
    Term("rejected", "已驳回", "Rejected"),
)
"""Where a request of the ledger stands."""

PLACEMENTS = _terms(
    Term("address", "按地址定位", "By address"),
    Term("point", "按坐标定位", "By point"),
    Term("editor", "人工定位", "Placed by an editor"),
)
"""How a case found its grid; a case with none is unplaced (待定位) until an editor places it."""


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
        Source("open311", "Open311接入", "Open311 integrator"),
        Source("system", "系统生成", "Raised by the system"),
        Source("other", "其他", "Other"),
    )
}
