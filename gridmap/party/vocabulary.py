"""The party organisation chain's words and rules, written once: kinds, their parents and areas, tiers.

街道党委 → 社区大党委 → 网格（小区）党支部 → 楼栋党小组 → 党员中心户: the
first four are organisations (`ORG_KINDS`); a 党员中心户 is a household
(`households.center_household`) whose links the 一户十联 register holds.
Beside the chain stand functional branches and the organisations of
non-public enterprises, social organisations and business districts/office
buildings (商圈楼宇). Each kind says which kinds may be its parent and which
kinds of area it may serve. The CLI, the API, the findings and the reports
read these tables; nothing else spells a kind or its label.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridmap.vocabulary import Term

AREA_LAYERS: dict[str, str] = {
    "street": "streets",
    "community": "communities",
    "grid": "grids",
    "building": "buildings",
}
"""Area kinds served by a feature of a layer, and the layer; `dedicated` (专属网格) is a polygon."""

DEDICATED = "dedicated"
AREA_KINDS: dict[str, Term] = {
    t.code: t
    for t in (
        Term("street", "街道", "street"),
        Term("community", "社区", "community"),
        Term("grid", "网格", "grid"),
        Term("building", "楼栋", "building"),
        Term(DEDICATED, "专属网格", "dedicated grid"),
    )
}


@dataclass(frozen=True)
class OrgKind(Term):
    """A kind of party organisation: the kinds its parent may be (none: top) and the areas it serves."""

    parents: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()


STREET_COMMITTEE = "street_committee"
COMMUNITY_COMMITTEE = "community_committee"
GRID_BRANCH = "grid_branch"
BUILDING_GROUP = "building_group"
FUNCTIONAL_BRANCH = "functional_branch"
NON_PUBLIC = "non_public"
SOCIAL_ORG = "social_org"
BUILDING_ORG = "building_org"

ORG_KINDS: dict[str, OrgKind] = {
    k.code: k
    for k in (
        OrgKind(STREET_COMMITTEE, "街道党（工）委", "street party committee", (), ("street",)),
        OrgKind(
            COMMUNITY_COMMITTEE,
            "社区大党委",
            "community party committee",
            (STREET_COMMITTEE,),
            ("community",),
        ),
        OrgKind(
            GRID_BRANCH,
            "网格（小区）党支部",
            "grid party branch",
            (COMMUNITY_COMMITTEE,),
            ("grid", DEDICATED),
        ),
        OrgKind(BUILDING_GROUP, "楼栋党小组", "building party group", (GRID_BRANCH,), ("building",)),
        OrgKind(
            FUNCTIONAL_BRANCH,
            "功能型党支部",
            "functional party branch",
            (COMMUNITY_COMMITTEE, STREET_COMMITTEE),
            ("community", DEDICATED),
        ),
        OrgKind(
            NON_PUBLIC,
            "非公企业党组织",
            "non-public enterprise party organisation",
            (STREET_COMMITTEE, COMMUNITY_COMMITTEE),
            ("community", "building", DEDICATED),
        ),
        OrgKind(
            SOCIAL_ORG,
            "社会组织党组织",
            "social organisation party organisation",
            (STREET_COMMITTEE, COMMUNITY_COMMITTEE),
            ("community", "building", DEDICATED),
        ),
        OrgKind(
            BUILDING_ORG,
            "商圈楼宇党组织",
            "business district / office building party organisation",
            (STREET_COMMITTEE, COMMUNITY_COMMITTEE),
            ("community", "building", DEDICATED),
        ),
    )
}
"""Every organisation kind, top of the chain first."""


@dataclass(frozen=True)
class UnitKind(Term):
    """A kind of unit (enterprise, social organisation, …) and whether 两个覆盖 counts it."""

    two_coverages: bool = False


UNIT_KINDS: dict[str, UnitKind] = {
    k.code: k
    for k in (
        UnitKind("non_public", "非公有制企业", "non-public enterprise", True),
        UnitKind("social_org", "社会组织", "social organisation", True),
        UnitKind("institution", "机关事业单位", "public institution"),
        UnitKind("state_owned", "国有企业", "state-owned enterprise"),
    )
}
"""Units of a street: 共建单位 of a 大党委 and the enterprises and organisations 两个覆盖 counts."""

SUPPORT_TIERS: dict[int, Term] = {
    3: Term("3", "三万元档", "¥30,000 tier"),
    2: Term("2", "二万元档", "¥20,000 tier"),
    1: Term("1", "一千元档", "¥1,000 tier"),
}
SUPPORT_YUAN: dict[int, int] = {3: 30_000, 2: 20_000, 1: 1_000}
"""共建 "321" support a year per unit of each tier, in yuan."""

GRID_BRANCH_FUNDS_YUAN = 10_000
"""Working funds a year per grid party branch, in yuan."""

LINK_QUOTA = 10
"""一户十联: a center household confirms links with at most this many households."""
