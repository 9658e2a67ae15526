"""An edit to any layer redoes only the streets it reaches, and equals a full analysis."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
import shapely.ops

from gridmap import incremental, walking
from gridmap.analysis import Analysis, AnalysisOptions, analyze
from gridmap.assignment import DERIVED_LAYERS, BuildingLocator, GridLocator
from gridmap.coderows import CodeRows
from gridmap.incremental import changed_codes, patched, update
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
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.findings.drop(columns="geometry")),
        pd.DataFrame(want.findings.drop(columns="geometry")),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(got.centers, want.centers, check_dtype=False)
    for layer in DERIVED_LAYERS:
        pd.testing.assert_series_equal(
            got.frames[layer]["grid_code"], want.frames[layer]["grid_code"], check_dtype=False
        )


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

    after, streets = update(
        dict(frames), before, {"speakers": speakers}, locator=GridLocator(frames["grids"])
    )
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

    after, streets = update(dict(frames), before, edited, locator=GridLocator(frames["grids"]))
    want = analyze({**frames, **edited})
    _same(after, want)
    assert streets is not None and set(streets) <= set(before.streets["code"])
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
    after, _ = update(
        dict(frames),
        before,
        {"speakers": speakers},
        locator=locator,
        buildings=BuildingLocator(before.frames["buildings"]),
    )
    want = analyze({**frames, "speakers": speakers})
    assert after.frames["speakers"]["grid_code"].iloc[0] == first["grid_code"]
    _same(after, want)


@pytest.fixture(scope="module", params=["sample", "shared points"])
def town(request: pytest.FixtureRequest) -> tuple[dict[str, gpd.GeoDataFrame], Analysis]:
    """Three streets; in "shared points" every household sits at its building's point, as geocoded
    addresses do, so linkage meets exact distance ties everywhere."""
    frames = generate(scale=3)
    if request.param == "shared points":
        buildings = frames["buildings"].set_index("code").geometry.representative_point()
        at = buildings.reindex(frames["households"]["building_code"]).to_numpy()
        frames["households"] = frames["households"].set_geometry(at, crs=frames["households"].crs)
    return frames, analyze(frames)


def _street_grids(analysis: Analysis, street: str) -> list[str]:
    return analysis.grids.loc[analysis.grids["street_code"] == street, "code"].tolist()


def _check(
    town: tuple[dict[str, gpd.GeoDataFrame], Analysis], edited: dict[str, gpd.GeoDataFrame]
) -> list[str] | None:
    frames, before = town
    want = analyze({**frames, **edited})
    after, streets = update(dict(frames), before, edited, whole_share=1.0)  # the city assigned again
    _same(after, want)
    # With the locators, edits to households and sites place only the edited features.
    locator, buildings = GridLocator(frames["grids"]), BuildingLocator(before.frames["buildings"])
    placed, again = update(
        dict(frames), before, edited, whole_share=1.0, locator=locator, buildings=buildings
    )
    _same(placed, want)
    assert again == streets
    return streets


def test_household_edits_equal_a_full_analysis(town: tuple[dict[str, gpd.GeoDataFrame], Analysis]) -> None:
    frames, before = town
    first, second = sorted(before.streets["code"])[:2]
    households = frames["households"].copy()
    mine = np.flatnonzero(households["grid_code"].str.startswith(first).fillna(False).to_numpy())
    other = frames["buildings"]["code"][frames["buildings"]["code"].str.startswith(second)].iloc[3]
    households.loc[mine[0], "center_household"] = True
    households.loc[mine[0], "party_member"] = True
    households.loc[mine[1], "building_code"] = other  # into a grid of the second street
    households.loc[mine[4], "building_code"] = None
    moved = households.geometry.to_numpy().copy()
    moved[mine[4]] = shapely.Point(100.0, 10.0)  # in no grid
    households = households.set_geometry(moved)
    added = households.iloc[[mine[3]]].assign(code="NEW-HOUSEHOLD")
    households = pd.concat([households.drop(index=mine[2]), added], ignore_index=True)
    streets = _check(town, {"households": gpd.GeoDataFrame(households, crs=frames["households"].crs)})
    assert streets == [first, second]


def test_a_center_household_edit_stays_in_its_street(
    town: tuple[dict[str, gpd.GeoDataFrame], Analysis],
) -> None:
    frames, before = town
    first = sorted(before.streets["code"])[0]
    households = frames["households"].copy()
    row = np.flatnonzero(households["grid_code"].str.startswith(first).fillna(False).to_numpy())[7]
    households.loc[row, "center_household"] = not bool(households.loc[row, "center_household"])
    assert _check(town, {"households": households}) == [first]


def test_building_edits_equal_a_full_analysis(town: tuple[dict[str, gpd.GeoDataFrame], Analysis]) -> None:
    frames, before = town
    first, second = sorted(before.streets["code"])[:2]
    buildings = frames["buildings"].copy()
    there = before.grids.set_index("code").geometry[_street_grids(before, second)[2]].representative_point()
    shapes = buildings.geometry.to_numpy().copy()
    mine = np.flatnonzero(buildings["code"].str.startswith(first).to_numpy())
    here = shapes[mine[0]].centroid
    shapes[mine[0]] = shapely.affinity.translate(shapes[mine[0]], there.x - here.x, there.y - here.y)
    buildings = buildings.set_geometry(shapes).drop(index=mine[5]).reset_index(drop=True)  # its households
    streets = _check(town, {"buildings": buildings})  # fall back to where their points lie
    assert streets == [first, second]


def test_grid_edits_equal_a_full_analysis(town: tuple[dict[str, gpd.GeoDataFrame], Analysis]) -> None:
    frames, before = town
    first = sorted(before.streets["code"])[0]
    grids = frames["grids"].copy()
    codes = _street_grids(before, first)
    rows = np.flatnonzero(grids["code"].isin(codes).to_numpy())
    grids.loc[rows[0], "party_branch"] = None
    shapes = grids.geometry.to_numpy().copy()
    shapes[rows[1]] = shapes[rows[1]].buffer(-0.0004)  # shrunk: households at its edge fall out
    grids = (
        grids.set_geometry(shapes).drop(index=rows[2]).reset_index(drop=True)
    )  # gone: a gap in its community
    assert _check(town, {"grids": grids}) == [first]


def test_a_grid_renamed_places_nothing_again(
    town: tuple[dict[str, gpd.GeoDataFrame], Analysis], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grid's fields edited in place (name, party branch, worker, handed to another community) keep
    every feature where it was: the city is not assigned again, and the figures equal a full analysis."""
    frames, before = town
    first, second = sorted(before.streets["code"])[:2]
    grids = frames["grids"].copy()
    rows = np.flatnonzero(grids["code"].isin(_street_grids(before, first)).to_numpy())
    grids.loc[rows[0], "name"] = "改名网格"
    grids.loc[rows[1], "party_branch"] = None
    other = before.communities.loc[before.communities["street_code"] == second, "code"].iloc[0]
    grids.loc[rows[2], "community_code"] = other
    want = analyze({**frames, "grids": grids})

    def whole(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole city was assigned again")

    monkeypatch.setattr(incremental, "assign_positions", whole)
    locator, buildings = GridLocator(frames["grids"]), BuildingLocator(before.frames["buildings"])
    after, streets = update(
        dict(frames), before, {"grids": grids}, whole_share=1.0, locator=locator, buildings=buildings
    )
    _same(after, want)
    assert streets == [first, second]
    shapes = grids.geometry.to_numpy().copy()
    shapes[rows[3]] = shapely.affinity.translate(shapes[rows[3]], 1e-4, 0.0)  # reshaped: placed again
    with pytest.raises(AssertionError, match="assigned again"):
        update(
            dict(frames), before, {"grids": grids.set_geometry(shapes)}, locator=locator, buildings=buildings
        )


def test_community_and_street_edits_equal_a_full_analysis(
    town: tuple[dict[str, gpd.GeoDataFrame], Analysis],
) -> None:
    frames, before = town
    first, second, third = sorted(before.streets["code"])[:3]
    communities = frames["communities"].copy()
    row = np.flatnonzero((communities["street_code"] == first).to_numpy())[1]
    communities.loc[row, "street_code"] = second  # handed over to the next street
    streets = frames["streets"].copy()
    streets.loc[streets["code"] == third, "name"] = "新街道"
    assert _check(town, {"communities": communities, "streets": streets}) == [first, second, third]


def test_a_large_edit_takes_the_whole_analysis_with_the_same_figures(
    town: tuple[dict[str, gpd.GeoDataFrame], Analysis],
) -> None:
    frames, before = town
    households = frames["households"].copy()
    households["center_household"] = ~households["center_household"].astype(bool)
    after, streets = update(dict(frames), before, {"households": households})
    assert streets == sorted(before.streets["code"])
    _same(after, analyze({**frames, "households": households}))


def test_a_site_moved_near_a_household_in_no_grid_covers_it() -> None:
    """A household outside every grid belongs to no street, yet a speaker moved next to it covers it."""
    frames = generate(scale=2)
    x0, _, x1, y1 = frames["grids"].total_bounds
    outside = shapely.Point((x0 + x1) / 2, y1 + 0.01)  # a kilometre north of every grid
    households = frames["households"].copy()
    households.loc[0, "building_code"] = None
    households = households.set_geometry([outside, *households.geometry.iloc[1:]])
    frames["households"] = households
    before = analyze(frames)
    assert (
        pd.isna(before.households["grid_code"].iloc[0]) and not before.households["speaker_covered"].iloc[0]
    )
    speakers = frames["speakers"].copy()
    speakers = speakers.set_geometry(
        [shapely.Point(outside.x + 0.0005, outside.y), *speakers.geometry.iloc[1:]]
    )
    after, _ = update(dict(frames), before, {"speakers": speakers}, locator=GridLocator(frames["grids"]))
    assert after.households["speaker_covered"].iloc[0]
    _same(after, analyze({**frames, "speakers": speakers}))


def test_a_layer_is_patched_with_what_the_log_names() -> None:
    """Edited rows in place, a new one last, a deleted one gone, the rest as they were."""
    frame = generate(scale=1)["speakers"].iloc[:5].reset_index(drop=True)
    codes = frame["code"].tolist()
    edited = frame.iloc[[1]].assign(name="改名")
    born = frame.iloc[[2]].assign(code="NEW")
    only_edits = patched(frame, edited, [codes[1]])
    assert only_edits["name"].tolist() == [*frame["name"].iloc[:1], "改名", *frame["name"].iloc[2:]]
    assert only_edits["code"].tolist() == codes
    mixed = patched(frame, pd.concat([edited, born]), [codes[1], codes[3], "NEW"])  # codes[3] deleted
    assert mixed["code"].tolist() == [codes[0], codes[2], codes[4], codes[1], "NEW"]
    assert mixed.set_index("code").loc[codes[1], "name"] == "改名"
    assert patched(frame, born, ["NEW"])["code"].tolist() == [*codes, "NEW"]
    assert patched(frame, frame.iloc[:0], [codes[0]])["code"].tolist() == codes[1:]


def test_a_layer_written_again_as_it_was_redoes_nothing(
    city: tuple[dict[str, gpd.GeoDataFrame], Analysis],
) -> None:
    frames, before = city
    after, streets = update(dict(frames), before, {"grids": frames["grids"].copy()})
    assert streets == [] and after.grids is before.grids and after.households is before.households


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_service_points_edited_at_random_walk_as_a_full_analysis(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moves, additions and removals of service points, one options object across them as the builder
    keeps it: only the communities within a point's radius are analysed again, the walks farther
    off (up to the 2 km cut-off) are patched, and every table equals a fresh analysis."""
    rng = np.random.default_rng(seed)
    frames = generate(scale=2)
    # Radii of 100 m: the walks that change reach well beyond the communities analysed again.
    frames["service_points"] = frames["service_points"].assign(radius_m=100.0)
    options = AnalysisOptions()
    analysis = analyze(frames, options)
    locator = GridLocator(frames["grids"])
    redone: list[int] = []  # households analysed again per edit
    patched_grids: list[int] = []  # grids whose walks were patched per edit
    real_analyze, real_put = incremental.analyze, incremental._walks_put

    def counted_analyze(part: dict[str, gpd.GeoDataFrame], *args: object, **kwargs: object) -> Analysis:
        redone.append(len(part["households"]))
        return real_analyze(part, *args, **kwargs)  # type: ignore[arg-type]

    def counted_put(*args: object, **kwargs: object) -> object:
        patched_grids.append(int(np.count_nonzero(args[3])))
        return real_put(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(incremental, "analyze", counted_analyze)
    monkeypatch.setattr(incremental, "_walks_put", counted_put)
    for step in range(4):
        sites = frames["service_points"]
        xy = sites.geometry.get_coordinates().to_numpy(copy=True)
        moved = int(rng.integers(len(sites)))
        xy[moved] += rng.uniform(-0.003, 0.003, size=2)  # up to about 300 m
        edited = sites.set_geometry(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=sites.crs)
        if step == 1:  # one added beside a household, one removed
            home = frames["households"].geometry.iloc[int(rng.integers(len(frames["households"])))]
            new = edited.iloc[[0]].assign(code=f"NEW-{step}").set_geometry([home], crs=sites.crs)
            edited = gpd.GeoDataFrame(pd.concat([edited.iloc[1:], new], ignore_index=True), crs=sites.crs)
        analysis, streets = update(frames, analysis, {"service_points": edited}, options, locator=locator)
        _same(analysis, real_analyze(frames))
        assert streets is not None
    assert min(redone) < 0.5 * len(frames["households"])  # not the whole each time
    assert sum(patched_grids) > 0  # walks beyond the radius were patched, not analysed again


@pytest.mark.parametrize("seed", [0, 1])
def test_roads_edited_patch_the_walks_around_them_as_a_full_analysis(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A road's vertex moved, a bridge removed and a road added between two others, one options
    object across them as the builder keeps it: no community is analysed again, the walks within
    the cut-off of the changed segments are taken again on the new network (the points snapped
    again only where a segment went or came near them), and every table equals a fresh analysis."""
    rng = np.random.default_rng(seed)
    frames = generate(scale=2)
    options = AnalysisOptions()
    analysis = analyze(frames, options)
    real_analyze = incremental.analyze
    analysed: list[int] = []

    def counted(part: dict[str, gpd.GeoDataFrame], *args: object, **kwargs: object) -> Analysis:
        analysed.append(len(part["households"]))
        return real_analyze(part, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(incremental, "analyze", counted)
    real_snap, snapped = walking.snap, [0]

    def counted_snap(network: walking.Network, xy: np.ndarray) -> walking.Snap:
        snapped[0] += len(xy)
        return real_snap(network, xy)

    monkeypatch.setattr(walking, "snap", counted_snap)
    points = len(frames["households"]) + len(frames["buildings"])
    changed = 0
    for step in range(3):
        roads = frames["roads"].copy()
        lines = np.asarray(roads.geometry.values, dtype=object)
        residential = np.flatnonzero((roads["kind"] == "residential").to_numpy(dtype=bool))
        if step == 0:  # a vertex moved about 60 m
            row = int(rng.choice(residential))
            xy = shapely.get_coordinates(lines[row])
            xy[int(rng.integers(len(xy)))] += rng.uniform(-0.0006, 0.0006, size=2)
            roads.geometry.values[row] = shapely.LineString(xy)
        elif step == 1:  # a bridge gone: walks across the river go round by another
            bridge = int(rng.choice(np.flatnonzero((roads["kind"] == "bridge").to_numpy(dtype=bool))))
            roads = roads.drop(index=roads.index[bridge]).reset_index(drop=True)
        else:  # a path between a vertex of one road and the nearest vertex of another
            xy, owner = shapely.get_coordinates(lines[residential], return_index=True)
            start = int(rng.integers(len(xy)))
            distance = np.hypot(*(xy - xy[start]).T)
            distance[owner == owner[start]] = np.inf
            path = shapely.LineString([xy[start], xy[int(np.argmin(distance))]])
            added = (
                roads.iloc[[0]]
                .assign(code="NEW-PATH", kind="residential")
                .set_geometry([path], crs=roads.crs)
            )
            roads = gpd.GeoDataFrame(pd.concat([roads, added], ignore_index=True), crs=roads.crs)
        walks = analysis.households["service_walk_m"].to_numpy(dtype=np.float64, na_value=np.nan)
        snapped[0] = 0
        analysis, streets = update(frames, analysis, {"roads": roads}, options)
        assert snapped[0] < 0.05 * points, (step, snapped[0], points)
        want = real_analyze(frames, AnalysisOptions())
        _same(analysis, want)
        assert streets is not None
        again = want.households["service_walk_m"].to_numpy(dtype=np.float64, na_value=np.nan)
        changed += int(np.count_nonzero(~((walks == again) | (np.isnan(walks) & np.isnan(again)))))
    assert analysed == []  # no community analysed again, nor the whole
    assert changed > 0  # the edits changed walks, which the patch took


def test_households_registered_and_edited_in_place_equal_a_full_analysis(
    town: tuple[dict[str, gpd.GeoDataFrame], Analysis],
) -> None:
    """New households after the others' rows (as a patched layer holds them), one into no grid: the
    figures are written only where they changed, and equal a full analysis."""
    frames, before = town
    first = sorted(before.streets["code"])[0]
    households = frames["households"].copy()
    mine = np.flatnonzero(households["grid_code"].str.startswith(first).fillna(False).to_numpy())
    households.loc[mine[5], "center_household"] = not bool(households.loc[mine[5], "center_household"])
    added = households.iloc[[mine[3], mine[9]]].assign(code=["NEW-1", "NEW-2"])
    added = added.set_geometry([added.geometry.iloc[0], shapely.Point(100.0, 10.0)], crs=households.crs)
    added["building_code"] = [added["building_code"].iloc[0], None]
    households = pd.concat([households, added], ignore_index=True)
    assert _check(town, {"households": gpd.GeoDataFrame(households, crs=frames["households"].crs)}) == [first]


def test_replaced_writes_only_the_rows_that_differ() -> None:
    text = pd.array(["a", "b", None, "d", "e", "f", "g"], dtype="string")
    # Unchanged values at the rows: the very column, nothing copied.
    same = incremental.replaced(text, np.array([1, 2]), pd.array(["b", None], dtype="string"))
    assert same is text
    # Two runs changed (rows 1 and 4–5) and a row appended: the unchanged stretches are kept as chunks.
    rows = np.array([5, 1, 4, 7, 3])
    values = pd.array(["F", "B", "E", "h", "d"], dtype="string")
    got = incremental.replaced(text, rows, values)
    assert list(got.fillna("-")) == ["a", "B", "-", "d", "E", "F", "g", "h"]
    assert got.dtype == text.dtype and got._pa_array.num_chunks > 1
    # More runs than MOST_RUNS: the stretches copied into one array; more than MOST_SLICES: one take of
    # the column and the values builds it. Either way rows appended in order of their row, the same
    # values, one chunk of the same type.
    many = np.array([0, 2, 8, 4, 6, 7])
    many_values = pd.array(["x", "x", "j", None, "x", "h"], dtype="string")
    limits = incremental.MOST_RUNS, incremental.MOST_SLICES
    try:
        incremental.MOST_RUNS = 2
        copied = incremental.replaced(text, many, many_values)
        incremental.MOST_SLICES = 2
        taken = incremental.replaced(text, many, many_values)
    finally:
        incremental.MOST_RUNS, incremental.MOST_SLICES = limits
    for got in (copied, taken):
        assert list(got.fillna("-")) == ["x", "b", "x", "d", "-", "f", "x", "h", "j"]
        assert got.dtype == text.dtype and got._pa_array.num_chunks == 1
    # Numbers and flags: a missing value is the same as a missing one, else written.
    floats = pd.array([1.0, np.nan, 3.0])
    assert list(incremental.replaced(floats, np.array([1, 2]), pd.array([np.nan, 4.0])))[2] == 4.0
    flags = pd.array([True, None, False], dtype="boolean")
    assert incremental.replaced(flags, np.array([1]), pd.array([None], dtype="boolean")) is flags
    with pytest.raises(AssertionError):
        incremental.replaced(text, np.array([9]), pd.array(["z"], dtype="string"))


def test_features_placed_alone_name_the_rows_a_comparison_finds(
    town: tuple[dict[str, gpd.GeoDataFrame], Analysis],
) -> None:
    """`_placed` tells the rows moved from what placing matched; comparing the layers finds the same."""
    frames, before = town
    locator, buildings = GridLocator(frames["grids"]), BuildingLocator(before.frames["buildings"])
    place = incremental._placer(before, locator, buildings)
    old = before.frames["households"]
    households = frames["households"].copy()
    other = frames["buildings"]["code"].iloc[-1]
    households.loc[3, "building_code"] = other  # into another grid
    households.loc[8, "center_household"] = not bool(households.loc[8, "center_household"])  # same grid
    in_place = households
    added = pd.concat([households, households.iloc[[5]].assign(code="NEW-1")], ignore_index=True)
    removed = households.drop(index=11).reset_index(drop=True)
    for layer, edited in (("in place", in_place), ("added", added), ("removed", removed)):
        changed = [str(c) for c in households["code"].iloc[[3, 8]]] + (["NEW-1"] if layer == "added" else [])
        derived, (gone, came) = incremental._placed("households", edited, old, changed, place)
        want_gone, want_came = incremental._moved(old, derived, changed)
        assert np.array_equal(np.sort(gone), np.sort(want_gone)), layer
        assert np.array_equal(np.sort(came), np.sort(want_came)), layer
        assert 3 in came and 3 in gone and 8 in came, layer  # the edited rows (no row before 11 moved)
        assert (11 in gone) == (layer == "removed"), layer


def test_an_edit_to_a_field_the_analysis_does_not_read_redoes_nothing(
    city: tuple[dict[str, gpd.GeoDataFrame], Analysis],
) -> None:
    """The builder holds households narrow (`INPUT_FIELDS`): a contact's phone edited patches the layer
    to the very frame it was, and the refresh redoes no community."""
    frames, before = city
    narrow = frames["households"][["code", "building_code", "party_member", "center_household", "geometry"]]
    fresh = frames["households"].iloc[[4]].assign(contact_phone="13900000000")
    code = str(fresh["code"].iloc[0])
    assert patched(narrow, fresh, [code]) is narrow
    flipped = fresh.assign(center_household=not bool(fresh["center_household"].iloc[0]))
    assert patched(narrow, flipped, [code]) is not narrow
    mine = {**frames, "households": narrow}
    after, streets = update(dict(mine), before, {"households": narrow}, codes={"households": [code]})
    assert streets == [] and after.households is before.households and after.grids is before.grids


@pytest.mark.parametrize("layer", ["grids", "communities", "streets"])
def test_a_unit_renamed_redoes_no_figure(
    town: tuple[dict[str, gpd.GeoDataFrame], Analysis], layer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grid's, community's or street's name copied into its rows, nothing analysed, equal a full
    analysis; a field some figure reads (a community's kind, a grid's party branch) still redoes it."""
    frames, before = town
    edited = frames[layer].copy()
    edited.loc[2, "name"] = "新名称"
    code = str(edited["code"].iloc[2])
    streets_of = {
        "grids": before.grids.set_index("code")["street_code"],
        "communities": before.communities.set_index("code")["street_code"],
    }
    street = code if layer == "streets" else str(streets_of[layer][code])
    want = analyze({**frames, layer: edited})
    with monkeypatch.context() as patch:
        patch.setattr(incremental, "analyze", lambda *a, **k: pytest.fail("analysed"))
        after, streets = update(dict(frames), before, {layer: edited}, codes={layer: [code]})
    assert streets == [street]
    _same(after, want)
    assert getattr(after, layer)["name"].iloc[2] == "新名称"
    if layer == "communities":
        kind = edited.assign(kind=edited["kind"].where(edited.index != 2, "village"))
        assert incremental._described(before, frames, {**frames, layer: kind}, {layer: [code]}) is None
    if layer == "grids":
        branch = edited.assign(party_branch=edited["party_branch"].where(edited.index != 2, "新支部"))
        assert incremental._described(before, frames, {**frames, layer: branch}, {layer: [code]}) is None


def test_a_feature_patched_in_place_shares_the_columns_it_leaves() -> None:
    """H2's count edited: the layer's codes stay the very buffers they were (no copy of a city's
    layer), so matching the new layer to the old reads no code; the count holds the edit."""
    frame = gpd.GeoDataFrame(
        {"code": pd.array(["H1", "H2", "H3"], dtype="string[pyarrow]"), "n": [1, 2, 3]},
        geometry=shapely.points([0, 1, 2], [0, 0, 0]),
        crs="EPSG:4326",
    )
    out = patched(frame, frame.iloc[[1]].assign(n=[20]), ["H2"])
    assert out["n"].tolist() == [1, 20, 3] and frame["n"].tolist() == [1, 2, 3]
    assert incremental._shared(out["code"], frame["code"])
    at, gone, in_place = incremental._matched(out, frame)
    assert at.tolist() == [0, 1, 2] and gone.size == 0 and in_place
    moved = frame.assign(code=pd.array(["H1", "H3", "H2"], dtype="string[pyarrow]"))
    assert not incremental._shared(moved["code"], frame["code"])
    assert incremental._matched(moved, frame)[0].tolist() == [0, 2, 1]


def test_household_edits_found_by_the_code_index_equal_a_full_analysis(
    town: tuple[dict[str, gpd.GeoDataFrame], Analysis],
) -> None:
    """As the builder does: each edit patched into the layer and placed through the layer's code index
    (`CodeRows`), one after another: a center flag toggled, a household moved into a building of
    another street, one deleted and one registered. Known grids and centers, and a full analysis."""
    frames, before = town
    frames = dict(frames)
    first, second = sorted(before.streets["code"])[:2]
    locator, buildings = GridLocator(frames["grids"]), BuildingLocator(before.frames["buildings"])
    index = CodeRows.of(frames["households"]["code"])
    mine = frames["households"]["code"][frames["households"]["grid_code"].str.startswith(first).fillna(False)]

    def edit(fresh: gpd.GeoDataFrame, codes: list[str]) -> Analysis:
        nonlocal before, index
        layer = patched(frames["households"], fresh, codes, index)
        index = index.follow(layer["code"])
        assert np.array_equal(index.find(layer["code"]), np.arange(len(layer)))
        want = analyze({**frames, "households": layer})
        before, _ = update(
            frames,
            before,
            {"households": layer},
            locator=locator,
            buildings=buildings,
            codes={"households": codes},
            rows={"households": index},
        )
        _same(before, want)
        return before

    households = frames["households"].set_index("code", drop=False)
    center = str(mine.iloc[7])
    flag = not bool(households.loc[center, "center_household"])
    after = edit(households.loc[[center]].assign(center_household=flag).reset_index(drop=True), [center])
    assert (center in set(after.centers["code"])) == flag
    assert (after.households.set_index("code").loc[center, "linked_to"] == center) == flag

    mover = str(mine.iloc[1])
    target = frames["buildings"]["code"][frames["buildings"]["code"].str.startswith(second)].iloc[3]
    grid = before.frames["buildings"].set_index("code").loc[target, "grid_code"]
    after = edit(households.loc[[mover]].assign(building_code=target).reset_index(drop=True), [mover])
    assert str(grid).startswith(second)
    assert after.frames["households"].set_index("code").loc[mover, "grid_code"] == grid

    gone, born = str(mine.iloc[2]), households.loc[[str(mine.iloc[3])]].assign(code="NEW-HOUSEHOLD")
    after = edit(born.reset_index(drop=True), [gone, "NEW-HOUSEHOLD"])
    codes = set(after.households["code"])
    assert gone not in codes and "NEW-HOUSEHOLD" in codes
    assert len(after.households) == len(frames["households"]) == len(households)
