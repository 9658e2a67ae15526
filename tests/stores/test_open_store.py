"""`open_store` picks the backend from the URL and says clearly what it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridmap.errors import ConfigError
from gridmap.stores import open_store
from gridmap.stores.geopackage import GeoPackageStore
from gridmap.stores.postgis import PostGISStore


def test_paths_open_geopackages(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "a.gpkg")) as store:
        assert isinstance(store, GeoPackageStore)
        assert store.url == str(tmp_path / "a.gpkg")
    with open_store(f"file://{tmp_path / 'b.gpkg'}") as store:
        assert isinstance(store, GeoPackageStore)
        assert store.url == str(tmp_path / "b.gpkg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gpkg", "b.gpkg"]


def test_default_store_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRIDMAP_STORE", raising=False)
    with open_store() as store:
        assert store.url == str(tmp_path / "gridmap.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(tmp_path / "env.gpkg"))
    with open_store() as store:
        assert store.url == str(tmp_path / "env.gpkg")


@pytest.mark.parametrize("url", ["mysql://user@host/db", "sqlite:///tmp/x.db", "https://example.org/store"])
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(
        ConfigError, match=r"unsupported store URL .*use a \.gpkg path or postgresql\+psycopg://"
    ):
        open_store(url)


@pytest.mark.postgis
def test_postgresql_urls_open_postgis(postgis_url: str) -> None:
    for url in (postgis_url, postgis_url.replace("postgresql+psycopg://", "postgresql://")):
        with open_store(url) as store:
            assert isinstance(store, PostGISStore)
            assert store.url == postgis_url
    with pytest.raises(ConfigError, match="unusable store URL"):
        open_store("postgresql+psycopg://user@host:notaport/db")
