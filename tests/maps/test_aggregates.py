"""Speakers and service points counted per street and community for a city's map: known answers."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from gridmap.coverage import working
from gridmap.maps import coverage as coverage_module
from gridmap.maps import coverage_map, render_html
from gridmap.maps.aggregates import level_zooms, unit_counts, units_of_points
from gridmap.maps.zooms import count_zooms
from tests.maps.fake import city


def _counts(points, analysis) -> dict[str, dict[str, int]]:
    levels, _ = unit_counts(
        points, analysis.grids, {"street": analysis.streets, "community": analysis.communities}
    )
    return {c.level: dict(zip(c.frame["code"], c.frame["count"], strict=True)) for c in levels}


def test_the_fake_districts_points_are_counted_in_their_grids_units(fake) -> None:
    analysis, frames = fake
    speakers = frames["speakers"]
    up = working(speakers)
    # The working speaker stands in G1 (community C1), the broken one in G4 (C2), one street S1.
    assert _counts(speakers[up], analysis) == {"street": {"S1": 1}, "community": {"C1": 1}}
    assert _counts(speakers[~up], analysis) == {"street": {"S1": 1}, "community": {"C2": 1}}
    assert _counts(frames["service_points"], analysis) == {"street": {"S1": 1}, "community": {"C2": 1}}
    levels, loose = unit_counts(speakers[~up], analysis.grids, {"community": analysis.communities})
    frame = levels[0].frame
    assert frame["codes"].tolist() == [["SPK2"]] and frame["name"].tolist() == ["西苑社区"]
    # The bubble sits inside its community; the click zooms to the community's extent.
    c2 = analysis.communities.set_index("code").geometry["C2"]
    assert c2.contains(frame.geometry.iloc[0])
    assert np.allclose(frame["bounds"].iloc[0], c2.bounds)
    assert not loose.any()


def test_points_in_no_grid_or_an_unknown_unit_are_loose_and_counted_nowhere(fake) -> None:
    analysis, frames = fake
    speakers = frames["speakers"]
    outside = gpd.GeoDataFrame(
        {"code": ["FAR"], "status": ["broken"]}, geometry=[Point(0.0, 0.0)], crs=speakers.crs
    )
    points = pd.concat([speakers, outside], ignore_index=True)
    grids = analysis.grids.copy()
    grids.loc[grids["code"] == "G4", "community_code"] = "C9"  # a community that is not on the map
    levels, loose = unit_counts(
        points, grids, {"street": analysis.streets, "community": analysis.communities}
    )
    assert loose.tolist() == [False, True, True]  # SPK2 stands in G4, FAR in no grid
    assert [dict(zip(c.frame["code"], c.frame["count"], strict=True)) for c in levels] == [
        {"S1": 1},
        {"C1": 1},
    ]


def test_a_point_on_a_shared_edge_belongs_to_the_first_grid(fake) -> None:
    analysis, _ = fake
    edge = (
        analysis.grids.set_index("code")
        .geometry["G1"]
        .intersection(analysis.grids.set_index("code").geometry["G3"])
    )
    points = gpd.GeoDataFrame({"code": ["E"]}, geometry=[edge.centroid], crs=analysis.grids.crs)
    assert units_of_points(points, analysis.grids)["grid_code"].tolist() == ["G1"]


def test_the_sample_districts_counts_add_up_to_its_layers(sample) -> None:
    analysis, frames = sample
    for layer in ("speakers", "service_points"):
        points = frames[layer]
        parts = [points[working(points)], points[~working(points)]] if layer == "speakers" else [points]
        for part in parts:
            counts = _counts(part, analysis)
            # Known answer by another road: the generator's own grid of each point, through the grid table.
            community_of = analysis.grids.set_index("code")["community_code"]
            expected = part["grid_code"].map(community_of).value_counts().to_dict()
            assert counts["community"] == expected
            assert counts["street"] == {analysis.streets["code"].iloc[0]: len(part)}
    assert [len(frames["speakers"]), int((~working(frames["speakers"])).sum())] == [44, 5]


def test_city_levels_follow_the_names_and_stop_before_the_points() -> None:
    town = city(streets=20, columns=5)
    detail, _ = count_zooms(town.grids)
    zooms = level_zooms({"street": town.streets, "community": town.communities}, detail, 31.2)
    # Each of these streets is one community of the same shape: the community level would only
    # start after the street level, which already runs to where every point is drawn.
    assert zooms == {"street": (0, detail)}
    zooms = level_zooms({"street": town.streets, "community": town.communities}, 30, 31.2)
    assert zooms["street"][0] == 0 and zooms["street"][1] == zooms["community"][0] < 30


def test_a_city_map_carries_counts_not_features_and_every_point_once(sample, monkeypatch) -> None:
    analysis, frames = sample
    monkeypatch.setattr(coverage_module, "CITY_GRIDS", 20)  # the sample's 61 grids count as a city
    html = render_html(coverage_map(analysis, frames=frames))
    blocks = [b for b in html.split("var levels = ")[1:] if ", raw = " in b.split("\n", 1)[0]]
    assert len(blocks) == 3  # working and broken speakers, and the working speakers' ranges
    layers = []
    for block in blocks:
        levels = json.loads(block[: block.index(", raw = ")])
        raw = block[block.index(", raw = ") + 8 : block.index(", always = ")]
        data = json.loads(json.loads(raw))  # JSON text in a string, parsed when first drawn
        always = json.loads(block[block.index(", always = ") + 11 : block.index(";")])
        layers.append((levels, {**data, "always": always}))
    counted = [(levels, data) for levels, data in layers if levels]
    assert sorted(len(data["rows"]) for _, data in counted) == [5, 39]
    for levels, data in counted:
        # Every level counts every point of the layer once (the sample has no loose points).
        assert [sum(u[2] for u in level[2]) for level in levels] == [len(data["rows"])] * len(levels)
        assert data["always"] == []
    broken = next(levels for levels, data in counted if len(data["rows"]) == 5)
    named = sorted(code for level in broken[-1:] for u in level[2] for code in u[5])
    assert named == sorted(frames["speakers"].loc[~working(frames["speakers"]), "code"])
    assert "点击放大查看每个点位" in html  # the bubbles' hint, in the reader's language
