"""催办 and 督办: which dispatched cases need a reminder, a notice or escalation on a given day.

On a day D (local, in the calendar's timezone), for each dispatched case
not yet handled:

- 今日到期 due today: its deadline falls on D;
- 催办 reminder: its deadline falls on the next working day after D (one
  working day before it);
- 催办通知 notice: its deadline fell on the working day before D (one
  working day after it expired);
- 督办 escalation: it is overdue by at least `escalate_after` working days,
  so the level above (社区 for a grid case, 街道 for a community case) takes
  it up.

The store selects the candidates (dispatched, due before the end of the
next working day); the calendar sorts them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gridmap.cases.calendar import WorkingCalendar
from gridmap.cases.vocabulary import LEVEL_ORDER, Term

DEFAULT_ESCALATE_AFTER = 3
"""Working days overdue after which a case is escalated (督办) to the level above."""

REMINDER_KINDS: dict[str, Term] = {
    t.code: t
    for t in (
        Term("escalate", "督办", "Escalate"),
        Term("notice", "催办通知", "Overdue notice"),
        Term("due_today", "今日到期", "Due today"),
        Term("remind", "催办", "Reminder"),
    )
}
"""The kinds of reminder, most urgent first."""


@dataclass(frozen=True)
class Reminder:
    """One case to chase on a day: what kind, and for escalation the level that takes it up."""

    case: Mapping[str, Any]
    kind: str
    overdue_days: int
    escalate_to: str | None = None


def window(day: dt.date, calendar: WorkingCalendar) -> dt.datetime:
    """The instant before which a deadline must fall to matter on `day` (end of the next working day)."""
    after = calendar.add_working_days(day, 1) + dt.timedelta(days=1)
    return dt.datetime.combine(after, dt.time(), tzinfo=calendar.zone)


def reminders(
    cases: Iterable[Mapping[str, Any]],
    day: dt.date,
    calendar: WorkingCalendar,
    *,
    escalate_after: int = DEFAULT_ESCALATE_AFTER,
) -> list[Reminder]:
    """The reminders of `day` among dispatched `cases`, most urgent first, then by deadline."""
    out: list[Reminder] = []
    next_day = calendar.add_working_days(day, 1)
    previous_day = calendar.add_working_days(day, -1)
    for case in cases:
        due = case.get("due_at")
        if due is None or case.get("status") != "dispatched":
            continue
        due_day = due.astimezone(calendar.zone).date()
        late = calendar.working_days_between(due_day, day) if due_day < day else 0
        if late >= escalate_after:
            level = case.get("level") or LEVEL_ORDER[0]
            above = LEVEL_ORDER[min(LEVEL_ORDER.index(level) + 1, len(LEVEL_ORDER) - 1)]
            out.append(Reminder(case, "escalate", late, above))
        elif due_day == previous_day:
            out.append(Reminder(case, "notice", late))
        elif due_day == day:
            out.append(Reminder(case, "due_today", 0))
        elif due_day == next_day:
            out.append(Reminder(case, "remind", 0))
    order = list(REMINDER_KINDS)
    return sorted(out, key=lambda r: (order.index(r.kind), r.case["due_at"], r.case["code"]))
