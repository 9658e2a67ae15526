"""Turning raw cell values into typed field values, reporting every value that cannot be read.

Work is done per column with Arrow kernels (trim, cast, lookup); only the
cells that miss the fast path are looked at again, once per distinct value,
so a million-row file costs a handful of array operations.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridmap.catalogue import (
    CODE_FORBIDDEN,
    MASKED_PHONE,
    MAX_CODE_LENGTH,
    PHONE,
    PHONE_SEPARATORS,
    UNSAFE_TEXT,
    Field,
    Layer,
)
from gridmap.errors import Problem
from gridmap.ingest.columns import ColumnMapping, name_key
from gridmap.texts import Message

TEXT = pd.StringDtype("pyarrow")

# Integers travel through float64 on the way in: beyond 2**53 they are no longer exact.
MAX_INTEGER = 2**53
# Control characters no text field may hold (tab and line breaks are allowed outside codes).

_TRUE = ("是", "y", "yes", "1", "true", "t", "√", "✓", "有")
_FALSE = ("否", "n", "no", "0", "false", "f", "×", "✗", "无")
BOOLEANS: dict[str, bool] = {**{name_key(v): True for v in _TRUE}, **{name_key(v): False for v in _FALSE}}

# What people write for each choice; the catalogue's own value is always accepted too.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "working": ("正常", "在用", "良好", "完好", "运行", "ok", "normal"),
    "broken": ("损坏", "故障", "坏", "停用", "失效", "fault"),
    "community": ("社区", "居委会", "居民委员会", "城市社区"),
    "village": ("村", "行政村", "村委会", "村民委员会"),
}


# A number followed by the unit people type after it: "3层", "2.5 F", "４人", "300米".
_NUMBER_WITH_UNIT = re.compile(r"^([-+]?\d+(?:\.\d+)?)\s*(?:层|楼|f|人|口|户|米|m|个|间|座)?$", re.IGNORECASE)
# A yes/no with a remark in brackets ("是（党员）") or written as a decimal by a spreadsheet ("1.0").
_ANNOTATED_BOOLEAN = re.compile(r"^(.+?)\s*[（(].*[)）]$")
_DECIMAL_BOOLEAN = {"1.0": "1", "0.0": "0"}


@dataclass
class FieldValue:
    """Typed values of one field, its unreadable cells, and (with --fix) the cells repaired."""

    values: pd.Series
    problems: list[Problem] = field(default_factory=list)
    repaired: list[Problem] = field(default_factory=list)


@dataclass
class FieldValues:
    """Typed values of the mapped fields, the unreadable cells, and (with --fix) the cells repaired."""

    values: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    repaired: list[Problem] = field(default_factory=list)


def choice_lookup(f: Field) -> dict[str, str]:
    """Accepted spellings (as name keys) of each of `f`'s choices."""
    return {name_key(s): c for c in f.choices for s in (c, *_SYNONYMS.get(c, ()))}


def as_text(series: pd.Series) -> pd.Series:
    """Trimmed text, empty cells as NA; numbers from typed files written without a spurious '.0'."""
    if pd.api.types.is_float_dtype(series.dtype):
        finite = series.dropna()
        if (finite == finite.round()).all() and (finite.abs() < MAX_INTEGER).all():
            series = series.astype("Int64")
    text = series.astype(TEXT).str.strip()
    return text.mask(text == "")


def parse_numbers(text: pd.Series) -> npt.NDArray[np.float64]:
    """Trimmed text to floats, NaN where empty or unreadable.

    Arrow's cast parses a million cells in milliseconds but fails whole on one
    bad cell; only then is the slower, forgiving pandas parser used.
    """
    try:
        parsed = pc.cast(pa.array(text.array), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if isinstance(parsed, pa.ChunkedArray):
        parsed = parsed.combine_chunks()
    return np.array(parsed.to_numpy(zero_copy_only=False), dtype=np.float64)


def _label(f: Field, column: str) -> str:
    return "" if column == f.name else Message("import.in_column", column=column)


def _repaired(cell: object, value: str, label: str) -> Message:
    """The reason of a cell `--fix` repaired: what it held and what it holds now."""
    return Message(
        "import.repaired", what=Message("import.replaced", cell=repr(cell), value=value, label=label)
    )


def _problems(rows: npt.NDArray[np.intp], f: Field, reason: Callable[[int], str]) -> list[Problem]:
    """One problem per row position in `rows` (0-based positions, reported 1-based)."""
    return [Problem(int(i) + 1, f.name, reason(int(i))) for i in rows]


def _unit_numbers(text: pd.Series, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    """The number in each of `rows`' cells written with a unit or in full width ("3层"), else NaN."""
    distinct, codes = np.unique(text.iloc[rows].astype(str).to_numpy(), return_inverse=True)
    parsed = []
    for cell in distinct:
        found = _NUMBER_WITH_UNIT.match(unicodedata.normalize("NFKC", cell).strip())
        parsed.append(float(found.group(1)) if found else np.nan)
    return np.asarray(parsed, dtype=np.float64)[codes]


def _numbers(f: Field, column: str, series: pd.Series, *, fix: bool) -> FieldValue:
    """Numbers of one field; with `fix`, a unit after the number is dropped and a fraction of an
    integer field is rounded half up (OpenStreetMap's 2.5 floors → 3), each repair listed."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        number = np.array(series.to_numpy(dtype=np.float64, na_value=np.nan))
        text = series.astype(TEXT)
    else:
        text = as_text(series)
        number = parse_numbers(text)
    given = text.notna().to_numpy()
    kind = Message("import.an_integer" if f.type == "integer" else "import.a_number")
    label = _label(f, column)
    repaired: list[Problem] = []
    rows = np.flatnonzero(given & ~np.isfinite(number))
    repairable = np.zeros(len(number), dtype=bool)
    if rows.size:
        candidates = _unit_numbers(text, rows)
        repairable[rows] = np.isfinite(candidates)
        if fix:
            number[rows] = candidates
            repaired += _problems(
                np.flatnonzero(repairable), f, lambda i: _repaired(text.iat[i], f"{number[i]:g}", label)
            )
    unreadable = given & ~np.isfinite(number)
    problems = _problems(
        np.flatnonzero(unreadable),
        f,
        lambda i: Message(
            "import.not_kind",
            cell=repr(text.iat[i]),
            kind=kind,
            label=label,
            hint=Message("import.hint_drop_unit") if repairable[i] else "",
        ),
    )
    if f.type == "integer":
        fractional = np.isfinite(number) & (number != np.round(number))
        if fix:
            rounded = np.floor(number + 0.5)
            repaired += _problems(
                np.flatnonzero(fractional),
                f,
                lambda i: Message(
                    "import.repaired",
                    what=Message(
                        "import.rounded", cell=repr(text.iat[i]), value=f"{rounded[i]:g}", label=label
                    ),
                ),
            )
            number = np.where(fractional, rounded, number)
        else:
            problems += _problems(
                np.flatnonzero(fractional),
                f,
                lambda i: Message(
                    "import.not_kind",
                    cell=repr(text.iat[i]),
                    kind=kind,
                    label=label,
                    hint=Message("import.hint_round"),
                ),
            )
            number[fractional] = np.nan
    huge = np.isfinite(number) & (np.abs(number) > MAX_INTEGER)
    problems += _problems(
        np.flatnonzero(huge),
        f,
        lambda i: Message("import.out_of_range", cell=repr(text.iat[i]), most=MAX_INTEGER, label=label),
    )
    number[huge] = np.nan
    negative = np.flatnonzero(number < 0)
    problems += _problems(
        negative, f, lambda i: Message("import.negative", field=f.name, cell=text.iat[i], label=label)
    )
    values = pd.Series(np.where(np.isfinite(number), number, np.nan), index=series.index)
    return FieldValue(values.astype("Int64" if f.type == "integer" else "float64"), problems, repaired)


def _lookup_positions(text: pd.Series, keys: list[str]) -> npt.NDArray[np.intp]:
    """Position in `keys` (name_key forms) of each trimmed cell, -1 where empty or not found.

    Arrow matches the lower-cased cells against the keys in one pass; only cells
    that miss (full-width letters, inner spaces, typos) are normalised in Python,
    once per distinct value.
    """
    found = pc.index_in(pc.utf8_lower(pa.array(text.array)), value_set=pa.array(keys, pa.string()))
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks()
    positions = np.array(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.intp)
    slow = np.flatnonzero(text.notna().to_numpy() & (positions < 0))
    if slow.size:
        where = {key: i for i, key in enumerate(keys)}
        codes, uniques = pd.factorize(text.iloc[slow])
        positions[slow] = np.array([where.get(name_key(u), -1) for u in uniques], dtype=np.intp)[codes]
    return positions


def _mapped(
    f: Field, column: str, series: pd.Series, lookup: dict[str, object], expected: Message
) -> tuple[npt.NDArray[np.intp], list[Problem]]:
    """Positions into `lookup` of each cell (-1 where empty); a problem for each cell not in it."""
    text = as_text(series)
    positions = _lookup_positions(text, list(lookup))
    bad = np.flatnonzero(text.notna().to_numpy() & (positions < 0))
    label = _label(f, column)
    return positions, _problems(
        bad,
        f,
        lambda i: Message("import.not_expected", cell=repr(text.iat[i]), expected=expected, label=label),
    )


def is_code(f: Field) -> bool:
    """A feature's code or a reference to one (street_code, building_code, ...)."""
    return f.name == "code" or f.name.endswith("_code")


def text_problems(f: Field, raw: pd.Series, label: str = "") -> list[Problem]:
    """Cells of text field `f` that cannot be stored as given, judged before any trimming.

    The rules are the catalogue's: a code is printable (no control characters,
    not even a trailing line break that trimming would hide), holds none of
    `CODE_FORBIDDEN` and at most MAX_CODE_LENGTH characters; any text is free
    of control characters and bidirectional overrides (`UNSAFE_TEXT`) and at
    most its field's `max_length`; a phone field holds a phone number.
    """
    text = raw.astype(TEXT)
    given = text.notna().to_numpy()
    if is_code(f):
        printable = pc.utf8_is_printable(pa.array(text.array)).fill_null(True)
        bad = given & ~np.asarray(printable.to_numpy(zero_copy_only=False), dtype=bool)
        bad |= given & _matches(text, UNSAFE_TEXT)
        forbidden = given & ~bad & _matches(text, f"[{re.escape(CODE_FORBIDDEN)}]")
        long = given & ~bad & (text.str.len().fillna(0).to_numpy() > MAX_CODE_LENGTH)
        return (
            _problems(
                np.flatnonzero(bad),
                f,
                lambda i: Message("import.code_unprintable", cell=repr(text.iat[i]), label=label),
            )
            + _problems(
                np.flatnonzero(forbidden),
                f,
                lambda i: Message(
                    "import.code_forbidden",
                    cell=repr(text.iat[i]),
                    chars=" ".join(CODE_FORBIDDEN),
                    label=label,
                ),
            )
            + _problems(
                np.flatnonzero(long),
                f,
                lambda i: Message("import.code_long", most=MAX_CODE_LENGTH, label=label),
            )
        )
    unsafe = given & _matches(text, UNSAFE_TEXT)
    long = given & ~unsafe & (text.str.len().fillna(0).to_numpy() > f.max_length)
    problems = _problems(
        np.flatnonzero(unsafe), f, lambda i: Message("import.text_unsafe", label=label)
    ) + _problems(
        np.flatnonzero(long),
        f,
        lambda i: Message("import.text_long", n=len(str(text.iat[i])), most=f.max_length, label=label),
    )
    if f.phone:
        checked = given & ~unsafe & ~long
        digits = text.fillna("").str.replace(PHONE_SEPARATORS.pattern, "", regex=True)
        masked = digits.str.fullmatch(MASKED_PHONE.pattern).fillna(False).to_numpy(dtype=bool)
        phone = digits.str.fullmatch(PHONE.pattern).fillna(False).to_numpy(dtype=bool)
        wrong = checked & ~phone & ~masked & (digits.str.len().to_numpy() > 0)
        problems += _problems(
            np.flatnonzero(wrong),
            f,
            lambda i: Message("import.not_phone", cell=repr(text.iat[i]), label=label),
        )
    return problems


def _matches(text: pd.Series, pattern: str) -> npt.NDArray[np.bool_]:
    return np.asarray(text.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool), dtype=bool)


def _boolean_repairs(f: Field, column: str, series: pd.Series) -> tuple[pd.Series, list[Problem]]:
    """Yes/no cells with a remark in brackets ("是（党员）") or written as 1.0/0.0, reduced to the yes/no."""
    text = as_text(series)
    found = _lookup_positions(text, list(BOOLEANS))
    rows = np.flatnonzero(text.notna().to_numpy() & (found < 0))
    repaired: list[Problem] = []
    if not rows.size:
        return series, repaired
    fixed = text.copy()
    label = _label(f, column)
    for i in rows.tolist():
        cell = unicodedata.normalize("NFKC", str(text.iat[i])).strip()
        bracketed = _ANNOTATED_BOOLEAN.match(cell)
        candidate = _DECIMAL_BOOLEAN.get(cell) or (bracketed.group(1) if bracketed else None)
        if candidate is not None and name_key(candidate) in BOOLEANS:
            fixed.iat[i] = candidate
            repaired.append(Problem(i + 1, f.name, _repaired(text.iat[i], candidate, label)))
    return fixed, repaired


def read_field(f: Field, column: str, series: pd.Series, *, fix: bool = False) -> FieldValue:
    """Typed values of one field, the problems of the cells that are not valid, and the repairs (`fix`)."""
    if f.type in ("integer", "real"):
        return _numbers(f, column, series, fix=fix)
    if f.type == "boolean":
        repaired: list[Problem] = []
        if fix:
            series, repaired = _boolean_repairs(f, column, series)
        positions, problems = _mapped(f, column, series, dict(BOOLEANS), Message("import.expected_yes_no"))
        truth = np.array([*BOOLEANS.values(), False], dtype=bool)[positions]
        values = pd.Series(pd.arrays.BooleanArray(truth, positions < 0), index=series.index)
        return FieldValue(values, problems, repaired)
    if f.choices:
        lookup = choice_lookup(f)
        spellings = ", ".join(f"{c} ({'/'.join(_SYNONYMS.get(c, ())[:2])})" for c in f.choices)
        positions, problems = _mapped(
            f, column, series, dict(lookup), Message("import.expected_one_of", spellings=spellings)
        )
        chosen = np.array([*lookup.values(), None], dtype=object)[positions]
        return FieldValue(pd.Series(chosen, index=series.index, dtype=TEXT), problems)
    return FieldValue(as_text(series), text_problems(f, series, _label(f, column)))


def read_fields(
    layer: Layer, table: pd.DataFrame, mapping: ColumnMapping, *, fix: bool = False
) -> FieldValues:
    """Every mapped field, typed; problems for unreadable values, missing required columns and empty cells.

    With `fix`, cells with an obvious safe repair are repaired and listed (see `read_field`).
    """
    columns: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    repaired: list[Problem] = []
    for f in layer.input_fields:
        column = mapping.fields.get(f.name)
        if column is None:
            if f.required:
                names = "/".join(dict.fromkeys([f.name, f.label_zh, *f.aliases]))
                problems.append(Problem(None, f.name, Message("import.required_column", names=names)))
            continue
        read = read_field(f, column, table[column], fix=fix)
        problems += read.problems
        repaired += read.repaired
        if f.required:
            empty = np.flatnonzero(read.values.isna().to_numpy())
            problems += _problems(empty, f, lambda _i: Message("import.required_empty"))
        columns[f.name] = read.values
    return FieldValues(pd.DataFrame(columns, index=table.index), problems, repaired)
