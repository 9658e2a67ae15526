"""The address corpus (bench/address_corpus.py) through the lookup service, on both stores.

Two districts: the committed sample and one generated with another seed, so
nothing is tuned to one data set. Acceptance (issue 13): at least 98 % right
on every form that names a building, at least 99 % of roads the register lacks
answered with nothing, no wrong grid from an exact or normalised match, and
the representative point of every building answered with that building's grid.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pytest

from bench.address_corpus import corpus, evaluate, representative_points
from gridmap.lookup import LookupService, Snapshot
from gridmap.sample import generate
from gridmap.sample.files import read_sample
from gridmap.stores import Store

LAYERS = ("streets", "communities", "grids", "buildings")
DISTRICTS = {"committed sample": read_sample, "seed 7": lambda: generate(seed=7)}
PARENTS = ("code", "street_code", "community_code")


@pytest.fixture(params=list(DISTRICTS))
def district(request: pytest.FixtureRequest) -> dict[str, gpd.GeoDataFrame]:
    """The lookup layers of one district, codes prefixed by it (a store never reuses a code elsewhere)."""
    frames = DISTRICTS[request.param]()
    prefix = "S7-" if request.param == "seed 7" else ""
    out = {}
    for name in LAYERS:
        frame = frames[name].copy()
        for column in PARENTS:
            if column in frame.columns:
                frame[column] = prefix + frame[column].astype("string")
        out[name] = frame
    return out


@pytest.fixture
def snapshot(store: Store, district: dict[str, gpd.GeoDataFrame]) -> Iterator[Snapshot]:
    store.replace_many(district)
    service = LookupService(store)
    yield service.snapshot()
    service.close()


def test_every_form_meets_its_rate(snapshot: Snapshot, district: dict[str, gpd.GeoDataFrame]) -> None:
    cases = corpus(district)
    grid_of = {code: int(snapshot.building_grid[row]) for code, row in snapshot.buildings.items()}
    results = evaluate(snapshot.addresses, grid_of, cases)
    assert len(results) >= 16
    for result in results:
        assert result.cases >= 100, result
        assert result.wrong_grid_exact == 0, result
        if result.form == "road not in the register":
            assert result.rate >= 0.99, result
        else:
            assert result.rate >= 0.98, result


def test_the_representative_point_of_every_building_answers_its_grid(
    snapshot: Snapshot, district: dict[str, gpd.GeoDataFrame]
) -> None:
    buildings = district["buildings"]
    lon, lat = representative_points(buildings)
    grids, inside = snapshot.by_points(lon, lat, "wgs84")
    expected = np.array([snapshot.building_grid[snapshot.buildings[c]] for c in buildings["code"]])
    assert (expected >= 0).all()
    assert (grids == expected).all()
    assert (buildings["code"].to_numpy()[inside] == buildings["code"].to_numpy()).all()
