"""Addresses on real districts' names (bench/real_districts.py, bench/real_corpus.py), on both stores.

Three seeds and 武昌区, each a sample of one real county's 街道, 社区 and 村 from jionlp's
location dictionary with roads named after them. Acceptance (issue 22): every
form at least 98 % right and never a wrong building or grid; a community
written that the building does not lie in is answered and flagged; a house
number the register lacks is placed in its grid, or named among the candidate
grids, never answered with another grid.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.real_corpus import corpus, evaluate
from bench.real_districts import DistrictPlan, real_district
from gridmap.lookup import LookupService
from gridmap.stores import Store

SEEDS = (1, 2, 3)
WUCHANG = "湖北省武汉市武昌区"  # the district: 武铁社区 on 武铁路 among its names


@pytest.fixture(scope="module", params=[*SEEDS, WUCHANG], ids=[*(f"seed {s}" for s in SEEDS), "武昌区"])
def plan(request: pytest.FixtureRequest) -> DistrictPlan:
    if request.param == WUCHANG:
        return real_district(22, streets=6, county_name=WUCHANG)
    return real_district(request.param)


@pytest.fixture
def service(store: Store, plan: DistrictPlan) -> Iterator[LookupService]:
    store.replace_many(plan.frames)
    service = LookupService(store)
    yield service
    service.close()


def test_every_form_on_real_names(service: LookupService, plan: DistrictPlan) -> None:
    results = evaluate(service, corpus(plan))
    assert len(results) >= 21  # 25 with a village (a county without any 村 has none)
    for result in results:
        assert result.cases >= 50, result
        assert result.wrong == 0, result
        assert result.rate >= 0.98, result


def test_the_districts_are_real_and_share_names_with_their_roads(plan: DistrictPlan) -> None:
    communities = plan.frames["communities"]["name"].tolist()
    assert len(set(communities)) == len(communities) >= 12
    roads = {p["road"] for p in plan.parts}
    named_after = [c for c in communities if any(r.startswith(c.removesuffix("社区")) for r in roads)]
    assert len(named_after) >= len(communities) // 2
    assert plan.held_out and plan.beyond
