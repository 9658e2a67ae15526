"""The one vocabulary people read: measures, grades, topology finding kinds and gap kinds.

Each entry is declared once here — code, Chinese and English label, colour,
thresholds — and topology, analysis, the maps, the reports, the API and the
CLI all read it, so a finding kind or a measure is named the same everywhere
and a map's colour classes are the grade thresholds themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gridmap.errors import ConfigError

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

GRADES: tuple[str, ...] = ("A", "B", "C", "D")
# Red (act here) to green (fine): ColorBrewer RdYlGn, one colour per grade.
GRADE_COLORS: dict[str, str] = {"A": "#1a9641", "B": "#a6d96a", "C": "#fdae61", "D": "#d7191c"}
NO_DATA_COLOR = "#bdbdbd"


def check_lang(lang: str) -> Lang:
    """`lang` as a Lang, or a ConfigError naming the choices."""
    if lang not in LANGS:
        raise ConfigError(f"unknown language {lang!r}; expected one of: {', '.join(LANGS)}")
    return lang


@dataclass(frozen=True)
class Term:
    """Something shown to people: a code and its Chinese and English labels."""

    code: str
    zh: str
    en: str

    def label(self, lang: Lang = "zh") -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Measure(Term):
    """A share a grid is judged by: its Analysis column, grade thresholds and the map layers it needs.

    `thresholds` are the lowest shares of grades A, B and C; the map's colour
    classes are these same thresholds, so a grid's colour is its grade on
    that measure. The grade measure has no thresholds (its value is a letter).
    `layers` are the map layers that explain the measure (the others are left
    off), `gap` the household gap counted on the map (`HOUSEHOLD_GAPS`).
    `source_zh` / `source_en` say where the thresholds come from, for the
    report's grading note (empty: the project's own choice).
    """

    column: str = ""
    thresholds: tuple[float, float, float] | None = None
    source_zh: str = ""
    source_en: str = ""
    layers: tuple[str, ...] = ()
    gap: str = "speaker"

    def source(self, lang: Lang = "zh") -> str:
        return self.source_zh if lang == "zh" else self.source_en

    def classes(self, lang: Lang = "zh") -> list[tuple[str, str]]:
        """Legend rows (text, colour), best first."""
        if self.thresholds is None:
            return [(g, GRADE_COLORS[g]) for g in GRADES]
        a, b, c = (round(t * 100) for t in self.thresholds)
        return [
            (f"≥ {a}%（A）", GRADE_COLORS["A"]),
            (f"{b}–{a}%（B）", GRADE_COLORS["B"]),
            (f"{c}–{b}%（C）", GRADE_COLORS["C"]),
            (f"< {c}%（D）", GRADE_COLORS["D"]),
        ]


MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure(
            "speaker",
            "广播覆盖率",
            "Speaker coverage",
            column="speaker_share",
            thresholds=(0.95, 0.85, 0.70),
            layers=("speakers", "uncovered_areas"),
            gap="speaker",
        ),
        Measure(
            "service",
            "志愿服务覆盖率",
            "Service coverage",
            column="service_share",
            thresholds=(0.90, 0.75, 0.50),
            layers=("service_points",),
            gap="service",
        ),
        Measure(
            "linkage",
            "一户十联覆盖率",
            "Linkage coverage",
            column="linkage_share",
            # 一户十联 asks every household to be linked to a 党员中心户 (about ten each, 全覆盖):
            # A leaves at most one household in ten out; B and C are the service bands.
            thresholds=(0.90, 0.75, 0.50),
            source_zh=(
                "一户十联要求党员中心户联系本网格住户全覆盖（每户联系约 10 户）："
                "A 级至多一成住户未联系，B、C 级同志愿服务覆盖率"
            ),
            source_en=(
                "一户十联 asks that every household be linked to a party-member center household "
                "(about ten each): grade A leaves at most one household in ten unlinked; B and C "
                "follow the service-coverage bands"
            ),
            layers=(),
            gap="linkage",
        ),
        Measure(
            "grade",
            "综合等级",
            "Overall grade",
            column="grade",
            layers=("speakers", "service_points", "uncovered_areas"),
            gap="speaker",
        ),
    )
}
"""--measure name -> its declaration."""


@dataclass(frozen=True)
class HouseholdGap(Term):
    """Households a measure leaves out: the Analysis.households column that marks them, and the colour."""

    column: str = ""
    color: str = ""


HOUSEHOLD_GAPS: dict[str, HouseholdGap] = {
    g.code: g
    for g in (
        HouseholdGap(
            "speaker", "广播未覆盖住户", "Households without speaker coverage", "speaker_covered", "#e6550d"
        ),
        HouseholdGap(
            "service", "志愿服务未覆盖住户", "Households beyond service points", "service_covered", "#7b3294"
        ),
        HouseholdGap("linkage", "未纳入一户十联住户", "Households not linked", "linked_to", "#8c510a"),
    )
}
"""The household gap of each measure (`Measure.gap`); linkage's column is null where unlinked."""


CASE_RATES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure(
            "response_rate", "响应率", "Response rate", column="response_rate", thresholds=(0.95, 0.90, 0.80)
        ),
        Measure(
            "resolution_rate",
            "解决率",
            "Resolution rate",
            column="resolution_rate",
            thresholds=(0.90, 0.80, 0.70),
        ),
        Measure(
            "satisfaction_rate",
            "满意率",
            "Satisfaction rate",
            column="satisfaction_rate",
            thresholds=(0.95, 0.90, 0.80),
        ),
    )
}
"""The three rates (三率) hotline centres and street offices are ranked on; thresholds are the lowest
shares of grades A, B and C, as the city's 12345 assessment bands them (A ≥ 95 % …)."""


def rate_grade(code: str, value: float | None) -> str | None:
    """The grade (A–D) of a value of one of `CASE_RATES`; None when there is no value."""
    thresholds = CASE_RATES[code].thresholds
    if value is None or value != value or thresholds is None:
        return None
    for grade, lowest in zip(GRADES, thresholds, strict=False):
        if value >= lowest:
            return grade
    return GRADES[-1]


def rate_color(code: str, value: float | None) -> str:
    """The colour of a value of one of `CASE_RATES` (its grade's, grey without a value)."""
    grade = rate_grade(code, value)
    return NO_DATA_COLOR if grade is None else GRADE_COLORS[grade]


def measure(code: str) -> Measure:
    """The measure named `code` (a --measure name or its column), or a ConfigError naming the choices."""
    for m in MEASURES.values():
        if code in (m.code, m.column):
            return m
    raise ConfigError(f"unknown measure {code!r}; expected one of: {', '.join(MEASURES)}")


def grade_thresholds(code: str) -> tuple[float, float, float]:
    """The lowest shares of grades A, B and C on measure `code` (the analysis's default grade rule)."""
    found = measure(code).thresholds
    if found is None:
        raise ConfigError(f"measure {code} is not a share and has no thresholds")
    return found


Severity = Literal["error", "warning"]
SEVERITY_TERMS: dict[str, Term] = {
    "error": Term("error", "错误", "error"),
    "warning": Term("warning", "警告", "warning"),
}
SEVERITY_COLORS: dict[str, str] = {"error": "#e31a1c", "warning": "#ff7f00"}


@dataclass(frozen=True)
class FindingKind(Term):
    """A kind of topology finding: how serious it is and its marker colour."""

    severity: Severity = "error"
    color: str = "#e31a1c"


FINDING_KINDS: dict[str, FindingKind] = {
    k.code: k
    for k in (
        FindingKind("invalid", "几何无效", "invalid geometry", "error", "#67001f"),
        FindingKind("no_community", "无所属社区", "no community", "error", "#b2182b"),
        FindingKind("overlap", "网格重叠", "overlap", "error", "#e31a1c"),
        FindingKind("gap", "覆盖缝隙", "gap", "error", "#d6604d"),
        FindingKind("outside", "超出社区", "outside community", "error", "#f4a582"),
        FindingKind("sliver", "细碎图斑", "sliver", "warning", "#ff7f00"),
        FindingKind("too_few_households", "户数过少", "too few households", "warning", "#fdbf6f"),
        FindingKind("too_many_households", "户数过多", "too many households", "warning", "#fe9929"),
    )
}
"""Every topology finding kind, in the order findings are listed (errors first)."""


@dataclass(frozen=True)
class GapKind(Term):
    """A kind of gap a planner acts on, with its per-grid description ({code}: grid, {n}: how many)."""

    text_zh: str = ""
    text_en: str = ""
    action_zh: str = ""
    action_en: str = ""


GAP_KINDS: dict[str, GapKind] = {
    g.code: g
    for g in (
        GapKind(
            "speaker_gap",
            "广播覆盖盲区",
            "speaker coverage gap",
            "网格 {code} 有 {n} 户不在正常广播覆盖范围内",
            "grid {code}: {n} households outside working speaker range",
            "增设或修复广播",
            "add or repair speakers",
        ),
        GapKind(
            "service_gap",
            "志愿服务覆盖盲区",
            "service coverage gap",
            "网格 {code} 有 {n} 户不在志愿服务点服务半径内",
            "grid {code}: {n} households beyond service point reach",
            "增设志愿服务点",
            "add a service point",
        ),
        GapKind(
            "linkage_gap",
            "未纳入一户十联",
            "not linked",
            "网格 {code} 有 {n} 户未纳入一户十联",
            "grid {code}: {n} households not linked to a center household",
            "将这些住户纳入一户十联",
            "link these households",
        ),
        GapKind(
            "linkage_quota",
            "中心户联系不足",
            "center below quota",
            "网格 {code} 有 {n} 个党员中心户联系户数不足",
            "grid {code}: {n} center households below their linkage quota",
            "补足中心户联系户",
            "fill the center households' quota",
        ),
        GapKind(
            "no_party_branch",
            "未建网格党支部",
            "no party branch",
            "网格 {code} 未建立网格党支部",
            "grid {code} has no party branch",
            "建立网格党支部",
            "set up a party branch",
        ),
        GapKind(
            "no_worker",
            "未配网格员",
            "no grid worker",
            "网格 {code} 未配备网格员",
            "grid {code} has no grid worker",
            "配备网格员",
            "appoint a grid worker",
        ),
        GapKind("unassigned", "不属于任何网格", "in no grid", "", "", "核实位置", "check the location"),
    )
}
"""Gap kinds not coming from topology (those are `topology_<finding kind>`)."""

MATCH_METHODS: dict[str, Term] = {
    t.code: t
    for t in (
        Term("exact", "地址完全一致", "exact address"),
        Term("normalized", "规范化后一致", "same address once normalised"),
        Term("fuzzy", "近似匹配", "close match on the same road and numbers"),
        Term("interpolated", "按门牌号推定", "placed between registered house numbers"),
        Term("point", "坐标定位", "located by its coordinates"),
    )
}
"""How a lookup found its answer: `match.method` of every lookup reply (address.MatchMethod and the rest)."""


def gap_label(kind: str, lang: Lang = "zh") -> str:
    """The label of a gap kind, including `topology_<finding kind>`; an unknown kind shows as itself."""
    if kind in GAP_KINDS:
        return GAP_KINDS[kind].label(lang)
    if kind.startswith("topology_") and kind[9:] in FINDING_KINDS:
        return FINDING_KINDS[kind[9:]].label(lang)
    return kind


def term_label(code: str, lang: Lang = "zh") -> str | None:
    """The label of any registered code (measure, measure column, finding kind, gap kind, severity)."""
    for table in (FINDING_KINDS, GAP_KINDS, SEVERITY_TERMS):
        if code in table:
            return table[code].label(lang)
    for m in MEASURES.values():
        if code == m.column:
            return m.label(lang)
    return None
