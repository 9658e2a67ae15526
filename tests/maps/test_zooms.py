"""Zoom thresholds of names and counts come from the units' real size, so they scale with the area."""

from __future__ import annotations

import json

import geopandas as gpd
import shapely

from gridmap.crs import metric_crs
from gridmap.maps import coverage as coverage_module
from gridmap.maps import coverage_map
from gridmap.maps.layers import name_labels
from gridmap.maps.zooms import count_zooms, zoom_where
from tests.maps.fake import city


def _scaled(frame: gpd.GeoDataFrame, factor: float) -> gpd.GeoDataFrame:
    """`frame` blown up `factor` times in metres about one origin (so neighbours stay neighbours)."""
    crs = metric_crs(frame)
    metric = frame.to_crs(crs)
    grown = shapely.affinity.scale(shapely.GeometryCollection(list(metric.geometry)), factor, factor)
    return metric.set_geometry(list(grown.geoms), crs=crs).to_crs(frame.crs)


def _zooms(levels: list[tuple[str, gpd.GeoDataFrame]]) -> dict[str, list[int]]:
    group = name_labels(levels, "names", lat=31.2)
    assert group is not None
    return json.loads(next(iter(group._children.values())).zooms)


def test_zoom_where_gains_one_zoom_per_halving() -> None:
    assert zoom_where(1000.0, 100, 30.0) == zoom_where(2000.0, 100, 30.0) + 1
    assert zoom_where(1000.0, 100, 30.0) == zoom_where(1000.0, 200, 30.0) - 1


def test_name_zooms_follow_the_size_of_the_units(fake) -> None:
    analysis, _ = fake
    levels = [("street", analysis.streets), ("community", analysis.communities), ("grid", analysis.grids)]
    small = _zooms(levels)
    large = _zooms([(level, _scaled(frame, 8)) for level, frame in levels])
    assert small["street"][0] == large["street"][0] == 0  # the top level is always a candidate
    # Units 8 times wider fit their names 3 zooms sooner.
    assert large["community"][0] == small["community"][0] - 3
    assert large["grid"][0] == small["grid"][0] - 3


def test_count_zooms_follow_the_size_of_the_grids(fake) -> None:
    analysis, _ = fake
    numbers, cells = count_zooms(analysis.grids)
    assert numbers < cells
    assert count_zooms(_scaled(analysis.grids, 8)) == (numbers - 3, cells - 3)


def test_names_are_biggest_first_and_carry_their_size() -> None:
    town = city(streets=6, columns=3)
    town.streets.loc[town.streets.index[4], "geometry"] = (
        _scaled(town.streets.iloc[[4]], 1.5).iloc[0].geometry
    )
    group = name_labels([("street", town.streets)], "names", lat=31.2)
    assert group is not None
    names = json.loads(next(iter(group._children.values())).names)
    assert names[0][2] == town.streets["name"].iloc[4]
    assert all(n[4] > n[5] > 1000 for n in names)  # width and height in metres, for the fit on screen


def test_a_city_map_names_no_grids_it_does_not_draw(monkeypatch) -> None:
    town = city(streets=20, columns=5)
    monkeypatch.setattr(coverage_module, "CITY_GRIDS", 40)  # its 80 grids count as a city
    group = next(
        c for c in coverage_map(town)._children.values() if getattr(c, "layer_name", "") == "名称标注"
    )
    names = json.loads(next(iter(group._children.values())).names)
    assert {n[3] for n in names} == {"street", "community"}
