"""Care categories (关爱对象) and how often each household is visited: one table, one place.

Local rules ask that ordinary households be visited at least twice a year and
households in need of care every month. A household may belong to several
categories; the most demanding one (the fewest days) sets its frequency.
The categories are personal data (`gridmap.privacy.protect_care`); 社区矫正
(community correction) is seen by an admin alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gridmap.errors import Problem, ValidationError
from gridmap.texts import Message
from gridmap.vocabulary import Lang


@dataclass(frozen=True)
class CareCategory:
    """A category of households in need of care, its labels, and who may see it."""

    code: str
    zh: str
    en: str
    admin_only: bool = False

    def label(self, lang: Lang = "zh") -> str:
        return self.zh if lang == "zh" else self.en


ORDINARY = "ordinary"
"""A household without a care category."""

CARE_CATEGORIES: dict[str, CareCategory] = {
    c.code: c
    for c in (
        CareCategory("hardship", "困难/低保", "Hardship / minimum living allowance"),
        CareCategory("elderly_alone", "空巢/独居老人", "Elderly living alone"),
        CareCategory("migrant", "流动人员", "Migrant residents"),
        CareCategory("disabled", "残疾", "Disabled"),
        CareCategory("correction", "社区矫正对象", "Under community correction", admin_only=True),
    )
}

FREQUENCY_DAYS: dict[str, int] = {
    ORDINARY: 183,
    "hardship": 30,
    "elderly_alone": 30,
    "migrant": 30,
    "disabled": 30,
    "correction": 30,
}
"""Category -> the most days allowed between two visits (ordinary: twice a year; care: monthly)."""

DUE_SOON_DAYS = 7
"""A household falls due "this week" when its next visit is at most this many days away."""

CARE_HIDDEN = "关爱对象"
"""What a role that may not see a category reads instead of it."""


def check_category(code: str) -> str:
    """`code` if it names a care category (Chinese labels accepted), else a ValidationError listing them."""
    text = code.strip()
    for c in CARE_CATEGORIES.values():
        if text in (c.code, c.zh):
            return c.code
    reason = Message("visit.unknown_care", code=repr(code), choices=", ".join(CARE_CATEGORIES))
    raise ValidationError(Message("visit.source.care"), [Problem(None, "category", reason)])


def frequency_days(categories: Iterable[str]) -> int:
    """Days allowed between visits for a household of these categories (none: ordinary)."""
    days = [FREQUENCY_DAYS[c] for c in categories if c in FREQUENCY_DAYS]
    return min(days, default=FREQUENCY_DAYS[ORDINARY])


def category_label(code: str, lang: Lang = "zh") -> str:
    found = CARE_CATEGORIES.get(code)
    return found.label(lang) if found is not None else code
