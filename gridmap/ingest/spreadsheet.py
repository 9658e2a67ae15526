"""Codes and phone numbers a spreadsheet rewrote as numbers, found before a row is checked.

A layer CSV opened and saved in Excel (or WPS) comes back with
`420106001001001001001` as `4.20106001001001E+22` (digits past the 15th
lost), `13812341234` as `13812341234.0`, and `0101` or `02788889999` without
their leading zero. Every row would then fail on its code or its parent's
code, and the many errors would not say why; this check says it once per
column, with what to do instead.
"""

from __future__ import annotations

import re

import pandas as pd

from gridmap.catalogue import Field, Layer
from gridmap.errors import Problem
from gridmap.ingest.columns import ColumnMapping
from gridmap.ingest.values import as_text, is_code
from gridmap.texts import Message

_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_DECIMAL_TAIL = re.compile(r"^\d+\.0+$")
_DIGITS = re.compile(r"^\d+$")


def _is_phone(f: Field) -> bool:
    return f.name.endswith("_phone")


def _row(found: pd.Series) -> int:
    """The position in the file of the first value found (the table's index counts rows from 0)."""
    return int(found.index.to_numpy()[0])


def _damage(f: Field, text: pd.Series) -> tuple[Message, int] | None:
    """How the column was mangled and the first row showing it, or None when it looks as typed."""
    given = text.dropna().astype(str).str.strip()
    given = given[given != ""]
    if given.empty:
        return None
    scientific = given[given.str.match(_SCIENTIFIC)]
    if not scientific.empty:
        return Message("sheet.scientific", example=repr(scientific.iat[0])), _row(scientific)
    decimal = given[given.str.match(_DECIMAL_TAIL)]
    if not decimal.empty:
        return Message("sheet.decimal", example=repr(decimal.iat[0])), _row(decimal)
    digits = given[given.str.match(_DIGITS)]
    if _is_phone(f):
        # Mobiles start with 1 and landlines with their area code's 0 (400/800 service numbers
        # aside): any other start lost its 0.
        service = (digits.str.len() == 10) & digits.str[:3].isin(["400", "800"])
        lost = digits[~digits.str[0].isin(["0", "1"]) & ~service]
        if not lost.empty:
            return Message("sheet.lost_zero", example=repr(lost.iat[0])), _row(lost)
        return None
    if len(digits) == len(given) and len(given) > 1:
        lengths = digits.str.len()
        usual = int(lengths.mode().to_numpy()[0])
        with_zero = (digits.str[0] == "0") & (lengths == usual)
        short = digits[lengths < usual]
        if with_zero.any() and not short.empty:
            return Message("sheet.lost_zeros", example=repr(short.iat[0])), _row(short)
    return None


def mangled_columns(
    spec: Layer, table: pd.DataFrame, mapping: ColumnMapping, *, offset: int = 0
) -> list[Problem]:
    """One problem per code or phone column a spreadsheet mangled (empty when none was); rows are
    numbered after the `offset` rows before `table` in its file."""
    problems: list[Problem] = []
    for f in spec.input_fields:
        column = mapping.fields.get(f.name)
        if column is None or not (is_code(f) or _is_phone(f)):
            continue
        text = as_text(table[column]).reset_index(drop=True)
        found = _damage(f, text)
        if found is not None:
            how, row = found
            reason = Message("sheet.mangled", column=repr(column), how=how, row=offset + row + 1)
            problems.append(Problem(None, f.name, reason))
    return problems
