"""The speaker action list: figures that do not overlap, and that re-running the analysis confirms."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.action_plan import speaker_plan
from gridmap.analysis import Analysis, analyze
from gridmap.sample import generate

BROKEN = {  # the sample district's five broken speakers
    "GB42010600100100501",
    "GB42010600100200901",
    "GB42010600100400201",
    "GB42010600100400801",
    "GB42010600100500802",
}


@pytest.fixture(scope="module")
def sample() -> tuple[Analysis, dict[str, gpd.GeoDataFrame]]:
    frames = generate(scale=1)
    return analyze(frames), frames


def _applied(frames: dict[str, gpd.GeoDataFrame], repairs: set[str], sites: gpd.GeoDataFrame) -> Analysis:
    """The analysis again with the repairs made (status working) and the sites built as speakers."""
    speakers = frames["speakers"].copy()
    speakers.loc[speakers["code"].isin(repairs), "status"] = "working"
    new = gpd.GeoDataFrame(
        {
            "code": [f"NEW{int(r)}" for r in sites["rank"]],
            "name": [f"site {int(r)}" for r in sites["rank"]],
            "radius_m": sites["radius_m"].to_numpy(),
            "status": "working",
        },
        geometry=sites.geometry.to_numpy(),
        crs=sites.crs,
    )
    return analyze({**frames, "speakers": pd.concat([speakers, new.to_crs(speakers.crs)], ignore_index=True)})


def test_every_broken_speaker_is_ranked_by_what_it_adds(sample) -> None:
    analysis, frames = sample
    plan = speaker_plan(analysis, frames, sites=3)
    assert set(plan.repairs["code"]) == BROKEN  # the fifth adds nobody, and is listed all the same
    gains = plan.repairs["gain"].tolist()
    assert gains == sorted(gains, reverse=True) and gains[-1] == 0
    assert plan.repairs["code"].iloc[-1] == "GB42010600100500802"
    # Repairing all five adds 1,275 households (87.2 % -> 92.4 %), not the 1,794 the separate figures sum to.
    assert plan.covered_after_repairs - plan.covered_before == 1275 == sum(gains)
    assert plan.covered_before / plan.households == pytest.approx(0.872, abs=5e-4)
    assert plan.share(plan.covered_after_repairs) == pytest.approx(0.924, abs=5e-4)


@pytest.mark.parametrize("scope", ["district", "community"])
def test_the_promised_figures_are_what_the_analysis_gives_with_the_actions_applied(sample, scope) -> None:
    analysis, frames = sample
    codes = None
    if scope == "community":
        codes = set(analysis.grids.loc[analysis.grids["community_code"] == "420106001004", "code"])
    plan = speaker_plan(analysis, frames, codes, sites=3)
    assert len(plan.sites) == 3 and len(plan.repairs)

    def covered(result: Analysis) -> int:
        hh = result.households
        mine = hh if codes is None else hh[hh["grid_code"].isin(codes)]
        return int(mine["speaker_covered"].sum())

    repaired = set(plan.repairs["code"])
    assert covered(_applied(frames, repaired, plan.sites.iloc[:0])) == plan.covered_after_repairs
    for i in range(len(plan.sites)):  # each line's running total
        done = _applied(frames, repaired, plan.sites.iloc[: i + 1])
        assert covered(done) == int(plan.sites["covered_after"].iloc[i])
    assert int(plan.sites["covered_after"].iloc[-1]) == plan.covered_after


def test_sites_are_chosen_after_the_repairs(sample) -> None:
    analysis, frames = sample
    plan = speaker_plan(analysis, frames, sites=3)
    first = plan.sites.iloc[0]
    assert int(first["covered_after"]) - int(first["gain"]) == plan.covered_after_repairs
