"""Findings of the party chain a planner acts on, beyond the per-grid ones the analysis counts.

The per-grid findings (buildings without a 楼栋党小组, groups without a
党员中心户, grids without a branch) are counts of the `party_groups`
measure and gap kinds of `gridmap.vocabulary`, so they reach the grid table,
the gaps list, the maps, the meeting report and the workbook with the other
measures. This module lists them feature by feature, and adds what is not
per grid: 大党委 without 共建 units, and 两个覆盖 (the share of non-public
enterprises and social organisations of a street with a party organisation
covering them, and with party work reaching them) per street.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridmap.party.access import below
from gridmap.party.vocabulary import BUILDING_GROUP, COMMUNITY_COMMITTEE, GRID_BRANCH, UNIT_KINDS
from gridmap.vocabulary import Term


@dataclass(frozen=True)
class PartyFinding(Term):
    """A kind of party-chain finding: the table listing it (a workbook sheet) and what to do."""

    action_zh: str = ""
    action_en: str = ""


PARTY_FINDINGS: dict[str, PartyFinding] = {
    f.code: f
    for f in (
        PartyFinding(
            "ungrouped_buildings",
            "楼栋未建党小组",
            "buildings without a party group",
            "建立楼栋党小组",
            "set up a group",
        ),
        PartyFinding(
            "groups_without_center",
            "党小组无党员中心户",
            "groups without a center household",
            "确定党员中心户",
            "name a center household",
        ),
        PartyFinding(
            "grids_without_branch",
            "网格未建党支部",
            "grids without a party branch",
            "建立网格党支部",
            "set up a branch",
        ),
        PartyFinding(
            "committees_without_units",
            "大党委无共建单位",
            "community committees without member units",
            "吸纳共建单位",
            "recruit member units",
        ),
        PartyFinding(
            "two_coverages",
            "两个覆盖",
            "two coverages",
            "组建或派驻党组织",
            "set up or send a party organisation",
        ),
        PartyFinding(
            "dual_reports",
            "在职党员双报到",
            "in-service members reporting",
            "动员在职党员到社区报到服务",
            "ask in-service members to report and serve",
        ),
    )
}
"""Every party finding kind, in the order the CLI and the workbook list them."""


def ungrouped_buildings(buildings: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Buildings (code, name, grid_code) no building group in force serves."""
    groups = orgs.loc[orgs["kind"] == BUILDING_GROUP, "area_code"]
    found = buildings[~buildings["code"].astype(str).isin(groups.astype(str))]
    return pd.DataFrame(found[["code", "name", "grid_code"]]).reset_index(drop=True)


def groups_without_center(households: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Building groups (code, name, building code) with no 党员中心户 living in their building."""
    centers = households.loc[households["center_household"].fillna(False).astype(bool), "building_code"]
    groups = orgs[orgs["kind"] == BUILDING_GROUP]
    found = groups[~groups["area_code"].astype(str).isin(centers.dropna().astype(str))]
    return (
        found[["code", "name", "area_code"]]
        .rename(columns={"area_code": "building_code"})
        .reset_index(drop=True)
    )


def grids_without_branch(grids: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Grids (code, name, community_code) no grid branch in force serves."""
    branches = orgs.loc[(orgs["kind"] == GRID_BRANCH) & (orgs["area_kind"] == "grid"), "area_code"]
    found = grids[~grids["code"].astype(str).isin(branches.astype(str))]
    return pd.DataFrame(found[["code", "name", "community_code"]]).reset_index(drop=True)


def committees_without_units(orgs: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Community 大党委 in force (code, name, community code) with no 共建 member unit."""
    committees = orgs[orgs["kind"] == COMMUNITY_COMMITTEE]
    found = committees[~committees["code"].isin(units["member_of"].dropna())]
    return (
        found[["code", "name", "area_code"]]
        .rename(columns={"area_code": "community_code"})
        .reset_index(drop=True)
    )


def two_coverages(streets: pd.DataFrame, units: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Per street: enterprises and social organisations counted, those a party organisation in force
    covers (组织覆盖) and those it covers or that are 共建 units (工作覆盖), with both shares."""
    counted = units[units["kind"].isin([k.code for k in UNIT_KINDS.values() if k.two_coverages])]
    in_force = set(orgs["code"])
    organised = counted["covered_by"].isin(in_force)
    worked = organised | counted["member_of"].isin(in_force)
    table = pd.DataFrame({"street_code": counted["street_code"], "organised": organised, "worked": worked})
    per = table.groupby("street_code").agg(
        units=("organised", "size"), organised=("organised", "sum"), worked=("worked", "sum")
    )
    out = (
        streets[["code", "name"]]
        .rename(columns={"code": "street_code"})
        .merge(per, left_on="street_code", right_index=True, how="left")
    )
    out[["units", "organised", "worked"]] = out[["units", "organised", "worked"]].fillna(0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["organised_share"] = out["organised"] / out["units"].where(out["units"] > 0)
        out["worked_share"] = out["worked"] / out["units"].where(out["units"] > 0)
    return out.reset_index(drop=True)


def dual_reports(members: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Per 大党委 in force: its members (in it or below it), the in-service ones, those of them
    registered with the community (双报到) and their service hours."""
    rows = []
    for committee in orgs[orgs["kind"] == COMMUNITY_COMMITTEE].itertuples():  # a few per street
        mine = members[members["org_code"].isin(below(orgs, frozenset([str(committee.code)])))]
        serving = mine[mine["in_service"].astype(bool)]
        rows.append(
            {
                "code": committee.code,
                "name": committee.name,
                "community_code": committee.area_code,
                "members": len(mine),
                "in_service": len(serving),
                "reported": int(serving["reported_on"].notna().sum()),
                "service_hours": float(serving["service_hours"].sum()),
            }
        )
    columns = ["code", "name", "community_code", "members", "in_service", "reported", "service_hours"]
    return pd.DataFrame(rows, columns=columns)


def party_findings(
    frames: dict[str, pd.DataFrame],
    orgs: pd.DataFrame,
    units: pd.DataFrame,
    members: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every finding kind of `PARTY_FINDINGS` over the layers (with grid codes) and the registers
    (`dual_reports` only when the members are given)."""
    found = {
        "ungrouped_buildings": ungrouped_buildings(frames["buildings"], orgs),
        "groups_without_center": groups_without_center(frames["households"], orgs),
        "grids_without_branch": grids_without_branch(frames["grids"], orgs),
        "committees_without_units": committees_without_units(orgs, units),
        "two_coverages": two_coverages(frames["streets"], units, orgs),
    }
    if members is not None:
        found["dual_reports"] = dual_reports(members, orgs)
    return found
