"""Text a spreadsheet would run as a formula is quoted in CSVs, and the quote is removed on reading."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.formulas import neutralise, neutralise_text, restore


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","点我")', '\'=HYPERLINK("http://x","点我")'),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+86 138", "'+86 138"),
        ("-1层", "'-1层"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),
        ("幸福社区", "幸福社区"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_cells_that_would_run_are_quoted(value: str, written: str) -> None:
    assert neutralise_text(value) == written
    table = pd.DataFrame({"text": [value], "number": [-1.5]})
    out = neutralise(table)
    assert out["text"].iloc[0] == written and out["number"].iloc[0] == -1.5
    assert restore(out)["text"].iloc[0] == value


@settings(deadline=None)  # a busy machine
@given(st.lists(st.one_of(st.none(), st.text(alphabet="'=+-@\t\rab网", max_size=6)), min_size=1, max_size=20))
def test_reading_undoes_writing_exactly(values: list[str | None]) -> None:
    table = pd.DataFrame({"text": pd.Series(values, dtype=object)})
    back = restore(neutralise(table))["text"].tolist()
    assert [None if pd.isna(v) else v for v in back] == values
