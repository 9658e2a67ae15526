"""Fixtures of the distributed engine's tests: two adjacent counties (see `counties.py`), their
single-process analysis, and a cluster of two threads, each made once for the whole directory."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pytest
from distributed import Client

from gridmap.analysis import Analysis, analyze
from gridmap.distributed.engine import cluster
from tests.distributed.counties import two_counties


@pytest.fixture(scope="session")
def counties() -> dict[str, gpd.GeoDataFrame]:
    return two_counties()


@pytest.fixture(scope="session")
def single(counties: dict[str, gpd.GeoDataFrame]) -> Analysis:
    """The single-process analysis every distributed run must equal."""
    return analyze(counties)


@pytest.fixture(scope="session")
def client() -> Iterator[Client]:
    with cluster(processes=False) as c:
        yield c
