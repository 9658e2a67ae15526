"""A tiny known layout near Beijing, and writers that put it into files of every format; the sample
district for the chunked imports."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gridmap.frames import WGS84
from gridmap.sample.files import read_sample
from gridmap.stores import Store, open_store

# One street holding one community; a building with two households inside it.
STREET = shapely.box(116.30, 39.90, 116.40, 40.00)
COMMUNITY = shapely.box(116.31, 39.91, 116.35, 39.95)
BUILDING = shapely.box(116.320, 39.920, 116.321, 39.921)
BOWTIE = shapely.from_wkt("POLYGON ((116.30 39.90, 116.40 40.00, 116.40 39.90, 116.30 40.00, 116.30 39.90))")


def streets_frame() -> gpd.GeoDataFrame:
    """Streets with Chinese column names, as a planner's file would have them."""
    return gpd.GeoDataFrame(
        {"街道编码": ["S1", "S2"], "名称": ["和平街道", "幸福镇"]},
        geometry=[STREET, shapely.box(116.40, 39.90, 116.50, 40.00)],
        crs=WGS84,
    )


def households_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["H1", "H2"], "address": ["和平路1号", "和平路2号"], "size": [3, 2]},
        geometry=[shapely.Point(116.3205, 39.9205), shapely.Point(116.33, 39.93)],
        crs=WGS84,
    )


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="session")
def empty_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty GeoPackage store made once: creating the seven layers costs a second, copying it nothing."""
    path = tmp_path_factory.mktemp("template") / "empty.gpkg"
    open_store(str(path)).close()
    return path


@pytest.fixture
def gpkg_store(tmp_path: Path, empty_gpkg: Path) -> Iterator[Store]:
    """An empty GeoPackage store, for the format tests that need not run on both backends."""
    path = tmp_path / "store.gpkg"
    shutil.copyfile(empty_gpkg, path)
    with open_store(str(path)) as opened:
        yield opened


@pytest.fixture
def with_streets(gpkg_store: Store) -> Store:
    """The GeoPackage store holding the two streets."""
    frame = streets_frame().rename(columns={"街道编码": "code", "名称": "name"})
    gpkg_store.replace("streets", frame)
    return gpkg_store


@pytest.fixture(scope="module")
def sample() -> dict[str, gpd.GeoDataFrame]:
    """The committed sample district's layers (the chunked-import tests' households)."""
    return read_sample()


@pytest.fixture
def loaded(store: Store, sample: dict[str, gpd.GeoDataFrame]) -> Store:
    """The store holding the sample's streets, communities, grids and buildings (no households)."""
    store.replace_many({layer: sample[layer] for layer in ("streets", "communities", "grids", "buildings")})
    return store
