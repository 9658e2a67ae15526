"""The 专属网格 of a party organisation on the grid and district maps: a dashed outline labelled with its
name, and a legend entry."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from playwright.sync_api import BrowserContext

from gridmap.analysis import Analysis
from gridmap.maps import coverage_map, grid_map, write_html
from gridmap.maps import styles as st
from gridmap.maps.labels import label
from gridmap.party.dedicated import dedicated_grids, dedicated_within
from gridmap.party.sample import sample_chain
from gridmap.party.vocabulary import AREA_KINDS, DEDICATED
from tests.maps.browser import CHROMIUM, chromium, open_map

Sample = tuple[Analysis, dict[str, gpd.GeoDataFrame]]


@pytest.fixture(scope="module")
def chained(sample: Sample) -> tuple[Analysis, dict[str, gpd.GeoDataFrame], gpd.GeoDataFrame]:
    """The sample district with its seeded chain's organisations in force, and the dedicated grids."""
    analysis, frames = sample
    orgs = sample_chain({**frames, **analysis.frames}).orgs
    return analysis, {**frames, "party_orgs": orgs}, dedicated_grids(orgs)


def test_the_dedicated_grids_of_the_organisations(chained) -> None:
    analysis, frames, dedicated = chained
    (org,) = dedicated.itertuples()  # the seeded 商圈楼宇 organisation of the first community
    assert org.kind == "building_org" and org.name.endswith("商圈楼宇联合党支部")
    community = analysis.communities.set_index("code").geometry[org.community_code]
    assert org.geometry.within(community.buffer(1e-6))
    reached = analysis.grids[shapely.intersects(analysis.grids.geometry.to_numpy(), org.geometry)]
    assert len(reached) >= 1
    for grid in reached.itertuples():
        assert dedicated_within(frames["party_orgs"], grid.geometry)["code"].tolist() == [org.code]
    far = analysis.grids[~analysis.grids["community_code"].eq(org.community_code)].geometry.iloc[0]
    assert dedicated_within(frames["party_orgs"], far).empty
    assert dedicated_grids(None).empty


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with chromium() as context:
        yield context


@pytest.mark.browser
def test_the_grid_map_draws_the_dedicated_grid_dashed_and_named(
    browser, chained, tmp_path: Path, artifacts: Path
) -> None:
    analysis, frames, dedicated = chained
    org = dedicated.iloc[0]
    inside = analysis.grids[shapely.intersects(analysis.grids.geometry.to_numpy(), org.geometry)]
    code = inside["code"].iloc[0]
    page, log = open_map(browser, write_html(grid_map(analysis, frames, code), tmp_path / "grid.html"))
    page.screenshot(path=str(artifacts / "map_grid_dedicated.png"))
    overlays = page.locator(".leaflet-control-layers-overlays label span").all_inner_texts()
    assert label("layer_dedicated", "zh") in [s.strip() for s in overlays]
    drawn = page.evaluate(
        """() => gridmap.layers.dedicated.getLayers().map(l => ({
               dash: l.options.dashArray, color: l.options.color, fill: l.options.fill,
               label: l.getTooltip().getContent(), open: l.isTooltipOpen()}))"""
    )
    assert drawn == [
        {"dash": "8 6", "color": st.DEDICATED, "fill": False, "label": org["name"], "open": True}
    ]
    base = page.evaluate("gridmap.layers.grid.getLayers()[0].options")
    assert not base.get("dashArray") and base["color"] != st.DEDICATED  # apart from the base grid
    shown = page.locator(".gm-area-label")
    assert shown.count() == 1 and shown.inner_text() == org["name"] and shown.is_visible()
    assert label("layer_dedicated", "zh") in page.locator(".gm-box").first.inner_text()  # in the legend
    assert not (log.blocked or log.console_errors or log.page_errors), log
    page.close()


@pytest.mark.browser
def test_the_coverage_map_draws_the_dedicated_grids_with_a_legend_entry(
    browser, chained, tmp_path: Path, artifacts: Path
) -> None:
    analysis, frames, dedicated = chained
    org = dedicated.iloc[0]
    page, log = open_map(
        browser, write_html(coverage_map(analysis, frames=frames), tmp_path / "district.html")
    )
    overlays = page.locator(".leaflet-control-layers-overlays label span").all_inner_texts()
    assert label("layer_dedicated", "zh") in [s.strip() for s in overlays]
    drawn = page.evaluate(
        """() => gridmap.layers.dedicated.getLayers().map(l => ({
               dash: l.options.dashArray, color: l.options.color, fill: l.options.fill,
               label: l.getTooltip().getContent(), kind: l.feature.properties.kind}))"""
    )
    assert drawn == [
        {"dash": "8 6", "color": st.DEDICATED, "fill": False, "label": org["name"], "kind": "商圈楼宇党组织"}
    ]
    page.screenshot(path=str(artifacts / "map_coverage_dedicated_district.png"))
    legend = page.locator(".gm-legend").inner_text()
    assert f"{AREA_KINDS[DEDICATED].zh}（党组织）" in legend  # the vocabulary's word, in the legend
    # Zoomed to the dedicated grid, its name is on the map over the base grids it overlaps.
    west, south, east, north = org.geometry.bounds
    page.evaluate(f"() => {{ gridmap.map.fitBounds([[{south}, {west}], [{north}, {east}]]); }}")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "map_coverage_dedicated.png"))
    names = [n.strip() for n in page.locator(".gm-area-label").all_inner_texts()]
    assert org["name"] in names
    assert not (log.blocked or log.console_errors or log.page_errors), log
    page.close()
    # Without the party register the map has neither the layer nor the legend entry.
    bare = coverage_map(analysis, frames={k: v for k, v in frames.items() if k != "party_orgs"})
    assert label("layer_dedicated", "zh") not in bare.get_root().render()
