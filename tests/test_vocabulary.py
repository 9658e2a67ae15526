"""The one vocabulary: every code that topology, analysis and maps emit is named there once."""

from __future__ import annotations

import pandas as pd
import pytest

from gridmap import analysis, topology
from gridmap.errors import ConfigError
from gridmap.maps.labels import label
from gridmap.maps.styles import measure_colors
from gridmap.vocabulary import (
    FINDING_KINDS,
    GAP_KINDS,
    GRADE_COLORS,
    MEASURES,
    gap_label,
    grade_thresholds,
    measure,
    term_label,
)


def test_topology_kinds_are_the_registry() -> None:
    assert tuple(FINDING_KINDS) == topology.FINDING_KINDS
    assert topology.SEVERITY["too_few_households"] == "warning"
    assert topology.KIND_LABELS_ZH["no_community"] == "无所属社区"


def test_maps_name_every_finding_kind_like_validation() -> None:
    for code, kind in FINDING_KINDS.items():
        assert label(code, "zh") == kind.zh == topology.KIND_LABELS_ZH[code]
        assert label(code, "en") == kind.en
    assert label("too_many_households", "zh") == "户数过多"


def test_gap_labels_cover_analysis_and_topology_kinds() -> None:
    assert set(analysis.GAP_TEXT) <= set(GAP_KINDS)
    assert gap_label("topology_overlap") == "网格重叠"
    assert gap_label("no_worker", "en") == "no grid worker"
    assert gap_label("something_new") == "something_new"


def test_grade_rule_defaults_come_from_the_measures() -> None:
    rule = analysis.GradeRule()
    assert rule.thresholds["linkage"] == grade_thresholds("linkage") == (0.90, 0.75, 0.50)
    linkage = MEASURES["linkage"]
    assert "全覆盖" in linkage.source("zh") and "every household" in linkage.source("en")
    assert rule.thresholds["speaker"] == MEASURES["speaker"].thresholds
    with pytest.raises(ConfigError, match="no thresholds"):
        grade_thresholds("grade")


def test_colour_classes_are_the_measure_grades() -> None:
    # linkage A starts at 90 %: a grid with 30 % linked is red, not green (most households unlinked).
    shares = pd.Series([0.92, 0.80, 0.60, 0.30, None])
    assert measure_colors(shares, "linkage_share") == [
        GRADE_COLORS["A"],
        GRADE_COLORS["B"],
        GRADE_COLORS["C"],
        GRADE_COLORS["D"],
        "#bdbdbd",
    ]
    assert measure_colors(pd.Series([0.35]), "speaker_share") == [GRADE_COLORS["D"]]
    assert measure("linkage").classes()[0][0] == "≥ 90%（A）"


def test_unknown_measure_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="speaker, service, linkage, grade"):
        measure("noise")
    assert term_label("speaker_share", "en") == "Speaker coverage"
