"""Rows an import refused (`--skip-invalid`), kept with their reasons so nothing is dropped unseen.

The rejects file is a CSV a grid administrator opens in Excel (UTF-8 with a
byte-order mark), holding each refused row's own cells as read from the
file, its row number and every reason it was refused; once corrected it can
be imported as it is (`--mode append`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gridmap.errors import GridmapError, Problem
from gridmap.texts import Message, text

ROW = "row"
REASONS = "reasons"


def rejected_rows(table: pd.DataFrame, problems: Sequence[Problem]) -> pd.DataFrame:
    """The rows of `table` named by `problems` (1-based), with `row` and `reasons` (one per line) first."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        if p.row is not None:
            where = f"{p.field}: " if p.field else ""
            reasons.setdefault(p.row, []).append(where + text(p.reason))
    rows = sorted(reasons)
    cells = table.iloc[[r - 1 for r in rows]].reset_index(drop=True)
    out = pd.DataFrame({ROW: rows, REASONS: ["; ".join(reasons[r]) for r in rows]})
    return pd.concat([out, cells.astype(object)], axis=1)


def write_rejects(rejected: pd.DataFrame, path: str | Path) -> Path:
    """Write the refused rows to `path` as CSV; returns the path."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        rejected.to_csv(target, index=False, encoding="utf-8-sig")
    except OSError as exc:
        raise GridmapError(Message("import.rejects_unwritable", path=target, why=exc.strerror)) from None
    return target
