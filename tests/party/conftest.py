"""A small district with a known party chain, loaded into each store.

Street S1 holds communities C1 (west) and C2 (east); C1 holds grids G1 and G2,
C2 holds G3. Buildings B1, B2 lie in G1, B3 in G2, B4 in G3. Households H1–H4
live in B1 (H1 a 党员中心户), H5, H6 in B2, H7 in B3, H8 in B4. The chain:
street committee PS1, 大党委 PC1 and PC2, branches PG1 (G1) and PG2 (G2),
groups PB1 (B1) and PB3 (B3); G3 has no branch, B2 and B4 no group, PB3 no
center household. Units: U1 (non-public, covered by PN1), U2 (social
organisation, uncovered), U3 (non-public, uncovered, a 共建 unit of PC1, tier 3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, box

from gridmap.party.register import Member, Organisation, Unit, save_member, save_org, save_unit
from gridmap.stores import Store
from tests.stored import prefilled

SINCE = dt.date(2024, 1, 1)
NAMES = ("王建国", "李秀英")
PHONES = ("13912345678", "13887654321")


def _frame(data: dict[str, list[object]], geometry: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=geometry, crs="EPSG:4326")


def district() -> dict[str, gpd.GeoDataFrame]:
    west, east = box(114.30, 30.50, 114.31, 30.51), box(114.31, 30.50, 114.32, 30.51)
    g1, g2 = box(114.30, 30.50, 114.305, 30.51), box(114.305, 30.50, 114.31, 30.51)
    b = {
        "B1": box(114.301, 30.501, 114.3012, 30.5012),
        "B2": box(114.303, 30.503, 114.3032, 30.5032),
        "B3": box(114.307, 30.505, 114.3072, 30.5052),
        "B4": box(114.315, 30.505, 114.3152, 30.5052),
    }
    homes = {"H1": "B1", "H2": "B1", "H3": "B1", "H4": "B1", "H5": "B2", "H6": "B2", "H7": "B3", "H8": "B4"}
    return {
        "streets": _frame(
            {"code": ["S1"], "name": ["紫阳街道"]}, [MultiPolygon([box(114.30, 30.50, 114.32, 30.51)])]
        ),
        "communities": _frame(
            {
                "code": ["C1", "C2"],
                "name": ["福景社区", "和平社区"],
                "street_code": ["S1", "S1"],
                "kind": ["community"] * 2,
            },
            [MultiPolygon([west]), MultiPolygon([east])],
        ),
        "grids": _frame(
            {
                "code": ["G1", "G2", "G3"],
                "name": ["第1网格", "第2网格", "第3网格"],
                "community_code": ["C1", "C1", "C2"],
                "party_branch": ["第1网格党支部", "第2网格党支部", "第3网格党支部"],
                "worker_name": ["张三", "李四", "王五"],
                "worker_phone": ["13800000001", "13800000002", "13800000003"],
            },
            [MultiPolygon([g1]), MultiPolygon([g2]), MultiPolygon([east])],
        ),
        "buildings": _frame(
            {
                "code": list(b),
                "name": [f"{c}栋" for c in b],
                "address": [f"幸福路{i}号" for i in range(1, 5)],
                "floors": [6] * 4,
                "grid_code": ["G1", "G1", "G2", "G3"],
            },
            list(b.values()),
        ),
        "households": _frame(
            {
                "code": list(homes),
                "address": [f"幸福路{h}" for h in homes],
                "building_code": list(homes.values()),
                "party_member": [True, False, False, False, True, False, True, False],
                "center_household": [True, False, False, False, False, False, False, False],
                "contact_name": ["王建国", "赵一", "钱二", "孙三", "李秀英", "周五", "吴六", "郑七"],
                "contact_phone": ["13912345678", None, None, None, "13887654321", None, None, None],
                "grid_code": ["G1", "G1", "G1", "G1", "G1", "G1", "G2", "G3"],
            },
            [b[home].centroid for home in homes.values()],
        ),
    }


def org(code: str, kind: str, parent: str | None, area_kind: str, area: str, **more: object) -> Organisation:
    return Organisation(
        code=code,
        name=f"{code}组织",
        kind=kind,
        area_kind=area_kind,
        area_code=area,
        parent_code=parent,
        valid_from=more.pop("valid_from", SINCE),
        **more,
    )  # type: ignore[arg-type]


CHAIN = (
    org("PS1", "street_committee", None, "street", "S1", secretary=NAMES[1], secretary_phone=PHONES[1]),
    org("PC1", "community_committee", "PS1", "community", "C1"),
    org("PC2", "community_committee", "PS1", "community", "C2"),
    org("PG1", "grid_branch", "PC1", "grid", "G1", secretary=NAMES[0], secretary_phone=PHONES[0]),
    org("PG2", "grid_branch", "PC1", "grid", "G2"),
    org("PB1", "building_group", "PG1", "building", "B1"),
    org("PB3", "building_group", "PG2", "building", "B3"),
    org("PN1", "non_public", "PS1", "community", "C2"),
)


def load_chain(store: Store, *, checked: bool = False) -> Store:
    """The district and its chain, written through the register's checks when `checked` (slower: each
    write reads what it checks), else straight into the registers."""
    if not checked:
        prefilled(store.url, "party_chain", _write_chain)
        return store
    store.replace_many(district())
    for o in CHAIN:
        save_org(store, o, by="test")
    for m in MEMBERS:
        save_member(store, m, on=SINCE)
    for u in UNITS:
        save_unit(store, u, on=SINCE)
    return store


def _write_chain(store: Store) -> None:
    store.replace_many(district())
    store.party_book().replace(
        {
            "party_orgs": pd.DataFrame([{**asdict(o), "changed_by": "test"} for o in CHAIN]),
            "party_members": pd.DataFrame([asdict(m) for m in MEMBERS]),
            "party_units": pd.DataFrame([asdict(u) for u in UNITS]).astype({"tier": "Int64"}),
        }
    )


MEMBERS = (
    Member("M1", NAMES[0], "PB1", phone=PHONES[0], household_code="H1"),
    Member(
        "M2",
        NAMES[1],
        "PG1",
        phone=PHONES[1],
        household_code="H5",
        in_service=True,
        work_unit="区税务局",
        reported_on=dt.date(2024, 3, 1),
        service_hours=12.5,
    ),
    Member("M3", "吴六", "PB3", household_code="H7"),
)
UNITS = (
    Unit("U1", "紫阳科技有限公司", "non_public", "S1", covered_by="PN1"),
    Unit("U2", "紫阳志愿者协会", "social_org", "S1"),
    Unit("U3", "紫阳物流有限公司", "non_public", "S1", member_of="PC1", tier=3),
)


@pytest.fixture
def chain(store: Store) -> Iterator[Store]:
    yield load_chain(store)
