"""Fixtures for the map tests: the hand-made district and the real sample district, analysed once."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from gridmap.analysis import Analysis, analyze
from gridmap.sample import generate
from tests.maps.fake import FakeAnalysis, build

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="session")
def fake() -> tuple[FakeAnalysis, dict[str, gpd.GeoDataFrame]]:
    """The four-grid district of tests/maps/fake.py, with known figures."""
    return build()


@pytest.fixture(scope="session")
def sample() -> tuple[Analysis, dict[str, gpd.GeoDataFrame]]:
    """The sample district (scale 1) and its real analysis."""
    frames = generate(scale=1)
    return analyze(frames), frames


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are kept for people to look at (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
