"""Spreadsheet formula injection: text cells of a CSV that a spreadsheet would run as a formula.

A cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return is a
formula to Excel and LibreOffice (`=HYPERLINK(…)`, `=cmd|' /C calc'!A0`), and
anyone may write such text (an anonymous case's description). As OWASP
recommends, such a cell is written with a leading single quote, which makes
it text; reading a CSV removes that quote again, so an export imports back
unchanged. A value that already begins with quotes before such a character
gets one more, so the rule is exactly reversible.
"""

from __future__ import annotations

import re

import pandas as pd

TRIGGERS = "=+-@\t\r"
_NEEDS_QUOTE = re.compile(rf"^'*[{re.escape(TRIGGERS)}]")
_QUOTED = re.compile(rf"^'+[{re.escape(TRIGGERS)}]")


def neutralise_text(value: str) -> str:
    """`value` as a spreadsheet must show it, never run it."""
    return "'" + value if _NEEDS_QUOTE.match(value) else value


def _is_text(column: pd.Series) -> bool:
    return column.dtype == object or isinstance(column.dtype, pd.StringDtype)


def neutralise(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of `table` whose text cells are safe to open in a spreadsheet (numbers are left as they are)."""
    out = table.copy()
    for position in range(out.shape[1]):  # by position: a header may repeat a name
        column = out.iloc[:, position]
        if not _is_text(column):
            continue
        text = column.astype("string[pyarrow]")
        risky = text.str.match(_NEEDS_QUOTE.pattern).fillna(False).to_numpy(dtype=bool)
        if risky.any():
            quoted = column.astype(object).copy()
            quoted[risky] = "'" + text[risky].astype(object)
            out.isetitem(position, quoted.to_numpy())
    return out


def restore(table: pd.DataFrame) -> pd.DataFrame:
    """`table` read from a CSV with the quote `neutralise` added removed from its text cells."""
    for position in range(table.shape[1]):
        column = table.iloc[:, position]
        if not _is_text(column):
            continue
        text = column.astype("string[pyarrow]")
        quoted = text.str.match(_QUOTED.pattern).fillna(False).to_numpy(dtype=bool)
        if quoted.any():
            restored = column.astype(object).copy()
            restored[quoted] = text[quoted].str.slice(1).astype(object)
            table.isetitem(position, restored.to_numpy())
    return table
