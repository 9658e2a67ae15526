"""The seeded chain over the sample district obeys every rule of the register, and shows findings."""

from __future__ import annotations

import geopandas as gpd
import pytest

from gridmap.party.findings import party_findings
from gridmap.party.funds import balances, entitlements, shortfalls
from gridmap.party.points import DEFAULT_RULES, Scheme, annual_totals
from gridmap.party.sample import sample_chain, sample_ledgers
from gridmap.party.vocabulary import AREA_LAYERS, DEDICATED, LINK_QUOTA, ORG_KINDS
from gridmap.sample.files import read_sample


@pytest.fixture(scope="module")
def frames() -> dict[str, gpd.GeoDataFrame]:
    return read_sample()


def test_the_seeded_chain_is_realistic_and_valid(frames: dict[str, gpd.GeoDataFrame]) -> None:
    chain = sample_chain(frames)
    again = sample_chain(frames)
    assert chain.orgs.equals(again.orgs) and chain.links.equals(again.links)  # seeded
    orgs = chain.orgs.set_index("code")
    assert orgs.index.is_unique
    for code, row in orgs.iterrows():
        kind = ORG_KINDS[row["kind"]]
        assert row["area_kind"] in kind.areas, code
        if kind.parents:
            assert orgs.loc[row["parent_code"], "kind"] in kind.parents, code
        layer = "communities" if row["area_kind"] == DEDICATED else AREA_LAYERS[row["area_kind"]]
        assert row["area_code"] in set(frames[layer]["code"]), code
    counts = orgs["kind"].value_counts()
    assert counts["street_committee"] == 1 and counts["community_committee"] == 7
    assert counts["grid_branch"] == 61 - 61 // 9
    assert counts["building_org"] == 1 and orgs["secretary"].notna().all()
    members = chain.members
    assert members["org_code"].isin(orgs.index).all()
    assert 1000 < len(members) <= int(frames["households"]["party_member"].fillna(False).sum())
    assert members["code"].is_unique and 0.2 < members["in_service"].mean() < 0.45
    links = chain.links
    homes = frames["households"].set_index("code")
    assert links["household_code"].is_unique
    assert (links.groupby("center_code").size() <= LINK_QUOTA - 1).all()  # one dropped per center
    same_grid = (
        homes.loc[links["household_code"], "grid_code"].to_numpy()
        == homes.loc[links["center_code"], "grid_code"].to_numpy()
    )
    assert same_grid.all()
    assert not homes.loc[links["household_code"], "center_household"].fillna(False).any()
    found = party_findings(frames, chain.orgs, chain.units)
    assert len(found["grids_without_branch"]) == 61 // 9
    assert len(found["ungrouped_buildings"]) > 0 and len(found["groups_without_center"]) > 0
    assert len(found["committees_without_units"]) == 7 // 4
    street = found["two_coverages"].iloc[0]
    assert street["units"] == 12 and 0 < street["organised"] < 12


def test_the_seeded_ledgers_show_caps_and_shortfalls(frames: dict[str, gpd.GeoDataFrame]) -> None:
    chain = sample_chain(frames)
    ledgers = sample_ledgers(chain, 2025)
    totals = annual_totals(ledgers["party_points"], DEFAULT_RULES, chain.members, chain.orgs, Scheme())
    assert totals["capped"].gt(0).any() and totals["deducted"].gt(0).any()
    assert totals["total"].between(0, 60 + 12 + 24 + 30 + 20 + 16).all()
    owed = shortfalls(entitlements(chain.orgs, chain.units, 2025), ledgers["party_funds"])
    assert 0 < owed["short"].gt(0).sum() < len(owed)
    assert set(owed.loc[owed["short"].gt(0), "short"]) <= {4_000.0, 15_000.0, 10_000.0, 500.0}
    assert not balances(ledgers["party_funds"])["overspent"].any()
