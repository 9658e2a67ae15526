"""Colours of measures and symbols, shared by the district map, the grid map and their legends.

Measure classes and finding colours come from `gridmap.vocabulary`: a grid's
fill on a measure is its grade on that measure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridmap.maps._page import LegendEntry
from gridmap.maps.labels import Lang, label
from gridmap.vocabulary import (
    GRADE_COLORS,
    MEASURES,
    NO_DATA_COLOR,
    SEVERITY_COLORS,
    grade_letters,
    grade_levels,
    measure,
)

__all__ = ["GRADE_COLORS", "MEASURES", "measure_colors", "measure_column", "measure_legend"]

NO_DATA = NO_DATA_COLOR

SPEAKER = "#2166ac"
SPEAKER_BROKEN = "#b2182b"
SERVICE = "#7b3294"
FINDING = SEVERITY_COLORS
FINDING_OTHER = "#fdbf6f"
SITE = "#006d2c"
STREET = "#252525"
COMMUNITY = "#525252"
GOVERNANCE = "#c51b7d"
UNCOVERED_AREA = "#636363"
UNCOVERED = "rgba(230,85,13,.85)"
UNASSIGNED = "#ffff33"

HOUSEHOLD = {
    "hh_both": "#1a9641",
    "hh_speaker": "#2166ac",
    "hh_service": "#7b3294",
    "hh_none": "#d7191c",
}
CENTER_RING = "#b30000"
LINKAGE = "#b30000"
DEDICATED = "#d95f02"
"""A 专属网格's dashed outline: apart from the base grids' solid dark lines."""


def measure_column(code: str) -> str:
    """The Analysis.grids column of a measure (a --measure name or the column itself)."""
    return measure(code).column


def measure_colors(values: pd.Series, column: str) -> list[str]:
    """The fill colour of each grid for `column`: its grade on that measure (grey where no value)."""
    m = measure(column)
    if m.thresholds is None:
        return [GRADE_COLORS.get(str(v), NO_DATA) if pd.notna(v) else NO_DATA for v in values]
    shares = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    letters = grade_letters(grade_levels(shares, m.thresholds))
    return [NO_DATA if np.isnan(s) else GRADE_COLORS[g] for s, g in zip(shares, letters, strict=True)]


def measure_legend(column: str, lang: Lang) -> list[LegendEntry]:
    """The classes of `column` as legend rows, best first."""
    rows = [LegendEntry(text, color) for text, color in measure(column).classes(lang)]
    return [*rows, LegendEntry(label("no_data", lang), NO_DATA)]
