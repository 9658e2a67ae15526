"""An edit to speakers or service points redoes only the streets it reaches, and equals a full analysis."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.ops

from gridmap.analysis import Analysis, analyze
from gridmap.assignment import BuildingLocator, GridLocator
from gridmap.incremental import changed_codes, update_sites
from gridmap.sample import generate


@pytest.fixture(scope="module")
def city() -> tuple[dict[str, gpd.GeoDataFrame], Analysis]:
    """The sample at scale 2: two streets."""
    frames = generate(scale=2)
    return frames, analyze(frames)


def _same(got: Analysis, want: Analysis) -> None:
    for name in ("grids", "communities", "streets", "uncovered_areas", "gaps", "households", "unassigned"):
        a, b = getattr(got, name), getattr(want, name)
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns="geometry")),
            pd.DataFrame(b.drop(columns="geometry")),
            check_dtype=False,
        )
        ga, gb = np.asarray(a.geometry.values, dtype=object), np.asarray(b.geometry.values, dtype=object)
        # Ranges subtracted in another order leave the same area, its vertices listed differently and
        # off by rounding (1e-15°): the shapes may differ by no more than a square centimetre.
        apart = shapely.area(shapely.symmetric_difference(ga, gb)) * 111_000.0**2
        assert (shapely.is_empty(ga) == shapely.is_empty(gb)).all() and (apart < 1e-4).all(), name
    for layer in ("speakers", "service_points"):
        pd.testing.assert_series_equal(got.frames[layer]["grid_code"], want.frames[layer]["grid_code"])


def test_moving_a_speaker_redoes_its_street_only(city: tuple[dict[str, gpd.GeoDataFrame], Analysis]) -> None:
    frames, before = city
    speakers = frames["speakers"].copy()
    first_street = sorted(before.streets["code"])[0]
    target = (
        before.frames["speakers"]["grid_code"].str.startswith(first_street).fillna(False).to_numpy().argmax()
    )
    point = speakers.geometry.iloc[target]
    moved = speakers.geometry.to_numpy().copy()
    moved[target] = shapely.Point(point.x + 0.0005, point.y)  # about 50 m east, inside its street
    speakers = speakers.set_geometry(moved)
    assert changed_codes(frames["speakers"], speakers) == [speakers["code"].iloc[target]]

    after, streets = update_sites(dict(frames), before, {"speakers": speakers}, GridLocator(frames["grids"]))
    assert streets == [first_street]
    _same(after, analyze({**frames, "speakers": speakers}))


def test_site_edits_anywhere_equal_a_full_analysis(
    city: tuple[dict[str, gpd.GeoDataFrame], Analysis],
) -> None:
    frames, before = city
    speakers = frames["speakers"].copy()
    speakers.loc[5, "status"] = "broken"
    moved = speakers.geometry.to_numpy().copy()
    moved[3] = shapely.Point(100.0, 10.0)  # far outside every grid: unassigned
    moved[4] = moved[9]  # into the grid of another speaker
    speakers = speakers.set_geometry(moved).drop(index=7).reset_index(drop=True)
    added = speakers.iloc[[0]].assign(code="NEW-SPEAKER").set_geometry([moved[12]], crs=speakers.crs)
    speakers = gpd.GeoDataFrame(pd.concat([speakers, added], ignore_index=True), crs=speakers.crs)
    service = frames["service_points"].iloc[1:].reset_index(drop=True)  # the first one removed
    edited = {"speakers": speakers, "service_points": service}

    after, streets = update_sites(dict(frames), before, edited, GridLocator(frames["grids"]))
    want = analyze({**frames, **edited})
    _same(after, want)
    assert set(streets) <= set(before.streets["code"])
    assert frames["speakers"]["code"].iloc[3] in set(after.unassigned["code"])
    derived = after.frames["speakers"].set_index("code")["grid_code"]
    was = before.frames["speakers"].set_index("code")["grid_code"]
    assert was.iloc[4] != was.iloc[9]  # so keeping the old grid would be caught
    assert derived["NEW-SPEAKER"] == was.iloc[12] and derived.iloc[4] == was.iloc[9]
    assert after.totals() == pytest.approx(want.totals())


def test_a_site_inside_a_building_takes_the_buildings_grid() -> None:
    """A speaker moved into a building reaching over its grid's edge takes the building's grid, as a
    whole analysis gives it, not the grid its point lies in."""
    frames = generate(scale=2)
    grids = frames["grids"].set_index("code").geometry
    first = analyze(frames).frames["buildings"].iloc[0]
    own = grids[first["grid_code"]]
    # The building stretched to a small square across its grid's edge: most of it stays inside.
    edge, _ = shapely.ops.nearest_points(own.boundary, first.geometry)
    half = np.sqrt(first.geometry.area) / 6
    square = shapely.box(edge.x - half, edge.y - half, edge.x + half, edge.y + half)
    stretched = shapely.convex_hull(shapely.union(first.geometry, square))
    moved = frames["buildings"].geometry.to_numpy().copy()
    moved[0] = stretched
    frames["buildings"] = frames["buildings"].set_geometry(moved)
    before = analyze(frames)
    spot = stretched.difference(own).point_on_surface()
    locator = GridLocator(frames["grids"])
    assert locator.codes[locator.locate([spot.x], [spot.y])[0]] != first["grid_code"]

    speakers = frames["speakers"].copy()
    points = speakers.geometry.to_numpy().copy()
    points[0] = spot
    speakers = speakers.set_geometry(points)
    after, _ = update_sites(
        dict(frames),
        before,
        {"speakers": speakers},
        locator,
        buildings=BuildingLocator(before.frames["buildings"]),
    )
    want = analyze({**frames, "speakers": speakers})
    assert after.frames["speakers"]["grid_code"].iloc[0] == first["grid_code"]
    _same(after, want)
