"""The maps in headless Debian Chromium with the network cut off: what a planner actually sees.

Screenshots go to artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from gridmap.analysis import analyze
from gridmap.catalogue import LAYER_NAMES
from gridmap.cli.maps import data_date
from gridmap.coverage import working
from gridmap.maps import coverage as coverage_module
from gridmap.maps import coverage_map, grid_map, write_html
from gridmap.maps.zooms import count_zooms
from gridmap.stores import open_store
from tests.maps.browser import CHROMIUM, chromium, open_map
from tests.maps.fake import city

pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)", allow_module_level=True)

DISTRICT_LAYERS = [
    "网格",
    "缺党支部或网格员的网格",
    "社区边界",
    "街道边界",
    "广播（正常）",
    "广播覆盖范围",
    "名称标注",
    "广播未覆盖住户",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with chromium() as context:
        yield context


@pytest.fixture(scope="module")
def district(sample_store: str):
    """The sample district read back from its store, analysed."""
    with open_store(sample_store) as store:
        frames = {name: store.read(name) for name in LAYER_NAMES}
        counts, when = store.counts(), data_date(store)
    return analyze(frames), frames, counts, when


def _overlay_names(page: Page) -> list[str]:
    return [s.strip() for s in page.locator(".leaflet-control-layers-overlays label span").all_inner_texts()]


def _click_grid(page: Page, lon: float, lat: float) -> str:
    """Click the map at a point with only the grid layer shown; the popup's text."""
    page.evaluate(
        """() => { for (const [key, layer] of Object.entries(gridmap.layers)) {
                     if (key !== "grids") { gridmap.map.removeLayer(layer); } } }"""
    )
    x, y = page.evaluate(
        "([lat, lon]) => { const p = gridmap.map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lat, lon],
    )
    box = page.locator(".folium-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector(".leaflet-popup-content")
    return page.locator(".leaflet-popup-content").inner_text()


def _names(page: Page) -> list[dict]:
    """The names drawn on the map: text, level and box on screen."""
    return page.evaluate(
        """() => [...document.querySelectorAll(".gm-name")].map(e => {
             const r = e.getBoundingClientRect();
             const level = [...e.classList].find(c => c.startsWith("gm-name-")).slice(8);
             return {text: e.textContent, level, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom};
           })"""
    )


def _overlapping(names: list[dict]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]
    ]


def _assert_clean(log) -> None:
    assert log.blocked == [], "requests tried to leave the machine"
    assert log.console_errors == [] and log.page_errors == []


def test_district_map_in_chromium(browser, district, tmp_path: Path, artifacts: Path) -> None:
    analysis, frames, counts, when = district
    html = write_html(coverage_map(analysis, frames=frames, data_date=when), tmp_path / "coverage.html")
    page, log = open_map(browser, html)
    page.screenshot(path=str(artifacts / "map_coverage.png"))

    names = _overlay_names(page)
    assert set(DISTRICT_LAYERS) <= set(names), names
    drawn = page.evaluate(
        "gridmap.layers.grids.getLayers().filter(l => l._map && l._parts.length > 0).length"
    )
    assert drawn == counts["grids"] == len(analysis.grids)
    # Drawn on one canvas, not as thousands of SVG elements.
    assert page.locator(".leaflet-overlay-pane canvas").count() == 1
    assert page.locator(".leaflet-overlay-pane svg path").count() == 0
    assert page.evaluate("document.querySelectorAll('.gm-count').length") > 0  # clusters, not households
    assert str(when) in page.locator(".gm-title").inner_text()

    # Click inside a grid: its popup shows its own figures.
    grid = analysis.grids.sort_values("households").iloc[-1]
    point = grid.geometry.representative_point()
    text = _click_grid(page, point.x, point.y)
    assert grid["name"] in text and grid["code"] in text
    assert f"{int(grid['households']):,}" in text
    assert f"{grid['speaker_share'] * 100:.1f}%" in text
    assert f"{grid['linkage_share'] * 100:.1f}%" in text
    page.wait_for_timeout(300)  # the popup fades in
    page.screenshot(path=str(artifacts / "map_coverage_popup.png"))
    _assert_clean(log)
    page.close()


def test_a_city_opens_with_street_names_apart_and_grid_colours_in_view(
    browser, tmp_path: Path, artifacts: Path
) -> None:
    town = city()  # 200 streets of the sample city's size, 800 grids
    page, log = open_map(browser, write_html(coverage_map(town), tmp_path / "city.html"))
    page.screenshot(path=str(artifacts / "map_city.png"))
    names = _names(page)
    assert len(names) >= 20 and {n["level"] for n in names} == {"street"}
    assert _overlapping(names) == []
    # Uncovered households are small dots, not numbered bubbles over the grids' colours.
    assert page.locator(".gm-count").count() == 0
    radii = page.evaluate("gridmap.layers.household_gap.getLayers().map(l => l.getRadius())")
    assert len(radii) == int((town.grids["uncovered_households"] > 0).sum()) and max(radii) <= 2

    # Zooming in, community then grid names take over, never touching; counts become numbers.
    numbers, _ = count_zooms(town.grids)
    levels = set()
    for zoom in range(int(page.evaluate("gridmap.map.getZoom()")) + 1, 18):
        page.evaluate(f"gridmap.map.setZoom({zoom}, {{animate: false}}); 0")
        names = _names(page)
        assert names and _overlapping(names) == [], zoom
        levels |= {n["level"] for n in names}
        assert (page.locator(".gm-count").count() > 0) == (zoom >= numbers), zoom
    assert levels == {"street", "community", "grid"}
    _assert_clean(log)
    page.close()


_COUNTS_JS = """key => gridmap.layers[key].getLayers().map(
    l => l.feature ? "point:" + l.feature.properties.code : l.options.count)"""


def test_a_citys_speakers_are_counted_zoomed_out_and_each_broken_one_drawn_zoomed_in(
    browser, district, tmp_path: Path, artifacts: Path, monkeypatch
) -> None:
    analysis, frames, _, _ = district
    monkeypatch.setattr(coverage_module, "CITY_GRIDS", 20)  # the sample's 61 grids count as a city
    page, log = open_map(browser, write_html(coverage_map(analysis, frames=frames), tmp_path / "points.html"))
    speakers = frames["speakers"]
    up = working(speakers)
    detail, _ = count_zooms(analysis.grids)
    for zoom in range(detail - 3, detail):
        page.evaluate(f"gridmap.map.setZoom({zoom}, {{animate: false}}); 0")
        # Zoomed out, each layer is numbered bubbles whose counts make the whole layer (39 working, 5 broken).
        for key, expected in (("speakers_working", 39), ("speakers_broken", 5)):
            counts = page.evaluate(_COUNTS_JS, key)
            assert counts and all(isinstance(n, int) for n in counts) and sum(counts) == expected, (key, zoom)
        assert int(up.sum()) == 39 and int((~up).sum()) == 5
    page.screenshot(path=str(artifacts / "map_city_points.png"))
    # A bubble's click zooms to its unit.
    page.locator(".gm-agg").first.click()
    assert page.evaluate("gridmap.map.getZoom()") > detail - 1
    # From the points' zoom every broken speaker is drawn on its own where it stands.
    for code, point in zip(speakers.loc[~up, "code"], speakers.loc[~up].geometry, strict=True):
        page.evaluate(
            "([lat, lon, z]) => { gridmap.map.setView([lat, lon], z, {animate: false}); }",
            [point.y, point.x, detail],
        )
        assert f"point:{code}" in page.evaluate(_COUNTS_JS, "speakers_broken")
    page.evaluate(f"gridmap.map.setZoom({detail + 1}, {{animate: false}}); 0")
    page.screenshot(path=str(artifacts / "map_city_points_street.png"))
    shown = page.evaluate(_COUNTS_JS, "speakers_working")
    assert shown and all(str(s).startswith("point:") for s in shown)
    _assert_clean(log)
    page.close()


def test_search_box_finds_a_grid_by_code(browser, district, tmp_path: Path) -> None:
    analysis, frames, _, _ = district
    page, log = open_map(browser, write_html(coverage_map(analysis, frames=frames), tmp_path / "c.html"))
    grid = analysis.grids.iloc[7]
    page.fill(".gm-search input", grid["code"])
    page.press(".gm-search input", "Enter")
    page.wait_for_selector(".leaflet-popup-content")
    assert grid["name"] in page.locator(".leaflet-popup-content").inner_text()
    page.fill(".gm-search input", "没有这个网格")
    page.press(".gm-search input", "Enter")
    assert page.locator(".gm-miss").is_visible()
    _assert_clean(log)
    page.close()


def test_grid_map_in_chromium(browser, district, tmp_path: Path, artifacts: Path) -> None:
    analysis, frames, _, _ = district
    grid = analysis.grids.sort_values("center_households").iloc[-1]
    html = write_html(grid_map(analysis, frames, grid["code"], lang="en"), tmp_path / "grid.html")
    page, log = open_map(browser, html)
    page.screenshot(path=str(artifacts / "map_grid.png"))
    names = _overlay_names(page)
    assert {"Grid boundary", "Buildings", "Households (by coverage)", "Ten-household linkage"} <= set(names)
    households = int((analysis.households["grid_code"] == grid["code"]).sum())
    assert page.evaluate("gridmap.layers.households.getLayers().length") == households
    _assert_clean(log)
    page.close()


def test_printing_hides_the_controls_and_names_are_drawn(
    browser, district, tmp_path: Path, artifacts: Path
) -> None:
    analysis, frames, _, _ = district
    page, log = open_map(browser, write_html(coverage_map(analysis, frames=frames), tmp_path / "p.html"))
    names = page.locator(".gm-name").all_inner_texts()
    assert set(names) & set(analysis.communities["name"])  # community names at the district's zoom
    assert _overlapping(_names(page)) == []
    assert page.locator(".gm-search").is_visible() and page.locator(".leaflet-control-layers").is_visible()
    fits = page.evaluate("() => gridmap.fits")
    page.emulate_media(media="print")
    # The map refits on the media change, which the page hears after emulate_media returns.
    page.wait_for_function("(before) => gridmap.fits > before", arg=fits, timeout=10_000)
    assert not page.locator(".gm-search").is_visible()
    assert not page.locator(".leaflet-control-layers").is_visible()
    assert not page.locator(".leaflet-control-zoom").is_visible()
    assert page.locator(".gm-legend").is_visible() and page.locator(".gm-title").is_visible()
    # On paper the legend and the title sit beside the grids, not over them (the village at the east edge).
    overlaps = page.evaluate(
        """() => {
          const map = gridmap.map, box = map.getContainer().getBoundingClientRect();
          const b = gridmap.layers.grids.getBounds();
          const ne = map.latLngToContainerPoint(b.getNorthEast());
          const sw = map.latLngToContainerPoint(b.getSouthWest());
          const data = {left: sw.x, right: ne.x, top: ne.y, bottom: sw.y};
          return [".gm-legend", ".gm-title"].map(sel => {
            const r = document.querySelector(sel).getBoundingClientRect();
            const x0 = r.left - box.left, x1 = r.right - box.left;
            const y0 = r.top - box.top, y1 = r.bottom - box.top;
            return x0 < data.right && x1 > data.left && y0 < data.bottom && y1 > data.top;
          });
        }"""
    )
    assert overlaps == [False, False]
    page.pdf(
        path=str(artifacts / "map_coverage_print.pdf"), format="A4", landscape=True, print_background=True
    )
    _assert_clean(log)
    page.close()
