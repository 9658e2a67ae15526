"""Every word a map shows a person, in Chinese (default) and English (`--lang en`).

Measures, finding kinds, gap kinds and severities come from `gridmap.vocabulary`.
"""

from __future__ import annotations

from gridmap.party.vocabulary import AREA_KINDS, DEDICATED
from gridmap.vocabulary import LANGS, Lang, check_lang, term_label

__all__ = ["LANGS", "Lang", "check_lang", "label", "labels"]

_LABELS: dict[str, tuple[str, str]] = {
    # titles and controls
    "coverage_title": ("网格覆盖图", "Grid coverage map"),
    "grid_title": ("网格详图", "Grid detail map"),
    "data_date": ("数据日期", "Data date"),
    "measure": ("指标", "Measure"),
    "search": ("搜索网格编码或名称", "Search grid code or name"),
    "not_found": ("未找到网格", "No grid found"),
    "no_data": ("无住户", "no households"),
    "zoom_in_hint": ("点击放大查看每个点位", "Click to zoom in to each point"),
    "aggregated_note": (
        "数字：按街道、社区汇总的个数，放大后显示每个点位",
        "Numbers: counts per street and community; zoom in for each point",
    ),
    # layers
    "layer_grids": ("网格", "Grids"),
    "layer_streets": ("街道边界", "Street boundaries"),
    "layer_communities": ("社区边界", "Community boundaries"),
    "layer_speakers_working": ("广播（正常）", "Speakers (working)"),
    "layer_speaker_ranges": ("广播覆盖范围", "Speaker ranges"),
    "layer_service_ranges": ("志愿服务范围", "Service point ranges"),
    "layer_names": ("名称标注", "Names"),
    "layer_unassigned": ("不属于任何网格的要素", "Features in no grid"),
    "layer_speakers_broken": ("广播（故障）", "Speakers (broken)"),
    "layer_service_points": ("志愿服务点", "Service points"),
    "layer_uncovered_areas": ("广播未覆盖区域", "Area without speaker coverage"),
    "layer_findings": ("拓扑错误", "Topology errors"),
    "layer_findings_other": ("拓扑提示（警告）", "Topology warnings"),
    "layer_governance": ("缺党支部或网格员的网格", "Grids without party branch or worker"),
    "layer_sites": ("建议新增站点", "Proposed new sites"),
    "layer_grid": ("网格范围", "Grid boundary"),
    "layer_buildings": ("楼栋", "Buildings"),
    "layer_households": ("住户（按覆盖着色）", "Households (by coverage)"),
    "layer_linkage": ("一户十联连线", "Ten-household linkage"),
    "layer_dedicated": (
        f"{AREA_KINDS[DEDICATED].zh}（党组织）",
        f"Party organisations' {AREA_KINDS[DEDICATED].en}s",
    ),
    # popup fields
    "code": ("编码", "Code"),
    "name": ("名称", "Name"),
    "community": ("所属社区", "Community"),
    "street": ("所属街道", "Street"),
    "party_branch": ("网格党支部", "Party branch"),
    "worker_name": ("网格员", "Grid worker"),
    "households": ("住户数", "Households"),
    "party_members": ("党员户", "Party member households"),
    "center_households": ("党员中心户", "Center households"),
    "uncovered_households": ("广播未覆盖户", "Households without speaker"),
    "uncovered_area_m2": ("广播未覆盖面积(m²)", "Area without speaker (m²)"),
    "radius_m": ("半径(米)", "Radius (m)"),
    "status": ("状态", "Status"),
    "kind": ("类型", "Kind"),
    "area_m2": ("面积(m²)", "Area (m²)"),
    "codes": ("涉及网格", "Grids involved"),
    "severity": ("严重程度", "Severity"),
    "newly_covered": ("新增覆盖户", "Newly covered households"),
    "would_cover": ("修复后可覆盖未覆盖户", "Uncovered households it would reach if repaired"),
    "reasons": ("评级原因", "Why this grade"),
    "layer": ("图层", "Layer"),
    "households_unit": ("户", "households"),
    "missing": ("缺失", "missing"),
    "none": ("无", "none"),
    "address": ("地址", "Address"),
    "floors": ("楼层", "Floors"),
    "building": ("所属楼栋", "Building"),
    "linked_to": ("联系中心户", "Linked to center household"),
    "covered_by": ("覆盖", "Covered by"),
    # values
    "working": ("正常", "working"),
    "broken": ("故障", "broken"),
    "speaker": ("广播", "speaker"),
    "service": ("志愿服务", "service point"),
    "hh_both": ("广播和服务均覆盖", "speaker and service"),
    "hh_speaker": ("仅广播覆盖", "speaker only"),
    "hh_service": ("仅服务点覆盖", "service point only"),
    "hh_none": ("均未覆盖", "neither"),
    "hh_center": ("党员中心户", "center household"),
    "hh_party": ("党员户", "party member household"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "info": ("提示", "info"),
}


def label(key: str, lang: Lang) -> str:
    """The label of `key` in `lang`: the map's own words, then the vocabulary's terms, else the key."""
    pair = _LABELS.get(key)
    if pair is None:
        return term_label(key, lang) or key
    return pair[0] if lang == "zh" else pair[1]


def labels(keys: list[str] | tuple[str, ...], lang: Lang) -> dict[str, str]:
    """Several labels at once, for passing to the page's JavaScript."""
    return {key: label(key, lang) for key in keys}
