"""The one vocabulary people read: measures, grades, topology finding kinds and gap kinds.

Each entry is declared once here — code, Chinese and English label, colour,
thresholds — and topology, analysis, the maps, the reports, the API and the
CLI all read it, so a finding kind or a measure is named the same everywhere
and a map's colour classes are the grade thresholds themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridmap.errors import ConfigError
from gridmap.texts import LANGS, Lang

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
    """A share a unit is judged by, declared once: how it is computed, its columns, grades, labels, maps.

    `compute` names the function computing it (`module:function`, resolved by
    `gridmap.measures`): it returns the household columns and the per-grid
    counts the measure reads; measures sharing one function share one run.
    `column` = `count` / `base` per grid, community and street (`count` and
    `base` add up from grids upwards). `thresholds` are the lowest shares of
    grades A, B and C (`grade_levels`); the map's colour classes are these same
    thresholds, so a unit's colour is its grade on that measure. `graded`
    measures make up the overall grade. The grade measure has no thresholds
    (its value is a letter). `layers` are the map layers that explain the
    measure (the others are left off), `gap` its household gap
    (`HOUSEHOLD_GAPS`), `bands` the walking-time bands its map draws.
    `source_zh` / `source_en` say where the thresholds come from, for the
    report's grading note (empty: the project's own choice).
    """

    column: str = ""
    count: str = ""
    base: str = "households"
    thresholds: tuple[float, float, float] | None = None
    graded: bool = False
    source_zh: str = ""
    source_en: str = ""
    layers: tuple[str, ...] = ()
    gap: str = "speaker"
    compute: str = ""
    counted_zh: str = ""
    counted_en: str = ""
    """Label of the `count` column (e.g. 广播覆盖户数)."""
    short_zh: str = ""
    """The label in a narrow table's header (e.g. 广播); the full label when empty."""

    def short(self, lang: Lang = "zh") -> str:
        """The label in a narrow table's header (English has no short form)."""
        return (self.short_zh or self.zh) if lang == "zh" else self.en

    def source(self, lang: Lang = "zh") -> str:
        return self.source_zh if lang == "zh" else self.source_en

    def classes(self, lang: Lang = "zh") -> list[tuple[str, str]]:
        """Legend rows (text, colour), best first."""
        return [(text, color) for text, color, _ in self.class_bounds()]

    def class_bounds(self) -> list[tuple[str, str, float | None]]:
        """Legend rows (text, colour, lowest share of the class; None for the grade letters), best first."""
        if self.thresholds is None:
            return [(g, GRADE_COLORS[g], None) for g in GRADES]
        a, b, c = (round(t * 100) for t in self.thresholds)
        lows = (*self.thresholds, 0.0)
        texts = (f"≥ {a}%（A）", f"{b}–{a}%（B）", f"{c}–{b}%（C）", f"< {c}%（D）")
        return [(t, GRADE_COLORS[g], low) for t, g, low in zip(texts, GRADES, lows, strict=True)]


def grade_levels(shares: npt.ArrayLike, thresholds: tuple[float, float, float]) -> npt.NDArray[np.intp]:
    """The grade rule, the one place it is written: 0 (A) to 3 (D) for each share.

    A share reaching `thresholds[0]` is A, `[1]` B, `[2]` C, less D; an
    undefined share (NaN: a unit without households) counts as A, nothing to
    hold against it.
    """
    a, b, c = thresholds
    share = np.nan_to_num(np.asarray(shares, dtype=np.float64), nan=1.0)
    return np.select([share >= a, share >= b, share >= c], [0, 1, 2], default=3).astype(np.intp)


def grade_letters(levels: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Letters A–D of grade levels 0–3 (levels beyond 3 are D)."""
    return np.array(list(GRADES), dtype=object)[np.minimum(np.asarray(levels, dtype=np.intp), 3)]


LIFE_CIRCLES: tuple[tuple[int, int], ...] = ((5, 300), (10, 500), (15, 1000))
"""The 5-, 10- and 15-minute life circles as (minutes, metres on foot), GB 50180-2018."""

_WALK = "gridmap.measures.walking:walking"

MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure(
            "speaker",
            "广播覆盖率",
            "Speaker coverage",
            column="speaker_share",
            count="speaker_covered",
            thresholds=(0.95, 0.85, 0.70),
            graded=True,
            layers=("speakers", "uncovered_areas"),
            gap="speaker",
            short_zh="广播",
            counted_zh="广播覆盖户数",
            counted_en="Households in speaker range",
            compute="gridmap.measures.reach:speakers",
        ),
        Measure(
            "service",
            "志愿服务覆盖率",
            "Service coverage",
            column="service_share",
            count="service_covered",
            thresholds=(0.90, 0.75, 0.50),
            graded=True,
            layers=("service_points",),
            gap="service",
            short_zh="志愿服务",
            counted_zh="志愿服务覆盖户数",
            counted_en="Households in service point range",
            compute="gridmap.measures.reach:service_points",
        ),
        Measure(
            "linkage",
            "一户十联覆盖率",
            "Linkage coverage",
            column="linkage_share",
            count="linked",
            graded=True,
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
            short_zh="十联",
            counted_zh="一户十联户数",
            counted_en="Households linked",
            compute="gridmap.measures.linked:linkage",
        ),
        Measure(
            "grade",
            "综合等级",
            "Overall grade",
            column="grade",
            layers=("speakers", "service_points", "uncovered_areas"),
            gap="speaker",
        ),
        *(
            Measure(
                f"walk_{metres}",
                f"{minutes}分钟生活圈住户覆盖率",
                f"{minutes}-minute walk: households",
                column=f"walk_{metres}_share",
                count=f"walk_{metres}_households",
                thresholds=(0.85, 0.70, 0.50),
                layers=("service_points", "walk_bands"),
                gap=f"walk_{metres}",
                short_zh=f"{minutes}分钟",
                counted_zh=f"步行{metres}米内户数",
                counted_en=f"Households within {metres} m on foot",
                compute=_WALK,
            )
            for minutes, metres in LIFE_CIRCLES
        ),
        *(
            Measure(
                f"walk_{metres}_buildings",
                f"{minutes}分钟生活圈楼栋覆盖率",
                f"{minutes}-minute walk: buildings",
                column=f"walk_{metres}_building_share",
                count=f"walk_{metres}_buildings",
                base="buildings",
                thresholds=(0.85, 0.70, 0.50),
                layers=("service_points", "walk_bands"),
                gap=f"walk_{metres}",
                short_zh=f"{minutes}分钟楼栋",
                counted_zh=f"步行{metres}米内楼栋数",
                counted_en=f"Buildings within {metres} m on foot",
                compute=_WALK,
            )
            for minutes, metres in LIFE_CIRCLES
        ),
        Measure(
            "visits",
            "走访覆盖率",
            "Visit coverage",
            column="visit_share",
            count="visited_in_time",
            # Local rules: every household visited within its frequency (ordinary twice a year,
            # care households monthly); street offices assess the share.
            thresholds=(0.95, 0.85, 0.70),
            source_zh="入户走访按频次全覆盖（一般户每半年、关爱对象每月）：A 级至多二十户中一户逾期",
            source_en=(
                "every household visited within its frequency (ordinary twice a year, care households "
                "monthly): grade A leaves at most one household in twenty overdue"
            ),
            layers=(),
            gap="visits",
            short_zh="走访",
            counted_zh="按期走访户数",
            counted_en="Households visited within their frequency",
            compute="gridmap.measures.visits:visits",
        ),
        Measure(
            "party_groups",
            "楼栋党小组覆盖率",
            "Building party group coverage",
            column="party_group_share",
            count="grouped_buildings",
            base="party_buildings",
            # 支部建在网格上、党小组建在楼栋上: every building has its group.
            thresholds=(1.0, 0.9, 0.75),
            source_zh="党小组建在楼栋上：A 级每栋楼均建有楼栋党小组",
            source_en="a party group in every building: grade A leaves no building without one",
            layers=("buildings",),
            gap="party_groups",
            short_zh="党小组",
            counted_zh="已建党小组楼栋数",
            counted_en="Buildings with a party group",
            compute="gridmap.measures.party:party",
        ),
    )
}
"""--measure name -> its declaration, in the order tables, reports and the console list them."""


COLUMN_TERMS: dict[str, Term] = {
    t.code: t
    for t in (
        Term("code", "编码", "Code"),
        Term("name", "名称", "Name"),
        Term("community_code", "所属社区", "Community"),
        Term("street_code", "所属街道", "Street"),
        Term("party_branch", "网格党支部", "Party branch"),
        Term("worker_name", "网格员", "Grid worker"),
        Term("kind", "类型", "Kind"),
        Term("communities", "社区数", "Communities"),
        Term("grids", "网格数", "Grids"),
        Term("households", "户数", "Households"),
        Term("buildings", "楼栋数", "Buildings"),
        Term("party_members", "党员户数", "Party member households"),
        Term("center_households", "党员中心户数", "Center households"),
        Term("uncovered_households", "广播未覆盖户数", "Households without speaker coverage"),
        Term("centers_under_quota", "联系不足的中心户数", "Center households below quota"),
        Term("has_party_branch", "已建网格党支部", "Has a party branch"),
        Term("has_worker", "已配网格员", "Has a grid worker"),
        Term("grids_without_party_branch", "未建党支部网格数", "Grids without a party branch"),
        Term("grids_without_worker", "未配网格员网格数", "Grids without a grid worker"),
        Term("topology_errors", "拓扑错误数", "Topology errors"),
        Term("gap_count", "问题数", "Gaps"),
        Term("uncovered_area_m2", "广播未覆盖面积(平方米)", "Area without speaker coverage (m²)"),
        Term("grid_code", "所属网格", "Grid"),
        Term("description_zh", "说明", "Description"),
        Term("severity", "严重程度", "Severity"),
        Term("codes", "涉及编码", "Codes"),
        Term("area_m2", "面积(平方米)", "Area (m²)"),
        Term("location", "位置(经度,纬度)", "Location (lon, lat)"),
        Term("message_zh", "说明", "Description"),
        Term("grade", "等级", "Grade"),
        Term("linked_to", "联系的中心户", "Linked to center household"),
        Term("service_walk_m", "步行至最近志愿服务点(米)", "Walk to the nearest service point (m)"),
        Term("service_walk_code", "最近志愿服务点", "Nearest service point on foot"),
        Term("visits_overdue", "走访逾期户数", "Households overdue for a visit"),
        # the party chain's tables (findings, versions, points, funds)
        Term("valid_from", "生效日", "From"),
        Term("valid_to", "失效日", "To"),
        Term("parent_code", "上级组织", "Parent"),
        Term("area_kind", "服务区域类型", "Area kind"),
        Term("area_code", "服务区域", "Area"),
        Term("secretary", "书记", "Secretary"),
        Term("secretary_phone", "书记电话", "Secretary's phone"),
        Term("secretary_code", "书记党员编码", "Secretary's member code"),
        Term("changed_by", "修改人", "Changed by"),
        Term("building_code", "所在楼栋", "Building"),
        Term("units", "非公企业和社会组织", "Enterprises and social organisations"),
        Term("organised", "组织覆盖", "Organisation coverage"),
        Term("organised_share", "组织覆盖率", "Organisation coverage rate"),
        Term("worked", "工作覆盖", "Work coverage"),
        Term("worked_share", "工作覆盖率", "Work coverage rate"),
        Term("members", "党员", "Members"),
        Term("in_service", "在职党员", "In-service members"),
        Term("reported", "已双报到", "Reported to the community"),
        Term("service_hours", "服务时长（小时）", "Service hours"),
        Term("member_code", "党员编码", "Member"),
        Term("branch_code", "支部编码", "Branch"),
        Term("branch_name", "支部", "Branch name"),
        Term("rank", "名次", "Rank"),
        Term("base", "基础分", "Base"),
        Term("earned", "加分", "Earned"),
        Term("deducted", "扣分", "Deducted"),
        Term("capped", "超上限未计", "Over the caps"),
        Term("total", "总分", "Total"),
        Term("name_zh", "中文名称", "Chinese name"),
        Term("name_en", "英文名称", "English name"),
        Term("points", "每次分值", "Points per event"),
        Term("annual_cap", "年度上限", "Annual cap"),
        Term("org_code", "党组织编码", "Organisation"),
        Term("source", "来源", "Source"),
        Term("entitled", "应拨（元）", "Entitled (yuan)"),
        Term("received", "已到位（元）", "Received (yuan)"),
        Term("short", "缺口（元）", "Short (yuan)"),
        Term("spent", "已支出（元）", "Spent (yuan)"),
        Term("balance", "结余（元）", "Balance (yuan)"),
        Term("overspent", "超支", "Overspent"),
    )
}
"""Labels of the table columns people read that are not a measure's (those come from `MEASURES`)."""


def column_terms() -> dict[str, Term]:
    """Every table column's label: each measure's share and count columns, then `COLUMN_TERMS`
    (a unit's grade column is headed 等级 in tables, the grade measure 综合等级 on maps)."""
    out: dict[str, Term] = {}
    for m in MEASURES.values():
        out[m.column] = Term(m.column, m.zh, m.en)
        if m.count:
            out[m.count] = Term(m.count, m.counted_zh or m.zh, m.counted_en or m.en)
    return out | COLUMN_TERMS


def column_label(name: str, lang: Lang = "zh") -> str:
    """The label of a table column; an unregistered one shows as itself."""
    found = column_terms().get(name)
    return found.label(lang) if found else name


def share_measures() -> tuple[Measure, ...]:
    """The measures that are shares (every one but the overall grade), in registry order."""
    return tuple(m for m in MEASURES.values() if m.count)


def graded_measures() -> tuple[Measure, ...]:
    """The shares that make up the overall grade, in registry order."""
    return tuple(m for m in MEASURES.values() if m.graded)


@dataclass(frozen=True)
class HouseholdGap(Term):
    """Households a measure leaves out: the Analysis.households column that marks them, and the colour.

    A flag column leaves out where it is false, any other column where it is
    null; with `within` (metres), where it is null or beyond that distance.
    """

    column: str = ""
    color: str = ""
    within: float | None = None

    def left_out(self, households: pd.DataFrame) -> npt.NDArray[np.bool_]:
        """Which rows of `households` (an Analysis.households table) the measure leaves out."""
        values = households[self.column]
        if self.within is not None:
            metres = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            return ~(metres <= self.within)
        if pd.api.types.is_bool_dtype(values.dtype):
            return ~values.fillna(False).to_numpy(dtype=bool)
        return values.isna().to_numpy(dtype=bool)


HOUSEHOLD_GAPS: dict[str, HouseholdGap] = {
    g.code: g
    for g in (
        HouseholdGap(
            "speaker", "广播未覆盖住户", "Households without speaker coverage", "speaker_covered", "#e6550d"
        ),
        HouseholdGap(
            "service",
            "志愿服务未覆盖住户",
            "Households beyond service points",
            "service_covered",
            "#7b3294",
        ),
        HouseholdGap("linkage", "未纳入一户十联住户", "Households not linked", "linked_to", "#8c510a"),
        HouseholdGap(
            "visits", "逾期未走访住户", "Households overdue for a visit", "visited_in_time", "#d6604d"
        ),
        HouseholdGap(
            "party_groups",
            "楼栋未建党小组住户",
            "Households in buildings without a party group",
            "party_group",
            "#b2182b",
        ),
        *(
            HouseholdGap(
                f"walk_{metres}",
                f"步行{minutes}分钟外住户",
                f"Households beyond a {minutes}-minute walk",
                "service_walk_m",
                color,
                float(metres),
            )
            for (minutes, metres), color in zip(LIFE_CIRCLES, ("#54278f", "#756bb1", "#9e9ac8"), strict=True)
        ),
    )
}
"""The household gap of each measure (`Measure.gap`); linkage's column is null where unlinked."""


@dataclass(frozen=True)
class WalkBand(Term):
    """A walking-time band on the maps: the network within `metres` on foot of a facility."""

    minutes: int = 0
    metres: int = 0
    color: str = ""


WALK_BANDS: dict[str, WalkBand] = {
    b.code: b
    for b in (
        WalkBand(
            f"walk_band_{minutes}",
            f"步行{minutes}分钟可达",
            f"within a {minutes}-minute walk",
            minutes,
            metres,
            color,
        )
        for (minutes, metres), color in zip(LIFE_CIRCLES, ("#1a9850", "#91cf60", "#d9ef8b"), strict=True)
    )
}
"""The 5/10/15-minute bands the maps draw, nearest first."""


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
    return str(grade_letters(grade_levels([value], thresholds))[0])


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
    count: str = ""
    """A per-grid count (`Analysis.grids`): the kind is a gap of each grid where it is above zero."""


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
            "ungrouped_buildings",
            "楼栋未建党小组",
            "buildings without a party group",
            "网格 {code} 有 {n} 栋楼未建立楼栋党小组",
            "grid {code}: {n} buildings without a building party group",
            "在这些楼栋建立党小组",
            "set up a party group in these buildings",
            count="ungrouped_buildings",
        ),
        GapKind(
            "groups_without_center",
            "党小组无党员中心户",
            "party groups without a center household",
            "网格 {code} 有 {n} 个楼栋党小组没有党员中心户",
            "grid {code}: {n} building party groups without a center household",
            "在这些楼栋确定党员中心户",
            "name a center household in these buildings",
            count="groups_without_center",
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
        *(
            GapKind(
                f"walk_{metres}_gap",
                f"{minutes}分钟生活圈盲区",
                f"beyond the {minutes}-minute walk",
                f"网格 {{code}} 有 {{n}} 户步行 {metres} 米内没有志愿服务点",
                f"grid {{code}}: {{n}} households with no service point within a {metres} m walk",
                "增设志愿服务点或打通步行路径",
                "add a service point or open a walking path",
            )
            for minutes, metres in LIFE_CIRCLES
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
    for table in (FINDING_KINDS, GAP_KINDS, SEVERITY_TERMS, WALK_BANDS):
        if code in table:
            return table[code].label(lang)
    for m in MEASURES.values():
        if code == m.column:
            return m.label(lang)
    found = column_terms().get(code)
    return found.label(lang) if found else None
