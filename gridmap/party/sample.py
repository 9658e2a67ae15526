"""A realistic party chain over a district, for the demo and tests (seeded, reproducible).

Every street has its 党工委 and every community its 大党委; every grid but one
in nine has a branch; a building has a 楼栋党小组 when party members live in
it (so buildings without members show as buildings without a group); members
are the party-member households' contacts, a third of them in-service members
registered with the community (双报到). Each street has non-public
enterprises and social organisations, about two in three covered by a joint
party organisation; each community but one in four has 共建 units in the "321"
tiers. One community keeps a confirmed 一户十联 register: the computed
linkage of its grids, confirmed as proposed except one link per center
dropped, so the register and the proposal differ visibly. A business-district
party organisation serves a 专属网格 drawn around three buildings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.crs import metric_crs
from gridmap.linkage import link_households
from gridmap.party.points import DEFAULT_RULES
from gridmap.party.vocabulary import (
    BUILDING_GROUP,
    BUILDING_ORG,
    COMMUNITY_COMMITTEE,
    GRID_BRANCH,
    NON_PUBLIC,
    SOCIAL_ORG,
    STREET_COMMITTEE,
    SUPPORT_YUAN,
)
from gridmap.stores import Store

DEFAULT_SEED = 26
SINCE = dt.date(2021, 1, 1)
"""The seeded organisations' first day (the last 换届)."""
NO_BRANCH_EVERY = 9
NO_UNITS_EVERY = 4
UNITS_PER_STREET = 12
_ENTERPRISE = ("科技有限公司", "物流有限公司", "餐饮管理有限公司", "商贸有限公司")
_SOCIAL = ("志愿者协会", "社工服务中心", "养老服务中心", "文体协会")
_COBUILD = ("区税务局", "区人民医院", "市第二中学", "供电公司", "区城管局", "国网营业厅", "区图书馆")


@dataclass(frozen=True)
class PartyChain:
    """The registers of a seeded chain, as `PartyBook.replace` takes them."""

    orgs: pd.DataFrame
    units: pd.DataFrame
    members: pd.DataFrame
    links: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        return {
            "party_orgs": self.orgs,
            "party_units": self.units,
            "party_members": self.members,
            "party_links": self.links,
        }


def _org(code: str, name: str, kind: str, parent: str | None, area_kind: str, area: str) -> dict[str, object]:
    return {
        "code": code,
        "valid_from": SINCE,
        "valid_to": None,
        "name": name,
        "kind": kind,
        "parent_code": parent,
        "area_kind": area_kind,
        "area_code": area,
        "area_wkt": None,
        "changed_by": "seed",
    }


def _text(value: object) -> str:
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
        else str(value)
    )


def sample_chain(frames: dict[str, gpd.GeoDataFrame], seed: int = DEFAULT_SEED) -> PartyChain:
    """The chain over `frames` (streets, communities, grids, buildings, households with grid codes)."""
    rng = np.random.default_rng(seed)
    streets, communities, grids = frames["streets"], frames["communities"], frames["grids"]
    buildings, households = frames["buildings"], frames["households"]
    orgs = [
        _org(f"P{s.code}", f"{s.name}党工委", STREET_COMMITTEE, None, "street", s.code)
        for s in streets.itertuples()
    ]
    orgs += [
        _org(f"P{c.code}", f"{c.name}大党委", COMMUNITY_COMMITTEE, f"P{c.street_code}", "community", c.code)
        for c in communities.itertuples()
    ]
    branched = [g for i, g in enumerate(grids.itertuples()) if i % NO_BRANCH_EVERY != NO_BRANCH_EVERY - 1]
    orgs += [
        _org(
            f"P{g.code}",
            _text(g.party_branch) or f"{g.name}党支部",
            GRID_BRANCH,
            f"P{g.community_code}",
            "grid",
            g.code,
        )
        for g in branched
    ]
    with_branch = {str(g.code) for g in branched}
    party = households[households["party_member"].fillna(False).astype(bool)]
    member_buildings = set(party["building_code"].dropna().astype(str))
    grouped = buildings[
        buildings["code"].astype(str).isin(member_buildings)
        & buildings["grid_code"].astype(str).isin(with_branch)
    ]
    orgs += [
        _org(
            f"P{b.code}",
            f"{_text(b.name) or b.code}党小组",
            BUILDING_GROUP,
            f"P{b.grid_code}",
            "building",
            b.code,
        )
        for b in grouped.itertuples()
    ]
    orgs += _dedicated(communities, buildings)
    units, joint = _units(streets, communities, rng)
    table = pd.DataFrame([*orgs, *joint])
    members = _members(party, table, buildings, rng)
    table = _secretaries(table, members, party, rng)
    links = _confirmed_links(households, grids, communities)
    return PartyChain(table, units, members, links)


def _dedicated(communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> list[dict[str, object]]:
    """A 商圈楼宇 organisation serving a 专属网格 around three buildings of the first community."""
    first = communities.sort_values("code").iloc[0]
    inside = buildings[buildings.geometry.within(first.geometry)].sort_values("code").head(3)
    if not len(inside):
        return []
    shape = shapely.intersection(
        shapely.envelope(shapely.union_all(inside.geometry.to_numpy())), first.geometry
    )
    row = _org(
        f"P{first.code}D1",
        f"{first['name']}商圈楼宇联合党支部",
        BUILDING_ORG,
        f"P{first.code}",
        "dedicated",
        str(first.code),
    )
    row["area_wkt"] = shapely.to_wkt(shape, rounding_precision=7)
    return [row]


def _units(
    streets: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """Enterprises and social organisations per street (two in three covered) and 共建 units."""
    rows, joint = [], []
    for s in streets.itertuples():
        covering = {
            NON_PUBLIC: _org(
                f"P{s.code}F1", f"{s.name}非公企业联合党支部", NON_PUBLIC, f"P{s.code}", "community", ""
            ),
            SOCIAL_ORG: _org(
                f"P{s.code}F2", f"{s.name}社会组织联合党支部", SOCIAL_ORG, f"P{s.code}", "community", ""
            ),
        }
        first = communities[communities["street_code"] == s.code].sort_values("code")
        for org in covering.values():
            org["area_code"] = str(first["code"].iloc[0])
        joint += list(covering.values())
        for i in range(UNITS_PER_STREET):
            kind = NON_PUBLIC if i % 3 else SOCIAL_ORG
            names = _ENTERPRISE if kind == NON_PUBLIC else _SOCIAL
            covered = rng.random() < 2 / 3
            rows.append(
                {
                    "code": f"U{s.code}{i + 1:03d}",
                    "name": f"{s.name[:2]}{names[i % len(names)]}{i + 1}",
                    "kind": kind,
                    "street_code": s.code,
                    "covered_by": covering[kind]["code"] if covered else None,
                    "member_of": None,
                    "tier": None,
                }
            )
    for j, c in enumerate(communities.sort_values("code").itertuples()):
        if j % NO_UNITS_EVERY == NO_UNITS_EVERY - 1:
            continue
        for k, tier in enumerate((3, 2, 1, 1)[: 2 + j % 3]):
            rows.append(
                {
                    "code": f"U{c.code}{k + 1:02d}",
                    "name": _COBUILD[(j + k) % len(_COBUILD)] + f"（{c.name}共建）",
                    "kind": "institution",
                    "street_code": c.street_code,
                    "covered_by": None,
                    "member_of": f"P{c.code}",
                    "tier": tier,
                }
            )
    return pd.DataFrame(rows).astype({"tier": "Int64"}), joint


def _secretaries(
    orgs: pd.DataFrame, members: pd.DataFrame, party: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Each organisation's secretary: one of its members, else the nearest below it (first by code), as a
    link to the member; an organisation with no member at or below it gets a resident's name and phone."""
    parent = dict(zip(orgs["code"], orgs["parent_code"], strict=True))
    best: dict[str, tuple[int, str]] = {}
    for member, org in sorted(zip(members["code"], members["org_code"], strict=True)):
        depth, at = 0, org
        while isinstance(at, str) and at:
            if at not in best or (depth, member) < best[at]:
                best[at] = (depth, member)
            depth, at = depth + 1, parent.get(at)
    people = members.set_index("code")
    rows: list[tuple[object, object, str | None]] = []
    for org in orgs["code"]:
        if org in best:
            member = best[org][1]
            rows.append((people.at[member, "name"], people.at[member, "phone"], member))
        else:
            resident = party.iloc[int(rng.integers(0, len(party)))]
            rows.append((resident["contact_name"], resident["contact_phone"], None))
    columns = ["secretary", "secretary_phone", "secretary_code"]
    picked = pd.DataFrame(rows, columns=columns, index=orgs.index, dtype=object)
    return orgs.assign(**{c: picked[c] for c in columns})


def _members(
    party: pd.DataFrame, orgs: pd.DataFrame, buildings: gpd.GeoDataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """One member per party-member household: its building's group, else its grid's branch."""
    codes = set(orgs["code"])
    grid_of_building = dict(
        zip(buildings["code"].astype(str), buildings["grid_code"].astype("string"), strict=True)
    )
    building = party["building_code"].astype("string")
    group = ("P" + building).where(("P" + building).isin(codes))
    branch = "P" + building.map(grid_of_building)
    org = group.fillna(branch.where(branch.isin(codes)))
    kept = party[org.notna().to_numpy()]
    org = org[org.notna()]
    n = len(kept)
    in_service = rng.random(n) < 1 / 3
    reported = [SINCE + dt.timedelta(days=int(d)) for d in rng.integers(30, 1400, n)]
    return pd.DataFrame(
        {
            "code": "M" + kept["code"].astype(str).to_numpy(),
            "name": kept["contact_name"].to_numpy(),
            "phone": kept["contact_phone"].to_numpy(),
            "household_code": kept["code"].astype(str).to_numpy(),
            "org_code": org.to_numpy(),
            "in_service": in_service,
            "work_unit": pd.Series(np.array(_COBUILD, dtype=object)[rng.integers(0, len(_COBUILD), n)]).where(
                in_service
            ),
            "reported_on": pd.Series(reported, dtype=object).where(in_service),
            "service_hours": np.where(in_service, np.round(rng.uniform(0, 40, n), 1), 0.0),
        }
    )


def _confirmed_links(
    households: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame
) -> pd.DataFrame:
    """The first community's computed links, confirmed but for one dropped per center (its last)."""
    first = str(communities.sort_values("code")["code"].iloc[0])
    mine = set(grids.loc[grids["community_code"].astype(str) == first, "code"].astype(str))
    part = households[households["grid_code"].astype("string").isin(mine).fillna(False).to_numpy()]
    part = part[part.geometry.notna() & ~part.geometry.is_empty]
    xy = shapely.get_coordinates(part.to_crs(metric_crs(households)).geometry.to_numpy())
    center = part["center_household"].fillna(False).to_numpy(dtype=bool)
    result = link_households(part["code"], part["grid_code"], xy, center)
    links = pd.DataFrame(
        {"household_code": part["code"].astype(str).to_numpy(), "center_code": result.linked_to.to_numpy()}
    )
    links = links[links["center_code"].notna() & (links["household_code"] != links["center_code"])]
    links = links[links.duplicated("center_code", keep="last")]
    return links.assign(confirmed_by="seed", confirmed_on=dt.date(2025, 3, 1)).reset_index(drop=True)


def sample_ledgers(chain: PartyChain, year: int, seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """A year of points entries and funds for `chain`: most members study monthly and volunteer, a few
    miss meetings; grid branches receive their funds but one in five only part of it, 共建 units pay
    their support but one in four only half; every organisation spends part of what came in."""
    rng = np.random.default_rng(seed + year)
    members = chain.members["code"].to_numpy(dtype=object)
    n = len(members)
    plan = (
        ("study", rng.integers(0, 16, n)),
        ("volunteer", rng.integers(0, 9, n)),
        ("absent", rng.poisson(0.3, n)),
    )
    parts = []
    for rule, counts in plan:
        keep = counts > 0
        day = [dt.date(year, int(m), 15) for m in rng.integers(1, 13, int(keep.sum()))]
        parts.append(
            pd.DataFrame(
                {"member_code": members[keep], "rule_code": rule, "occurred_on": day, "events": counts[keep]}
            )
        )
    points = pd.concat(parts, ignore_index=True).assign(
        evidence="签到表", approver="支部书记", recorded_at=pd.Timestamp(year, 12, 31, tz="UTC")
    )
    branches = chain.orgs.loc[chain.orgs["kind"] == GRID_BRANCH, "code"].to_numpy(dtype=object)
    short = rng.random(len(branches)) < 0.2
    units = chain.units[chain.units["tier"].notna()]
    half = rng.random(len(units)) < 0.25
    receipts = pd.concat(
        [
            pd.DataFrame(
                {"org_code": branches, "source": "branch_funds", "amount": np.where(short, 6_000.0, 10_000.0)}
            ),
            pd.DataFrame(
                {
                    "org_code": units["member_of"].to_numpy(),
                    "source": units["code"].to_numpy(),
                    "amount": units["tier"].astype(np.int64).map(SUPPORT_YUAN).to_numpy()
                    * np.where(half, 0.5, 1.0),
                }
            ),
        ],
        ignore_index=True,
    ).assign(flow="receipt", category=None, evidence="银行回单")
    spent = receipts.groupby("org_code", as_index=False)["amount"].sum()
    spent["amount"] = np.round(spent["amount"] * rng.uniform(0.4, 0.95, len(spent)), 2)
    spending = spent.assign(flow="spending", source="branch_funds", category="service", evidence="发票")
    funds = pd.concat([receipts, spending], ignore_index=True).assign(
        year=year, recorded_on=dt.date(year, 12, 31)
    )
    return {"party_points": points, "party_funds": funds}


def seed_chain(store: Store, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Replace the store's party registers with the seeded chain over its layers, the points ledger's
    rules with the default ones, and both ledgers with last year's (`sample_ledgers`); counts per register."""
    frames = {
        name: store.read(name) for name in ("streets", "communities", "grids", "buildings", "households")
    }
    chain = sample_chain(frames, seed)
    last_year = dt.date.today().year - 1
    registers = {
        **chain.frames(),
        "party_point_rules": DEFAULT_RULES,
        **sample_ledgers(chain, last_year, seed),
    }
    return store.party_book().replace(registers)
