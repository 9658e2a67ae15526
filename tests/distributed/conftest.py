"""Fixtures of the distributed engine's tests: two adjacent counties (see `counties.py`)."""

from __future__ import annotations

import geopandas as gpd
import pytest

from tests.distributed.counties import two_counties


@pytest.fixture(scope="session")
def counties() -> dict[str, gpd.GeoDataFrame]:
    return two_counties()
