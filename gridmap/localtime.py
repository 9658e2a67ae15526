"""Times as people read them: Beijing time (Asia/Shanghai), while stores keep UTC.

Every table, message and report a person reads shows an instant through
`beijing()`, so "08:43 UTC" and "+00:00" never reach a 社区 worker; files for
other programs keep ISO 8601 with the offset (also Beijing's, +08:00).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(value: dt.datetime | str | None, *, seconds: bool = False) -> str:
    """`value` (aware, or naive meaning UTC; or ISO text) as "2026-12-07 16:43" in Beijing time."""
    if value is None or value == "":
        return ""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
