"""Roles and the masking of personal fields (contact names and phone numbers).

The catalogue marks personal fields (`Field.personal`); `protect` is the one
place that decides what a role may read, so the API, exports and maps cannot
disagree. Everything here is vectorised over pandas string columns: a
million-household layer is masked without a Python loop per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from gridmap.catalogue import Layer, get_layer
from gridmap.stores.query import Records

__all__ = [
    "CARE_FIELDS",
    "PUBLIC_HIDDEN",
    "Role",
    "mask_name",
    "mask_names",
    "mask_phone",
    "mask_phones",
    "protect",
    "protect_care",
    "protect_party",
    "protect_records",
]

# Not personal data in the catalogue's sense (grid workers are named on public
# notice boards), but an anonymous caller still does not get it.
PUBLIC_HIDDEN = ("worker_name",)

STARS = "****"

CARE_FIELDS = ("categories", "category")
"""Columns holding care categories (`gridmap.visits.rules`): personal data, masked by `protect_care`."""

# A Chinese mobile, optionally +86 / 0086 and separated 3-4-4: keep 3 + 4 digits.
_MOBILE = r"^(\+?86[\s-]?|0086[\s-]?)?(1\d{2})[\s-]?\d{4}[\s-]?(\d{4})$"
# A landline with area code, e.g. 027-88886666, (010)6552 1234, 0755 8888666 转 12:
# keep the area code and the last 4 digits, drop any extension.
_LANDLINE = r"^\(?(0\d{2,3})\)?[\s-]?\d{3,4}[\s-]?(\d{4})(?:\s*(?:-|转|ext\.?|x)\s*\d{1,6})?$"
_MOBILE_RE = re.compile(_MOBILE)
_LANDLINE_RE = re.compile(_LANDLINE)
_NOT_DIGIT = re.compile(r"\D")


class Role(StrEnum):
    """Who is asking, from least to most trusted."""

    ANONYMOUS = "anonymous"
    INTEGRATOR = "integrator"  # an external system (12345, Open311 apps): reports and follows its cases
    VIEWER = "viewer"
    DEPARTMENT = "department"  # reads like a viewer; handles the cases dispatched to its departments
    REVIEWER = "reviewer"  # a third party (第三方回访): reads like a viewer; follows up closed cases
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, required: Role) -> bool:
        """Whether this role is at least `required`."""
        return self.rank >= required.rank


def mask_phones(values: pd.Series) -> pd.Series:
    """Mask every phone number of a column; missing and empty values stay as they are.

    Mobiles keep the first 3 and last 4 digits (138****1234), landlines the
    area code and last 4 digits (027-****6666); anything else keeps at most
    its last 4 digits, fewer for short numbers, none for 4 digits or less.
    """
    return _mask_each(values, _masked_phone)


def _masked_phone(text: str) -> str:
    """One stripped, non-empty phone number masked (see `mask_phones`)."""
    digits = _NOT_DIGIT.sub("", text)
    n = len(digits)
    if _MOBILE_RE.fullmatch(text):
        return ("+86 " if n > 11 else "") + digits[-11:-8] + STARS + digits[-4:]
    if _LANDLINE_RE.fullmatch(text):
        return _LANDLINE_RE.sub(r"\1-****\2", text)
    if n >= 11:
        return digits[:3] + STARS + digits[-4:]
    if n >= 7:
        return STARS + digits[-4:]
    return STARS + digits[-2:] if n >= 5 else STARS


def _mask_each(values: pd.Series, mask: Callable[[str], str]) -> pd.Series:
    """`values` as text with every stripped, non-empty value masked by `mask`; the rest as they are.

    The patterns hold `\\s`, which pandas matches with Python's `re` value by
    value in any case (RE2's `\\s` differs), so the values are masked in one
    pass of compiled patterns: a page of ten costs well under a millisecond
    (two dozen column operations cost 10–20 ms), and a million rows half the time.
    """
    original = values.astype("string")
    text = original.str.strip()
    shown = ~(text.isna() | (text == "")).fillna(True).to_numpy(dtype=bool)
    if not shown.any():
        return original
    masked = original.to_numpy(dtype=object)
    masked[np.flatnonzero(shown)] = [mask(value) for value in text[shown].tolist()]
    return pd.Series(masked, index=values.index, dtype="string")


def _mask_one(mask: Callable[[pd.Series], pd.Series], value: str | None) -> str | None:
    """The column function applied to one value, so a scalar and a column always agree."""
    if value is None:
        return None
    masked = mask(pd.Series([value], dtype="string")).iloc[0]
    return None if masked is pd.NA else str(masked)


def mask_phone(value: str | None) -> str | None:
    """Mask one phone number ("13812341234" → "138****1234"); see `mask_phones`."""
    return _mask_one(mask_phones, value)


def mask_names(values: pd.Series) -> pd.Series:
    """Keep the first character of every name and star the rest ("张三丰" → "张**").

    A one-character name would be shown whole, so it becomes a single star.
    """
    return _mask_each(values, _masked_name)


def _masked_name(text: str) -> str:
    return text[0] + "*" * (len(text) - 1) if len(text) > 1 else "*"


def mask_name(value: str | None) -> str | None:
    """Mask one person's name ("张三丰" → "张**"); see `mask_names`."""
    return _mask_one(mask_names, value)


def sight(role: Role | str, *, for_editing: bool = False) -> str:
    """How much of personal data `role` sees: "all", "masked" or "none" (`protect` of one sight agrees).

    Roles of one sight get the very same rows, so a caller may protect a frame once per sight.
    """
    role = Role(role)
    if role is Role.ADMIN or (role is Role.EDITOR and for_editing):
        return "all"
    return "none" if role in (Role.ANONYMOUS, Role.INTEGRATOR) else "masked"


def protect(
    layer: str | Layer, frame: gpd.GeoDataFrame, role: Role | str, *, for_editing: bool = False
) -> gpd.GeoDataFrame:
    """`frame` as `role` may read it; `frame` itself is never modified.

    - anonymous and integrator: personal fields and `worker_name` are removed;
    - viewer, department and reviewer: personal fields are masked (phones 138****1234, names 张**);
    - editor: like a viewer when reading; with `for_editing=True` (an editor
      opening records of their own community to change them) unmasked;
    - admin: everything, unmasked (the frame is returned as it is).
    Columns the frame does not have are ignored, so projections and analysis
    frames pass through the same function.
    """
    role = Role(role)
    spec = get_layer(layer) if isinstance(layer, str) else layer
    seen = sight(role, for_editing=for_editing)
    if seen == "all":
        return frame
    personal = [name for name in spec.personal_fields if name in frame.columns]
    if seen == "none":
        hidden = [*personal, *(name for name in PUBLIC_HIDDEN if name in frame.columns)]
        return frame.drop(columns=hidden) if hidden else frame
    if not personal:
        return frame
    out = frame.copy(deep=False)
    for name in personal:
        out[name] = mask_phones(frame[name]) if name.endswith("phone") else mask_names(frame[name])
    return out


def protect_records(
    layer: str | Layer, records: Records, role: Role | str, *, for_editing: bool = False
) -> Records:
    """`protect` for records (`Store.query_records`): the same fields removed or masked, value by value.

    A page of records is masked in microseconds; each value goes through the
    very function `protect` applies to a column, so the two always agree.
    """
    seen = sight(role, for_editing=for_editing)
    if seen == "all":
        return records
    spec = get_layer(layer) if isinstance(layer, str) else layer
    personal = [name for name in spec.personal_fields if name in records.names]
    if seen == "none":
        hidden = {*personal, *PUBLIC_HIDDEN}
        kept = [i for i, name in enumerate(records.names) if name not in hidden]
        if len(kept) == len(records.names):
            return records
        rows = [tuple(row[i] for i in kept) for row in records.rows]
        return Records(tuple(records.names[i] for i in kept), rows, records.geometries)
    if not personal:
        return records
    masks = {
        records.names.index(name): _masked_phone if name.endswith("phone") else _masked_name
        for name in personal
    }
    rows = [
        tuple(_masked_value(masks[i], value) if i in masks else value for i, value in enumerate(row))
        for row in records.rows
    ]
    return Records(records.names, rows, records.geometries)


def _masked_value(mask: Callable[[str], str], value: object) -> object:
    """One value as `_mask_each` leaves it: text with something besides blanks masked, the rest as is."""
    if value is None:
        return None
    text = str(value)
    return mask(text.strip()) if text.strip() else text


def protect_care(frame: pd.DataFrame, role: Role | str, *, for_editing: bool = False) -> pd.DataFrame:
    """`frame`'s care categories (`CARE_FIELDS`, comma-separated codes) as `role` may read them.

    The same sight as the other personal fields (`sight`), with one more rule:
    a category marked admin-only (社区矫正) is seen by an admin alone.
    - admin: as they are;
    - editor opening their own community's records (`for_editing`): as they are, but an
      admin-only category reads as the generic 关爱对象;
    - viewer, department, reviewer, editor reading: any category reads as 关爱对象;
    - anonymous and integrator: the columns are removed.
    """
    from gridmap.visits.rules import CARE_CATEGORIES, CARE_HIDDEN

    role = Role(role)
    present = [name for name in CARE_FIELDS if name in frame.columns]
    if not present or role is Role.ADMIN:
        return frame
    seen = sight(role, for_editing=for_editing)
    if seen == "none":
        return frame.drop(columns=present)
    secret = {c.code for c in CARE_CATEGORIES.values() if c.admin_only}
    out = frame.copy(deep=False)
    for name in present:
        text = frame[name].astype("string")
        filled = (text.fillna("").str.strip() != "").to_numpy(dtype=bool)
        if seen == "masked":
            out[name] = text.where(~filled, CARE_HIDDEN)
            continue
        parts = text.fillna("").str.split(",")
        shown = parts.map(
            lambda codes: ",".join(dict.fromkeys(CARE_HIDDEN if c in secret else c for c in codes))
        )
        out[name] = shown.astype("string").where(filled, text)
    return out


PARTY_PERSONAL: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "party_members": (("name",), ("phone",)),
    "party_orgs": (("secretary",), ("secretary_phone",)),
}
"""Personal fields of the party registers (names, phones): seen whole by an admin and by the editors
of the organisation a row belongs to (`gridmap.party`), masked for everyone else."""


def protect_party(register: str, frame: pd.DataFrame, whole: npt.ArrayLike) -> pd.DataFrame:
    """`frame` (rows of a party register) with its personal fields masked where `whole` is false."""
    names, phones = PARTY_PERSONAL[register]
    out = frame.copy()
    masked = ~np.asarray(whole, dtype=bool)
    if not masked.any():
        return out
    for columns, mask in ((names, mask_names), (phones, mask_phones)):
        for name in columns:
            if name in out:
                text = out[name].astype("string")
                out[name] = text.where(~masked, mask(text[masked]).reindex(text.index))
    return out


def may_see_track(role: Role | str, reader: str | None, worker: str) -> bool:
    """Whether a patrol track (where a worker walked, when) may be read: by an admin, or by the
    worker themself; nobody else, whatever their role, reads it (figures without the track are open)."""
    return Role(role) is Role.ADMIN or (bool(reader) and reader == worker)
