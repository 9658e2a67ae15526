"""Colours of measures and symbols, shared by the district map, the grid map and their legends."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridmap.errors import ConfigError
from gridmap.maps._page import LegendEntry
from gridmap.maps.labels import Lang, label

# --measure value -> column of Analysis.grids
MEASURES: dict[str, str] = {
    "speaker": "speaker_share",
    "service": "service_share",
    "linkage": "linkage_share",
    "grade": "grade",
}

# Red (act here) to green (fine): ColorBrewer RdYlGn, 5 classes.
SHARE_BREAKS = (0.5, 0.7, 0.85, 0.95)
SHARE_COLORS = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
GRADE_COLORS = {"A": "#1a9641", "B": "#a6d96a", "C": "#fdae61", "D": "#d7191c"}
NO_DATA = "#bdbdbd"

SPEAKER = "#2166ac"
SPEAKER_BROKEN = "#b2182b"
SERVICE = "#7b3294"
FINDING = {"error": "#e31a1c", "warning": "#ff7f00"}
FINDING_OTHER = "#fdbf6f"
SITE = "#006d2c"
STREET = "#252525"
COMMUNITY = "#525252"
GOVERNANCE = "#c51b7d"
UNCOVERED_AREA = "#636363"

HOUSEHOLD = {
    "hh_both": "#1a9641",
    "hh_speaker": "#2166ac",
    "hh_service": "#7b3294",
    "hh_none": "#d7191c",
}
CENTER_RING = "#b30000"
LINKAGE = "#b30000"


def measure_column(measure: str) -> str:
    """The Analysis.grids column of `measure` (a --measure name or the column itself)."""
    if measure in MEASURES:
        return MEASURES[measure]
    if measure in MEASURES.values():
        return measure
    raise ConfigError(f"unknown measure {measure!r}; expected one of: {', '.join(MEASURES)}")


def measure_colors(values: pd.Series, column: str) -> list[str]:
    """The fill colour of each grid for `column` (grey where there is no value)."""
    if column == "grade":
        return [GRADE_COLORS.get(str(v), NO_DATA) if pd.notna(v) else NO_DATA for v in values]
    shares = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    classes = np.digitize(np.nan_to_num(shares, nan=0.0), SHARE_BREAKS)
    return [NO_DATA if np.isnan(s) else SHARE_COLORS[c] for s, c in zip(shares, classes, strict=True)]


def measure_legend(column: str, lang: Lang) -> list[LegendEntry]:
    """The classes of `column` as legend rows."""
    if column == "grade":
        entries = [LegendEntry(grade, color) for grade, color in GRADE_COLORS.items()]
        return [*entries, LegendEntry(label("no_data", lang), NO_DATA)]
    bounds = (0.0, *SHARE_BREAKS, 1.0)
    entries = [
        LegendEntry(
            f"{bounds[i] * 100:.0f}–{bounds[i + 1] * 100:.0f}%"
            if i < len(SHARE_COLORS) - 1
            else f"≥ {bounds[i] * 100:.0f}%",
            color,
        )
        for i, color in enumerate(SHARE_COLORS)
    ]
    return [*reversed(entries), LegendEntry(label("no_data", lang), NO_DATA)]
