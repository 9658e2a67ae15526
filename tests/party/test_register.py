"""The chain's rules on both stores: parents, areas, validity dates, revert, members, links."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from gridmap.errors import NotFoundError, StoreError, ValidationError
from gridmap.party.register import (
    Member,
    close_org,
    confirm_links,
    org_tree,
    revert_org,
    save_member,
    save_org,
)
from gridmap.stores import Store
from tests.party.conftest import CHAIN, load_chain, org

PG1 = next(o for o in CHAIN if o.code == "PG1")


def _fields(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {p.field for p in error.value.problems if p.field}


def test_the_chain_written_through_its_checks_reads_back_as_a_tree(store: Store) -> None:
    chain = load_chain(store, checked=True)
    assert chain.party_book().members()["code"].tolist() == ["M1", "M2", "M3"]
    assert chain.party_book().units()["code"].tolist() == ["U1", "U2", "U3"]
    (top,) = org_tree(chain.party_book().orgs(on=dt.date(2025, 1, 1)))
    assert top["code"] == "PS1"
    assert [c["code"] for c in top["children"]] == ["PC1", "PC2", "PN1"]
    pc1 = top["children"][0]
    assert [c["code"] for c in pc1["children"]] == ["PG1", "PG2"]
    assert [c["code"] for c in pc1["children"][0]["children"]] == ["PB1"]


def test_parents_and_areas_must_fit_the_kind(chain: Store) -> None:
    cases = [
        (org("PX1", "grid_branch", "PS1", "grid", "G3"), "parent_code"),  # a branch under a street committee
        (org("PX2", "grid_branch", None, "grid", "G3"), "parent_code"),
        (org("PX3", "street_committee", "PS1", "street", "S1"), "parent_code"),
        (org("PX4", "grid_branch", "PC2", "building", "B4"), "area_kind"),
        (org("PX5", "grid_branch", "PC2", "grid", "G9"), "area_code"),
        (org("PX6", "grid_branch", "PC9", "grid", "G3"), "parent_code"),
        (org("PX7", "party_cell", "PC2", "grid", "G3"), "kind"),
        (org("PX8", "grid_branch", "PC2", "grid", "G3", secretary_phone="12ab"), "secretary_phone"),
    ]
    for bad, field in cases:
        with pytest.raises(ValidationError) as error:
            save_org(chain, bad, by="test")
        assert field in _fields(error), (bad.code, error.value.problems)
    assert len(chain.party_book().orgs()) == len(CHAIN)  # nothing written


def test_a_parent_must_be_in_force_on_the_first_day(chain: Store) -> None:
    early = org("PG3", "grid_branch", "PC2", "grid", "G3", valid_from=dt.date(2023, 6, 1))
    with pytest.raises(ValidationError) as error:
        save_org(chain, early, by="test")
    assert _fields(error) == {"parent_code"}
    save_org(chain, replace(early, valid_from=dt.date(2024, 6, 1)), by="test")


def test_a_change_is_a_new_version_and_the_old_one_closes(chain: Store) -> None:
    renamed = replace(PG1, name="第1网格联合党支部", secretary="刘洋", valid_from=dt.date(2025, 7, 1))
    save_org(chain, renamed, by="test")
    book = chain.party_book()
    assert book.orgs(on=dt.date(2025, 6, 30), codes=["PG1"])["name"].tolist() == ["PG1组织"]
    now = book.orgs(on=dt.date(2025, 7, 1), codes=["PG1"])
    assert now["name"].tolist() == ["第1网格联合党支部"] and now["secretary"].tolist() == ["刘洋"]
    versions = book.orgs(codes=["PG1"])
    assert [str(v) for v in versions["valid_to"]] == ["2025-07-01", "None"]
    with pytest.raises(ValidationError) as error:  # not later than the version in force
        save_org(chain, replace(renamed, valid_from=dt.date(2025, 7, 1)), by="test")
    assert _fields(error) == {"valid_from"}
    with pytest.raises(ValidationError) as error:  # a code keeps its kind
        save_org(
            chain,
            org("PG1", "functional_branch", "PC1", "community", "C1", valid_from=dt.date(2026, 1, 1)),
            by="test",
        )
    assert "kind" in _fields(error)
    revert_org(chain, "PG1")
    back = book.orgs(codes=["PG1"])
    assert len(back) == 1 and back["valid_to"].isna().all() and back["name"].tolist() == ["PG1组织"]


def test_closing_waits_for_the_children(chain: Store) -> None:
    with pytest.raises(ValidationError) as error:
        close_org(chain, "PG2", dt.date(2025, 1, 1))  # PB3 is still in force
    assert _fields(error) == {"code"}
    close_org(chain, "PB3", dt.date(2025, 1, 1))
    close_org(chain, "PG2", dt.date(2025, 1, 1))
    book = chain.party_book()
    assert "PG2" not in set(book.orgs(on=dt.date(2025, 1, 1))["code"])
    assert "PG2" in set(book.orgs(on=dt.date(2024, 12, 31))["code"])
    revert_org(chain, "PG2")  # the closing undone
    assert "PG2" in set(book.orgs(on=dt.date(2025, 1, 1))["code"])
    with pytest.raises(NotFoundError):
        close_org(chain, "PB3", dt.date(2025, 2, 1))


def test_one_version_in_force_per_code_is_the_stores_rule(chain: Store) -> None:
    book = chain.party_book()
    row = book.orgs(codes=["PC2"]).iloc[0].to_dict()
    with pytest.raises(StoreError):
        book.save_org({**row, "valid_from": dt.date(2025, 1, 1)}, None)  # two versions in force
    with pytest.raises(StoreError):
        book.save_org({**row, "valid_from": dt.date(2025, 1, 1), "valid_to": dt.date(2024, 1, 1)}, None)
    assert len(book.orgs(codes=["PC2"])) == 1


def test_a_dedicated_grid_lies_inside_its_community(chain: Store) -> None:
    inside = "POLYGON ((114.304 30.504, 114.306 30.504, 114.306 30.506, 114.304 30.506, 114.304 30.504))"
    across = "POLYGON ((114.309 30.504, 114.312 30.504, 114.312 30.506, 114.309 30.506, 114.309 30.504))"
    with pytest.raises(ValidationError) as error:
        save_org(chain, org("PD1", "building_org", "PC1", "dedicated", "C1", area_wkt=across), by="test")
    assert _fields(error) == {"area_wkt"}
    with pytest.raises(ValidationError):
        save_org(
            chain,
            org("PD1", "building_org", "PC1", "dedicated", "C1", area_wkt="POINT (114.305 30.505)"),
            by="test",
        )
    # Overlapping G1 and G2 is what a 专属网格 does: no problem.
    save_org(chain, org("PD1", "building_org", "PC1", "dedicated", "C1", area_wkt=inside), by="test")
    assert chain.party_book().orgs(codes=["PD1"])["area_wkt"].tolist() == [inside]


def test_members_need_an_organisation_in_force_and_a_real_household(chain: Store) -> None:
    with pytest.raises(ValidationError) as error:
        save_member(chain, Member("M9", "", "PG9", phone="123", household_code="H99", service_hours=-1))
    assert _fields(error) == {"name", "org_code", "phone", "household_code", "service_hours"}
    members = chain.party_book().members()
    assert members["code"].tolist() == ["M1", "M2", "M3"]
    m2 = members.set_index("code").loc["M2"]
    assert bool(m2["in_service"]) and m2["service_hours"] == 12.5 and str(m2["reported_on"]) == "2024-03-01"


def test_links_join_a_center_to_households_of_its_grid(chain: Store) -> None:
    rules = [
        ("H2", ["H3"], "center"),  # not a 党员中心户
        ("H1", ["H7"], "households"),  # another grid
        ("H1", ["H1"], "households"),  # itself
        ("H1", ["H99"], "households"),
        ("H1", [f"H{i}" for i in range(11)], "households"),  # beyond the quota
    ]
    for center, households, field in rules:
        with pytest.raises((ValidationError, NotFoundError)) as error:
            confirm_links(chain, center, households, by="test")
        if isinstance(error.value, ValidationError):
            assert field in {p.field for p in error.value.problems}
    assert not len(chain.party_book().links())
    confirm_links(chain, "H1", ["H2", "H5"], by="社区", on=dt.date(2025, 3, 1))
    links = chain.party_book().links()
    assert links["household_code"].tolist() == ["H2", "H5"] and set(links["center_code"]) == {"H1"}
    confirm_links(chain, "H1", ["H3"], by="社区")  # replaces the center's links
    assert chain.party_book().links()["household_code"].tolist() == ["H3"]
