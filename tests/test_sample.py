"""The sample district: deterministic, well-formed, realistic; its dirty twin has exactly four problems."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.catalogue import LAYER_NAMES
from gridmap.errors import NotFoundError
from gridmap.frames import conform
from gridmap.sample import (
    DIRTY_DIR,
    PLANTED,
    SAMPLE_DIR,
    files,
    generate,
    generate_dirty,
    layer_path,
    load_sample,
    names,
    plan,
    read_sample,
    write_district,
    write_sample,
)
from gridmap.sample.layout import BAND_ROWS, MAX_SCALE, ROW_BREAK_M, ROWS, build_layout
from gridmap.stores import Store
from gridmap.topology import check_grids

METRIC = "EPSG:4547"


@pytest.fixture(scope="module")
def sample() -> dict[str, gpd.GeoDataFrame]:
    return generate()


@pytest.fixture(scope="module")
def dirty() -> dict[str, gpd.GeoDataFrame]:
    return generate_dirty()


def _assert_frames_equal(a: dict[str, gpd.GeoDataFrame], b: dict[str, gpd.GeoDataFrame]) -> None:
    assert a.keys() == b.keys()
    for layer in a:
        pd.testing.assert_frame_equal(a[layer].drop(columns="geometry"), b[layer].drop(columns="geometry"))
        assert a[layer].geometry.geom_equals_exact(b[layer].geometry, 0).all(), layer


def test_same_seed_same_frames(sample: dict[str, gpd.GeoDataFrame]) -> None:
    _assert_frames_equal(sample, generate())
    other = generate(seed=7)
    assert not other["grids"].geometry.geom_equals_exact(sample["grids"].geometry, 1e-9).all()


@pytest.mark.parametrize(("make", "committed"), [(generate, SAMPLE_DIR), (generate_dirty, DIRTY_DIR)])
def test_regenerated_files_are_byte_identical_to_the_committed_ones(
    make, committed: Path, tmp_path: Path
) -> None:
    write_sample(make(), tmp_path)
    for layer in LAYER_NAMES:
        fresh, kept = layer_path(tmp_path, layer), layer_path(committed, layer)
        assert fresh.read_bytes() == kept.read_bytes(), (
            f"{kept} is stale: run `gridmap sample --out {committed}`"
        )


def test_committed_files_read_back_as_the_generated_frames(sample: dict[str, gpd.GeoDataFrame]) -> None:
    _assert_frames_equal(sample, read_sample())


def test_committed_sample_stays_small() -> None:
    total = sum(p.stat().st_size for d in (SAMPLE_DIR, DIRTY_DIR) for p in d.iterdir())
    assert total < 10 * 2**20


def test_frames_are_canonical(sample: dict[str, gpd.GeoDataFrame]) -> None:
    for layer, frame in sample.items():
        pd.testing.assert_frame_equal(frame, conform(layer, frame))
        assert frame["code"].is_unique and frame["code"].is_monotonic_increasing, layer


def test_codes_follow_the_15_digit_layout(sample: dict[str, gpd.GeoDataFrame]) -> None:
    streets, communities, grids = sample["streets"], sample["communities"], sample["grids"]
    assert streets["code"].tolist() == ["420106001"]
    assert streets["name"].tolist() == ["紫阳街道"]
    assert communities["code"].str.fullmatch(r"420106001\d{3}").all()
    assert (communities["code"].str[:9] == communities["street_code"]).all()
    assert grids["code"].str.fullmatch(r"420106\d{9}").all()
    assert (grids["code"].str[:12] == grids["community_code"]).all()
    assert set(grids["community_code"]) == set(communities["code"])
    kinds = communities.set_index("code")["kind"]
    assert (kinds == "community").sum() == 6 and kinds.loc["420106001201"] == "village"
    assert len(grids) == 61


def _geometric_order(centroids: np.ndarray) -> list[int]:
    """The documented rule: rows north to south (a row ends > 100 m south of its first), then west to east."""
    by_north = np.argsort(-centroids[:, 1], kind="stable")
    rows: list[list[int]] = []
    for i in by_north:
        if rows and centroids[rows[-1][0], 1] - centroids[i, 1] <= ROW_BREAK_M:
            rows[-1].append(int(i))
        else:
            rows.append([int(i)])
    return [i for row in rows for i in sorted(row, key=lambda j: centroids[j, 0])]


def test_grid_sequence_runs_north_to_south_then_west_to_east(sample: dict[str, gpd.GeoDataFrame]) -> None:
    grids = sample["grids"].to_crs(METRIC)
    for _, members in grids.groupby("community_code"):
        centroids = shapely.get_coordinates(members.geometry.centroid.values)
        expected = members["code"].to_numpy()[_geometric_order(centroids)]
        assert [int(c[-3:]) for c in expected] == list(range(1, len(members) + 1))
    communities = sample["communities"]
    urban = communities[communities["kind"] == "community"].to_crs(METRIC)
    centroids = shapely.get_coordinates(urban.geometry.centroid.values)
    # Communities span two lattice rows, so their rows are told apart at the same scale.
    by_north = np.argsort(-centroids[:, 1], kind="stable")
    rows = np.cumsum(np.r_[0, np.diff(centroids[by_north, 1]) < -2 * ROW_BREAK_M])
    order = [by_north[k] for k in np.lexsort((centroids[by_north, 0], rows))]
    assert urban["code"].to_numpy()[order].tolist() == sorted(urban["code"])


def test_households_per_grid(sample: dict[str, gpd.GeoDataFrame]) -> None:
    counts = sample["households"].groupby("grid_code").size()
    village = sample["grids"]["community_code"].str.endswith("201")
    urban_codes = sample["grids"].loc[~village, "code"]
    assert counts.loc[urban_codes].between(300, 500).all()
    assert counts.loc[urban_codes].std() > 30  # spread over the range, not piled at one end
    assert 100 <= counts.loc[sample["grids"].loc[village, "code"]].iloc[0] < 300
    assert 20_000 < counts.sum() < 30_000


def test_grids_tile_their_communities_and_communities_tile_the_street(
    sample: dict[str, gpd.GeoDataFrame],
) -> None:
    grids = sample["grids"].to_crs(METRIC)
    communities = sample["communities"].to_crs(METRIC).set_index("code")
    assert grids.geometry.is_valid.all() and communities.geometry.is_valid.all()
    for code, members in grids.groupby("community_code"):
        union = shapely.union_all(members.geometry.values)
        assert shapely.symmetric_difference(union, communities.geometry[code]).area < 1e-3
    left, right = shapely.STRtree(grids.geometry.values).query(grids.geometry.values, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(
        shapely.intersection(grids.geometry.values[left[pairs]], grids.geometry.values[right[pairs]])
    )
    assert overlap.max() < 1e-3
    street = sample["streets"].to_crs(METRIC).geometry.iloc[0]
    assert shapely.symmetric_difference(shapely.union_all(communities.geometry.values), street).area < 1e-3


def test_buildings_lie_inside_exactly_one_grid_and_never_overlap(sample: dict[str, gpd.GeoDataFrame]) -> None:
    buildings, grids = sample["buildings"], sample["grids"]
    b, g = shapely.STRtree(grids.geometry.values).query(buildings.geometry.values, predicate="intersects")
    assert np.array_equal(np.sort(b), np.arange(len(buildings)))  # each building touches exactly one grid
    assert shapely.within(buildings.geometry.values[b], grids.geometry.values[g]).all()
    assert (grids["code"].to_numpy()[g] == buildings["grid_code"].to_numpy()[b]).all()
    left, right = shapely.STRtree(buildings.geometry.values).query(
        buildings.geometry.values, predicate="intersects"
    )
    assert (left == right).all()


def test_households_lie_inside_their_building(sample: dict[str, gpd.GeoDataFrame]) -> None:
    households = sample["households"]
    footprint = sample["buildings"].set_index("code").geometry
    assert shapely.contains_properly(
        footprint.loc[households["building_code"]].values, households.geometry.values
    ).all()
    assert not households.geometry.duplicated().any()


def test_units_and_rooms_match_the_building(sample: dict[str, gpd.GeoDataFrame]) -> None:
    households = sample["households"]
    urban = households[households["unit"].notna()]
    floors = sample["buildings"].set_index("code")["floors"].loc[urban["building_code"]].to_numpy()
    room_floor = urban["room"].str.extract(r"^(\d+)\d\d室$")[0].astype(int).to_numpy()
    assert (room_floor >= 1).all() and (room_floor <= floors).all()
    assert urban["unit"].str.fullmatch(r"[1-3]单元").all()
    assert urban["address"].str.fullmatch(r"\w+?(路|街|大道|一路|二路|巷)\d+号\d+栋[1-3]单元\d+室").all()
    assert (
        urban["address"] == urban["address"].str.extract(r"^(.*栋)")[0] + urban["unit"] + urban["room"]
    ).all()
    rural = households[households["unit"].isna()]
    assert rural["address"].str.fullmatch(r"\w+村\d+组\d+号").all()


def test_every_floor_of_every_building_is_lived_in(sample: dict[str, gpd.GeoDataFrame]) -> None:
    households = sample["households"]
    urban = households[households["unit"].notna()]
    room_floor = urban["room"].str.extract(r"^(\d+)\d\d室$")[0].astype(int)
    top = room_floor.groupby(urban["building_code"]).max()
    floors = sample["buildings"].set_index("code")["floors"]
    assert (top == floors.loc[top.index]).all()
    per_building = urban.groupby(["building_code", "unit"]).size().groupby("building_code")
    assert (per_building.nunique() == 1).all()  # every unit of a building has the same number of rooms


def test_the_sample_passes_validation_with_zero_findings(sample: dict[str, gpd.GeoDataFrame]) -> None:
    counts = sample["households"].groupby("grid_code").size()
    assert check_grids(sample["grids"], sample["communities"], counts).empty


def test_house_numbers_rise_eastward_along_each_road(sample: dict[str, gpd.GeoDataFrame]) -> None:
    buildings = sample["buildings"]
    gates = buildings["address"].str.extract(r"^(?P<road>\D+?)(?P<number>\d+)号\d+栋$").dropna()
    x = shapely.get_coordinates(shapely.centroid(buildings.geometry.values))[:, 0]
    gates["x"] = x[gates.index]
    gates["number"] = gates["number"].astype(int)
    for _, side in gates.groupby(["road", gates["number"] % 2]):
        per_gate = side.groupby("number")["x"].mean().sort_index()
        assert per_gate.is_monotonic_increasing


def test_people_and_governance_gaps(sample: dict[str, gpd.GeoDataFrame]) -> None:
    households, grids = sample["households"], sample["grids"]
    party = households["party_member"].mean()
    assert 0.07 < party < 0.09
    centers = households["center_household"]
    assert (households.loc[centers, "party_member"]).all()
    assert 25 <= len(households) / centers.sum() <= 40
    assert households["contact_phone"].str.fullmatch(r"1[358]\d{9}").all()
    assert households["contact_name"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
    assert households["size"].between(1, 5).all()
    assert 1 <= grids["party_branch"].isna().sum() <= 5
    assert 1 <= grids["worker_name"].isna().sum() <= 5
    assert not (grids["party_branch"].isna() & grids["worker_name"].isna()).any()
    assert (grids["worker_name"].isna() == grids["worker_phone"].isna()).all()


def test_speakers_and_service_points_leave_gaps(sample: dict[str, gpd.GeoDataFrame]) -> None:
    speakers, points, grids = sample["speakers"], sample["service_points"], sample["grids"]
    assert (speakers["radius_m"] == 300).all() and (points["radius_m"] == 500).all()
    broken = (speakers["status"] == "broken").mean()
    assert 0.08 <= broken <= 0.16
    assert len(set(grids["code"]) - set(speakers["grid_code"])) >= 10  # many grids without their own speaker
    assert set(points["kind"]) == {"党群服务中心", "志愿服务站", "新时代文明实践站"}
    per_community = points["grid_code"].str[:12].value_counts()
    assert per_community.max() >= 3 * max(per_community.min(), 1)  # uneven
    for frame in (speakers, points):
        located = shapely.STRtree(grids.geometry.values).query(frame.geometry.values, predicate="within")
        assert (grids["code"].to_numpy()[located[1]] == frame["grid_code"].to_numpy()[located[0]]).all()
        assert len(located[0]) == len(frame)


def test_scale_multiplies_the_district() -> None:
    frames = generate(scale=2)
    assert frames["streets"]["code"].tolist() == ["420106001", "420106002"]
    assert len(frames["grids"]) == 122 and len(frames["communities"]) == 14
    assert frames["streets"]["name"].is_unique
    assert frames["buildings"]["address"].is_unique
    streets = frames["streets"].to_crs(METRIC)
    assert streets.geometry.iloc[0].intersection(streets.geometry.iloc[1]).area < 1e-3
    assert streets.geometry.iloc[0].touches(streets.geometry.iloc[1])


def test_scale_is_bounded() -> None:
    with pytest.raises(ValueError, match="scale"):
        generate(scale=0)


# --- the dirty twin -----------------------------------------------------------


def _repaired_metric(grids: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.make_valid(grids.to_crs(METRIC).geometry.values, method="structure", keep_collapsed=False)


def test_dirty_has_exactly_one_invalid_grid(dirty: dict[str, gpd.GeoDataFrame]) -> None:
    grids = dirty["grids"]
    invalid = grids.loc[~grids.geometry.is_valid, "code"].tolist()
    assert invalid == [PLANTED.self_intersection]
    reason = shapely.is_valid_reason(grids.set_index("code").geometry[PLANTED.self_intersection])
    assert reason.startswith("Self-intersection")
    assert dirty["communities"].geometry.is_valid.all()


def test_dirty_has_exactly_one_overlap(dirty: dict[str, gpd.GeoDataFrame]) -> None:
    geoms, codes = _repaired_metric(dirty["grids"]), dirty["grids"]["code"].to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    area = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    significant = area > 0.5
    found = {
        tuple(sorted((codes[i], codes[j])))
        for i, j in zip(left[pairs][significant], right[pairs][significant], strict=True)
    }
    assert found == {tuple(sorted(PLANTED.overlap))}
    assert 800 < area[significant][0] < 1500


def test_dirty_has_exactly_one_gap(dirty: dict[str, gpd.GeoDataFrame]) -> None:
    grids = dirty["grids"].assign(repaired=_repaired_metric(dirty["grids"]))
    communities = dirty["communities"].to_crs(METRIC).set_index("code")
    holes = []
    for code, members in grids.groupby("community_code"):
        rest = shapely.difference(communities.geometry[code], shapely.union_all(members["repaired"].values))
        holes += [(code, p) for p in shapely.get_parts(rest) if p.area > 0.5]
    assert len(holes) == 1
    community, hole = holes[0]
    assert community == PLANTED.gap[0][:12]
    assert 800 < hole.area < 1500
    by_code = grids.set_index("code")["repaired"]
    assert all(by_code[c].distance(hole) < 1e-6 for c in PLANTED.gap)


def test_dirty_has_exactly_one_household_outside_every_grid(dirty: dict[str, gpd.GeoDataFrame]) -> None:
    households = dirty["households"]
    inside = shapely.STRtree(shapely.make_valid(dirty["grids"].geometry.values)).query(
        households.geometry.values, predicate="intersects"
    )[0]
    outside = np.setdiff1d(np.arange(len(households)), inside)
    assert households["code"].to_numpy()[outside].tolist() == [PLANTED.stray_household]
    assert households.set_index("code").loc[PLANTED.stray_household, "building_code"] is pd.NA


def test_dirty_differs_from_the_sample_only_where_planted(
    sample: dict[str, gpd.GeoDataFrame], dirty: dict[str, gpd.GeoDataFrame]
) -> None:
    changed = ~dirty["grids"].geometry.geom_equals_exact(sample["grids"].geometry, 0)
    assert sorted(dirty["grids"].loc[changed, "code"]) == sorted(
        [PLANTED.overlap[0], PLANTED.gap[0], PLANTED.self_intersection]
    )
    extra = set(dirty["households"]["code"]) - set(sample["households"]["code"])
    assert extra == {PLANTED.stray_household}
    for layer in ("streets", "communities", "buildings", "speakers", "service_points"):
        _assert_frames_equal({layer: sample[layer]}, {layer: dirty[layer]})


# --- stores ---------------------------------------------------------------------


def test_committed_sample_loads_into_the_store(store: Store, sample: dict[str, gpd.GeoDataFrame]) -> None:
    expected = {layer: len(frame) for layer, frame in sample.items()}
    assert load_sample(store) == expected
    assert store.counts() == expected
    assert load_sample(store) == expected  # replacing again is idempotent
    assert store.counts() == expected
    grids = store.read("grids")
    assert grids["code"].tolist() == sample["grids"]["code"].tolist()
    assert grids.geometry.geom_equals_exact(sample["grids"].geometry, 1e-9).all()


def test_load_sample_rejects_a_missing_directory(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="gridmap sample"):
        load_sample(store, tmp_path / "nowhere")


def test_written_sample_uses_rfc7946_geojson_and_a_household_csv(tmp_path: Path) -> None:
    paths = write_sample(generate(), tmp_path)
    assert sorted(p.name for p in paths) == sorted(layer_path(tmp_path, layer).name for layer in LAYER_NAMES)
    header = (tmp_path / "households.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",lon,lat")
    speakers = (tmp_path / "speakers.geojson").read_text(encoding="utf-8")
    assert re.search(r'"coordinates": \[114\.\d{1,7}, 30\.\d{1,7}\]', speakers)
    grids = json.loads((tmp_path / "grids.geojson").read_text(encoding="utf-8"))
    assert "crs" not in grids and len(grids["features"]) == 61
    exteriors = [shapely.LinearRing(f["geometry"]["coordinates"][0][0]) for f in grids["features"]]
    assert all(ring.is_ccw for ring in exteriors)  # RFC 7946: exterior rings counter-clockwise


def test_district_written_in_chunks_is_byte_identical(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(files, "HOUSEHOLD_CHUNK", 7_000)  # four chunks, the last one short
    write_district(plan(), tmp_path)
    for layer in LAYER_NAMES:
        assert layer_path(tmp_path, layer).read_bytes() == layer_path(SAMPLE_DIR, layer).read_bytes(), layer


def test_names_stay_unique_up_to_the_largest_scale() -> None:
    roads = [names.road_name(i) for i in range(MAX_SCALE * ROWS // BAND_ROWS)]
    streets = [names.street_name(i) for i in range(MAX_SCALE)]
    villages = [names.village_name(i) for i in range(MAX_SCALE)]
    for listed in (roads, streets, villages):
        assert len(set(listed)) == len(listed)
    assert roads[0] == "幸福路" and roads[420] == "幸福东路" and streets[100] == "紫阳东街道"
    assert villages[0] == "青林村" and villages[20] == "王家湾村"
    with pytest.raises(ValueError, match="no unique road name"):
        names.road_name(len(names.ROAD_PREFIXES) * len(names.ROAD_SUFFIXES) * (len(names.ROAD_QUARTERS) + 1))


def test_community_names_are_unique_across_a_city() -> None:
    layout = build_layout(120, np.random.default_rng(1))  # 840 communities from 100 two-character names
    assert len(set(layout.community_name)) == len(layout.community_name) == 840
    assert len(set(layout.grid_name)) == len(layout.grid_name)
