"""Turning raw cell values into typed field values, reporting every value that cannot be read.

Work is done per column with Arrow kernels (trim, cast, lookup); only the
cells that miss the fast path are looked at again, once per distinct value,
so a million-row file costs a handful of array operations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridmap.catalogue import Field, Layer
from gridmap.errors import Problem
from gridmap.ingest.columns import ColumnMapping, name_key

TEXT = pd.StringDtype("pyarrow")

MAX_CODE_LENGTH = 64
# Integers travel through float64 on the way in: beyond 2**53 they are no longer exact.
MAX_INTEGER = 2**53
# Control characters no text field may hold (tab and line breaks are allowed outside codes).
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

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
    return "" if column == f.name else f" (column {column})"


def _problems(rows: npt.NDArray[np.intp], f: Field, reason: Callable[[int], str]) -> list[Problem]:
    """One problem per row position in `rows` (0-based positions, reported 1-based)."""
    return [Problem(int(i) + 1, f.name, reason(int(i))) for i in rows]


def _numbers(f: Field, column: str, series: pd.Series) -> tuple[pd.Series, list[Problem]]:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        number = np.array(series.to_numpy(dtype=np.float64, na_value=np.nan))
        text = series.astype(TEXT)
    else:
        text = as_text(series)
        number = parse_numbers(text)
    given = text.notna().to_numpy()
    unreadable = given & ~np.isfinite(number)
    kind = "an integer" if f.type == "integer" else "a number"
    label = _label(f, column)
    problems = _problems(np.flatnonzero(unreadable), f, lambda i: f"{text.iat[i]!r} is not {kind}{label}")
    if f.type == "integer":
        fractional = np.isfinite(number) & (number != np.round(number))
        problems += _problems(
            np.flatnonzero(fractional), f, lambda i: f"{text.iat[i]!r} is not {kind}{label}"
        )
        number[fractional] = np.nan
    huge = np.isfinite(number) & (np.abs(number) > MAX_INTEGER)
    out_of_range = f"is out of range (at most {MAX_INTEGER:,}){label}"
    problems += _problems(np.flatnonzero(huge), f, lambda i: f"{text.iat[i]!r} {out_of_range}")
    number[huge] = np.nan
    negative = np.flatnonzero(number < 0)
    problems += _problems(negative, f, lambda i: f"negative {f.name} {text.iat[i]}{label}")
    values = pd.Series(np.where(np.isfinite(number), number, np.nan), index=series.index)
    return values.astype("Int64" if f.type == "integer" else "float64"), problems


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
    f: Field, column: str, series: pd.Series, lookup: dict[str, object], expected: str
) -> tuple[npt.NDArray[np.intp], list[Problem]]:
    """Positions into `lookup` of each cell (-1 where empty); a problem for each cell not in it."""
    text = as_text(series)
    positions = _lookup_positions(text, list(lookup))
    bad = np.flatnonzero(text.notna().to_numpy() & (positions < 0))
    label = _label(f, column)
    return positions, _problems(bad, f, lambda i: f"{text.iat[i]!r} is not {expected}{label}")


def is_code(f: Field) -> bool:
    """A feature's code or a reference to one (street_code, building_code, ...)."""
    return f.name == "code" or f.name.endswith("_code")


def text_problems(f: Field, raw: pd.Series, label: str = "") -> list[Problem]:
    """Cells of text field `f` that cannot be stored as given, judged before any trimming.

    A code is printable (no control characters, not even a trailing line break
    that trimming would hide) and at most MAX_CODE_LENGTH characters; any text
    is free of NUL and other control characters, which some stores drop silently.
    """
    text = raw.astype(TEXT)
    given = text.notna().to_numpy()
    if is_code(f):
        printable = pc.utf8_is_printable(pa.array(text.array)).fill_null(True)
        bad = given & ~np.asarray(printable.to_numpy(zero_copy_only=False), dtype=bool)
        long = given & (text.str.len().fillna(0).to_numpy() > MAX_CODE_LENGTH)
        return _problems(
            np.flatnonzero(bad),
            f,
            lambda i: f"{text.iat[i]!r} holds control or non-printing characters{label}",
        ) + _problems(
            np.flatnonzero(long & ~bad), f, lambda i: f"longer than {MAX_CODE_LENGTH} characters{label}"
        )
    control = given & text.str.contains(_CONTROL, regex=True).fillna(False).to_numpy(dtype=bool)
    return _problems(np.flatnonzero(control), f, lambda i: f"holds control characters{label}")


def read_field(f: Field, column: str, series: pd.Series) -> tuple[pd.Series, list[Problem]]:
    """Typed values of one field and the problems of the cells that are not valid."""
    if f.type in ("integer", "real"):
        return _numbers(f, column, series)
    if f.type == "boolean":
        positions, problems = _mapped(
            f, column, series, dict(BOOLEANS), "yes/no (是/否, Y/N, 1/0, true/false)"
        )
        truth = np.array([*BOOLEANS.values(), False], dtype=bool)[positions]
        return pd.Series(pd.arrays.BooleanArray(truth, positions < 0), index=series.index), problems
    if f.choices:
        lookup = choice_lookup(f)
        spellings = ", ".join(f"{c} ({'/'.join(_SYNONYMS.get(c, ())[:2])})" for c in f.choices)
        positions, problems = _mapped(f, column, series, dict(lookup), f"one of {spellings}")
        chosen = np.array([*lookup.values(), None], dtype=object)[positions]
        return pd.Series(chosen, index=series.index, dtype=TEXT), problems
    return as_text(series), text_problems(f, series, _label(f, column))


def read_fields(
    layer: Layer, table: pd.DataFrame, mapping: ColumnMapping
) -> tuple[pd.DataFrame, list[Problem]]:
    """Every mapped field, typed; problems for unreadable values, missing required columns and empty cells."""
    columns: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    for f in layer.input_fields:
        column = mapping.fields.get(f.name)
        if column is None:
            if f.required:
                names = "/".join(dict.fromkeys([f.name, f.label_zh, *f.aliases]))
                problems.append(
                    Problem(None, f.name, f"required column is missing (accepted names: {names})")
                )
            continue
        values, found = read_field(f, column, table[column])
        problems += found
        if f.required:
            empty = np.flatnonzero(values.isna().to_numpy())
            problems += _problems(empty, f, lambda _i: "required value is empty")
        columns[f.name] = values
    return pd.DataFrame(columns, index=table.index), problems
