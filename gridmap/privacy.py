"""Roles and the masking of personal fields (contact names and phone numbers).

The catalogue marks personal fields (`Field.personal`); `protect` is the one
place that decides what a role may read, so the API, exports and maps cannot
disagree. Everything here is vectorised over pandas string columns: a
million-household layer is masked without a Python loop per row.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.catalogue import Layer, get_layer

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
    text = values.astype("string").str.strip()
    digits = text.str.replace(r"\D", "", regex=True)
    n = digits.str.len().fillna(0).to_numpy(dtype=np.int64)
    mobile = text.str.fullmatch(_MOBILE).fillna(False).to_numpy(dtype=bool)
    landline = text.str.fullmatch(_LANDLINE).fillna(False).to_numpy(dtype=bool)
    # Regex replacement with groups is slow on a million rows: mobiles are
    # rebuilt from their digits, only the (rare) landlines use the regex.
    international = pd.Series(np.where(n > 11, "+86 ", ""), index=values.index, dtype="string")
    landlines = text[landline].str.replace(_LANDLINE, r"\1-****\2", regex=True)
    candidates = [
        international + digits.str[-11:-8] + STARS + digits.str[-4:],
        landlines.reindex(values.index),
        digits.str[:3] + STARS + digits.str[-4:],
        STARS + digits.str[-4:],
        STARS + digits.str[-2:],
        pd.Series(STARS, index=values.index, dtype="string"),
    ]
    conditions = [mobile, landline, n >= 11, n >= 7, n >= 5, np.ones(len(text), dtype=bool)]
    result = pd.Series(pd.NA, index=values.index, dtype="string")
    for condition, candidate in zip(reversed(conditions), reversed(candidates), strict=True):
        result = candidate.where(condition, result)
    keep = (text.isna() | (text == "")).fillna(True).to_numpy(dtype=bool)
    return result.where(~keep, values.astype("string"))


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
    text = values.astype("string").str.strip()
    length = text.str.len().fillna(0).to_numpy(dtype=np.int64)
    stars = pd.Series("*", index=values.index, dtype="string").str.repeat(np.maximum(length - 1, 1).tolist())
    masked = (text.str[0] + stars).where(length > 1, "*")
    keep = (text.isna() | (text == "")).fillna(True).to_numpy(dtype=bool)
    return masked.where(~keep, values.astype("string"))


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


def may_see_track(role: Role | str, reader: str | None, worker: str) -> bool:
    """Whether a patrol track (where a worker walked, when) may be read: by an admin, or by the
    worker themself; nobody else, whatever their role, reads it (figures without the track are open)."""
    return Role(role) is Role.ADMIN or (bool(reader) and reader == worker)
