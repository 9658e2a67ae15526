"""The party chain in the analysis, read from each store: groups, centers, branches, confirmed links."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.analysis import analyze, read_inputs
from gridmap.incremental import update
from gridmap.party.findings import party_findings
from gridmap.party.register import confirm_links
from gridmap.party.sample import sample_chain
from gridmap.sample import generate
from gridmap.stores import Store
from tests.party.conftest import district, load_chain


@pytest.fixture
def chain(store: Store) -> Store:
    return load_chain(store)


def test_the_chain_in_the_grid_table_and_the_gaps(chain: Store) -> None:
    frames = read_inputs(chain)
    assert set(frames["party_orgs"]["code"]) == {"PS1", "PC1", "PC2", "PG1", "PG2", "PB1", "PB3", "PN1"}
    result = analyze(frames)
    grids = result.grids.set_index("code")
    assert grids["party_buildings"].tolist() == [2, 1, 1]
    assert grids["grouped_buildings"].tolist() == [1, 1, 0]
    assert grids["groups_without_center"].tolist() == [0, 1, 0]
    assert grids["party_group_share"].tolist() == [0.5, 1.0, 0.0]
    # G3 names a branch in its text, but no branch is in force: the register decides.
    assert grids["has_party_branch"].tolist() == [True, True, False]
    gaps = result.gaps.set_index(["kind", "grid_code"])["description_zh"]
    assert gaps[("ungrouped_buildings", "G1")] == "网格 G1 有 1 栋楼未建立楼栋党小组"
    assert gaps[("groups_without_center", "G2")] == "网格 G2 有 1 个楼栋党小组没有党员中心户"
    assert ("no_party_branch", "G3") in gaps.index and ("no_party_branch", "G1") not in gaps.index
    community = result.communities.set_index("code")
    assert community.loc["C1", "grouped_buildings"] == 2 and community.loc["C1", "party_group_share"] == 2 / 3
    households = result.households.set_index("code")["party_group"]
    assert households[["H1", "H5", "H7", "H8"]].tolist() == [True, False, True, False]


def test_the_linkage_measure_reads_the_confirmed_register(chain: Store) -> None:
    computed = analyze(read_inputs(chain)).households.set_index("code")["linked_to"]
    assert computed[["H2", "H3", "H4", "H5", "H6"]].tolist() == ["H1"] * 5  # G1: H1 links all it can
    confirm_links(chain, "H1", ["H2", "H5"], by="社区", on=dt.date(2025, 3, 1))
    result = analyze(read_inputs(chain))
    linked = result.households.set_index("code")["linked_to"]
    assert linked[["H1", "H2", "H5"]].tolist() == ["H1"] * 3
    assert linked[["H3", "H4", "H6"]].isna().all()  # confirmed without them: the register is the truth
    assert pd.isna(linked["H7"])  # G2 has no center household, confirmed or proposed
    assert result.grids.set_index("code").loc["G1", "linked"] == 3


def test_findings_beyond_the_grid(chain: Store) -> None:
    book = chain.party_book()
    found = party_findings(district(), book.orgs(on=dt.date(2025, 1, 1)), book.units(), book.members())
    assert found["ungrouped_buildings"]["code"].tolist() == ["B2", "B4"]
    assert found["groups_without_center"]["code"].tolist() == ["PB3"]
    assert found["grids_without_branch"]["code"].tolist() == ["G3"]
    assert found["committees_without_units"]["code"].tolist() == ["PC2"]
    (street,) = found["two_coverages"].to_dict("records")
    assert (street["units"], street["organised"], street["worked"]) == (3, 1, 2)
    assert street["organised_share"] == 1 / 3 and street["worked_share"] == 2 / 3
    reports = found["dual_reports"].set_index("code")
    assert reports.loc["PC1"].tolist() == ["PC1组织", "C1", 3, 1, 1, 12.5]  # M2 serves, registered 2024-03-01
    assert reports.loc["PC2", "members"] == 0


@pytest.fixture(scope="module")
def town() -> dict[str, gpd.GeoDataFrame]:
    """A generated town with the seeded chain's organisations in force and its confirmed links."""
    frames = generate(scale=1)
    assigned = analyze(frames).frames
    chain = sample_chain({**frames, **assigned})
    return {**frames, "party_orgs": chain.orgs, "party_links": chain.links[["household_code", "center_code"]]}


def test_edits_equal_a_full_analysis(town: dict[str, gpd.GeoDataFrame]) -> None:
    before = analyze(town)
    assert before.grids["ungrouped_buildings"].sum() > 0 and before.grids["groups_without_center"].sum() > 0
    buildings = town["buildings"].copy()
    grouped = set(town["party_orgs"].loc[town["party_orgs"]["kind"] == "building_group", "area_code"])
    gone = buildings.index[buildings["code"].isin(grouped)][0]
    edited = {
        "buildings": gpd.GeoDataFrame(buildings.drop(index=gone).reset_index(drop=True), crs=buildings.crs)
    }
    after, _ = update(dict(town), before, edited, whole_share=1.0)
    want = analyze({**town, **edited})
    columns = [
        "code",
        "party_buildings",
        "grouped_buildings",
        "groups_without_center",
        "has_party_branch",
        "linked",
    ]
    for name in ("grids", "communities"):
        shown = [c for c in columns if c in getattr(want, name)]
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(after, name)[shown]).reset_index(drop=True),
            pd.DataFrame(getattr(want, name)[shown]).reset_index(drop=True),
            check_dtype=False,
        )
    assert want.grids["grouped_buildings"].sum() == before.grids["grouped_buildings"].sum() - 1
