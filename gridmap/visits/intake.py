"""A case reported from the phone page, once per idempotency key.

A phone that lost the answer to its report sends it again with the same key;
the key is claimed before the case is written and settled with its code after,
so the resend answers with that case instead of making a second one. A report
that fails frees its key; a claim its reporter never settled (a crash between
the two steps) may be taken again after `STALE_CLAIM`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.cases.lifecycle import Actor
from gridmap.errors import ConflictError, Problem, ValidationError
from gridmap.texts import Message

STALE_CLAIM = dt.timedelta(minutes=5)


def report_once(
    desk: CaseDesk, actor: Actor, report: CaseReport, key: str, now: dt.datetime | None = None
) -> tuple[dict[str, Any], bool]:
    """(the case, whether this call reported it): the case `key` was reported with, or a new one."""
    if not key.strip():
        raise ValidationError(Message("case.source_new"), [Problem(None, "key", Message("visit.blank_key"))])
    book = desk.store.visit_book()
    claimed, code = book.claim_case_key(key, now or dt.datetime.now(dt.UTC), STALE_CLAIM)
    if code is not None:
        return desk.get(actor, code), False
    if not claimed:
        raise ConflictError(Message("visit.key_busy", key=repr(key)))
    try:
        case = desk.report(actor, report)
    except BaseException:
        book.settle_case_key(key, None)
        raise
    book.settle_case_key(key, str(case["code"]))
    return case, True
