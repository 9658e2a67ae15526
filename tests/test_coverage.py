"""Coverage: working speakers only, per-feature radii, inverse-square ranges, exact KD-tree answer."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from gridmap.coverage import (
    CoverageOptions,
    StraightLine,
    audible_radius_m,
    metric_xy,
    service_coverage,
    speaker_coverage,
    speaker_radii,
    speaker_ranges,
)
from gridmap.frames import conform

METRIC = pyproj.CRS.from_epsg(4547)  # CGCS2000 3-degree Gauss–Krüger, central meridian 114°E
X0, Y0 = 500_000.0, 3_400_000.0


def metric_points(layer: str, xy: list[tuple[float, float]], **columns: list) -> gpd.GeoDataFrame:
    """A canonical (EPSG:4326) frame of points given in metres around (X0, Y0)."""
    geoms = [shapely.Point(X0 + x, Y0 + y) for x, y in xy]
    codes = [f"{layer[0]}{i}" for i in range(len(xy))]
    frame = gpd.GeoDataFrame({"code": codes, **columns}, geometry=geoms, crs=METRIC)
    return conform(layer, frame)


def households_xy(xy: list[tuple[float, float]]) -> np.ndarray:
    return metric_xy(metric_points("households", xy), METRIC)


def test_metric_xy_round_trips_to_the_millimetre() -> None:
    got = households_xy([(0.0, 0.0), (123.4, -56.7)])
    assert np.allclose(got - [X0, Y0], [[0.0, 0.0], [123.4, -56.7]], atol=1e-3)


def test_broken_speakers_cover_nothing() -> None:
    speakers = metric_points(
        "speakers", [(0, 0), (1000, 0)], radius_m=[100.0, 100.0], status=["working", "broken"]
    )
    covered = speaker_coverage(households_xy([(50, 0), (1050, 0)]), speakers, METRIC)
    assert covered.tolist() == [True, False]


def test_each_speaker_has_its_own_radius() -> None:
    speakers = metric_points("speakers", [(0, 0), (1000, 0)], radius_m=[100.0, 500.0])
    homes = [(99.0, 0), (101.0, 0), (510.0, 0), (1499.0, 0), (1000, 501.0)]
    covered = speaker_coverage(households_xy(homes), speakers, METRIC)
    assert covered.tolist() == [True, False, True, True, False]


def test_service_points_use_radius_m_with_default_500() -> None:
    points = metric_points("service_points", [(0, 0), (5000, 0)], radius_m=[None, 50.0])
    covered = service_coverage(
        households_xy([(499.0, 0), (501.0, 0), (5049.0, 0), (5051.0, 0)]), points, METRIC
    )
    assert covered.tolist() == [True, False, True, False]


def test_audible_radius_follows_the_inverse_square_law() -> None:
    # 100 dB at 1 W / 1 m, 1 W, heard down to 40 dB: 60 dB of spreading loss = 1000 m.
    assert audible_radius_m(1.0, 100.0, ambient_db=40.0, margin_db=0.0) == pytest.approx(1000.0)
    # A 110 dB, 50 W horn over 55 dB(A) street noise with a 15 dB margin: 10 ** (56.99 / 20) = 707 m.
    assert audible_radius_m(50.0, 110.0) == pytest.approx(707.1, abs=0.1)
    # Doubling the distance loses 6 dB; quadrupling the power gains 6 dB: the radius doubles.
    assert audible_radius_m(200.0, 110.0) / audible_radius_m(50.0, 110.0) == pytest.approx(2.0)
    assert np.isnan(audible_radius_m([0.0, np.nan, 10.0], [100.0, 100.0, np.nan])).all()


def test_speaker_radius_from_power_and_sensitivity_wins_over_radius_m() -> None:
    speakers = metric_points(
        "speakers",
        [(0, 0), (0, 0), (0, 0)],
        radius_m=[300.0, 120.0, None],
        power_w=[50.0, None, 1.0],
        sensitivity_db=[110.0, 110.0, None],
    )
    radii = speaker_radii(speakers)
    assert radii[0] == pytest.approx(707.1, abs=0.1)
    assert radii[1:].tolist() == [120.0, 300.0]  # incomplete datasheet: radius_m (default 300)


def test_ambient_level_changes_the_acoustic_range() -> None:
    speakers = metric_points("speakers", [(0, 0)], power_w=[1.0], sensitivity_db=[100.0])
    quiet = CoverageOptions(ambient_db=25.0, margin_db=15.0)  # 60 dB loss: 1000 m
    homes = households_xy([(990.0, 0), (1010.0, 0)])
    assert speaker_coverage(homes, speakers, METRIC, quiet).tolist() == [True, False]
    assert speaker_coverage(homes, speakers, METRIC).tolist() == [False, False]  # 55 dB: 31.6 m


def test_distance_exactly_at_the_radius_counts() -> None:
    reached = StraightLine().reached(
        np.array([[3.0, 4.0], [3.0, 4.1]]), np.array([[0.0, 0.0]]), np.array([5.0])
    )
    assert reached.tolist() == [True, False]


def test_no_sites_or_no_households() -> None:
    model = StraightLine()
    assert model.reached(np.zeros((2, 2)), np.zeros((0, 2)), np.zeros(0)).tolist() == [False, False]
    assert model.reached(np.zeros((0, 2)), np.zeros((1, 2)), np.ones(1)).shape == (0,)
    nan_home = np.array([[np.nan, np.nan], [0.0, 0.0]])
    assert model.reached(nan_home, np.zeros((1, 2)), np.ones(1)).tolist() == [False, True]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 200),
    st.integers(1, 30),
)
def test_lifted_kdtree_matches_brute_force(seed: int, n_homes: int, n_sites: int) -> None:
    rng = np.random.default_rng(seed)
    homes = rng.uniform(0, 2000, (n_homes, 2))
    sites = rng.uniform(0, 2000, (n_sites, 2))
    radii = rng.choice([0.0, 50.0, 120.0, 300.0, 800.0], n_sites)
    dist = np.hypot(*(homes[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    expected = (dist <= radii[None, :]).any(axis=1)
    assert (StraightLine(workers=1).reached(homes, sites, radii) == expected).all()


class NeverReached:
    """A distance model standing in for a walking network where nothing is reachable."""

    def reached(self, origins: np.ndarray, sites: np.ndarray, radii: np.ndarray) -> np.ndarray:
        return np.zeros(len(origins), dtype=bool)


def test_the_distance_model_is_a_seam() -> None:
    points = metric_points("service_points", [(0, 0)])
    options = CoverageOptions(service_distance=NeverReached())
    assert service_coverage(households_xy([(1.0, 0)]), points, METRIC, options).tolist() == [False]


def test_speaker_ranges_are_circles_of_working_speakers() -> None:
    speakers = metric_points(
        "speakers", [(0, 0), (0, 0)], radius_m=[100.0, 900.0], status=["working", "broken"]
    )
    ranges = speaker_ranges(speakers, METRIC)
    assert len(ranges) == 1
    assert shapely.area(ranges[0]) == pytest.approx(np.pi * 100.0**2, rel=0.005)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.integers(1, 30))
def test_cell_pass_on_clustered_households_matches_brute_force(seed: int, n_homes: int, n_sites: int) -> None:
    """Households stacked in a few buildings take the whole-cell shortcut; the answer must not change."""
    rng = np.random.default_rng(seed)
    buildings = rng.uniform(0, 3000, (max(1, n_homes // 40), 2))
    homes = buildings[rng.integers(0, len(buildings), n_homes)] + rng.normal(0, 3.0, (n_homes, 2))
    sites = rng.uniform(0, 3000, (n_sites, 2))
    radii = rng.choice([100.0, 300.0, 500.0, 700.0], n_sites)
    dist = np.hypot(*(homes[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    expected = (dist <= radii[None, :]).any(axis=1)
    assert (StraightLine(workers=1).reached(homes, sites, radii) == expected).all()


def test_whole_cells_settle_a_dense_cluster_and_nothing_at_the_rim() -> None:
    """The cell shortcut fires where a cell lies inside a range, and stays out where it does not."""
    rng = np.random.default_rng(1)
    near = rng.normal(0.0, 2.0, (500, 2))  # a tower block beside the speaker
    rim = rng.normal(0.0, 2.0, (500, 2)) + np.array([299.0, 0.0])  # a block straddling the edge of its range
    sites, radii = np.array([[0.0, 0.0]]), np.array([300.0])
    whole = StraightLine()._whole_cells(cKDTree(sites), np.vstack([near, rim]), radii, 300.0)
    assert whole[:500].all() and not whole[500:].any()
    reached = StraightLine().reached(np.vstack([near, rim]), sites, radii)
    assert reached[:500].all()
    assert (reached[500:] == (np.hypot(*rim.T) <= 300.0)).all()
