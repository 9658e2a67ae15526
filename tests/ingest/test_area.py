"""The service area: China by default, the world, a box, or the loaded streets; GCJ-02 stays in China."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from gridmap.crs import parse_crs
from gridmap.errors import ConfigError, ValidationError
from gridmap.ingest import import_file
from gridmap.ingest.area import service_area
from gridmap.stores import Store
from tests.ingest.conftest import write_text

BERLIN = shapely.box(13.30, 52.45, 13.45, 52.55)


def _streets(tmp_path: Path) -> Path:
    return write_text(tmp_path / "streets.csv", f'code,name,wkt\nB1,Mitte,"{BERLIN.wkt}"\n')


def _points(tmp_path: Path, rows: str) -> Path:
    return write_text(tmp_path / "speakers.csv", "code,lon,lat\n" + rows)


def test_data_abroad_is_refused_by_default_and_the_error_says_how_to_allow_it(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRIDMAP_SERVICE_AREA", raising=False)
    with pytest.raises(
        ValidationError, match=r"outside China's extent .*GRIDMAP_SERVICE_AREA sets another area"
    ):
        import_file(store, "streets", _streets(tmp_path))
    assert store.read("streets").empty


def test_world_or_a_box_lets_a_project_abroad_load(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDMAP_SERVICE_AREA", "world")
    import_file(store, "streets", _streets(tmp_path))
    assert store.read("streets")["code"].tolist() == ["B1"]
    monkeypatch.setenv("GRIDMAP_SERVICE_AREA", "5,45,15,55")
    import_file(store, "speakers", _points(tmp_path, "S1,13.4,52.5\n"))
    with pytest.raises(ValidationError, match=r"\(2.35, 48.85\) are outside the service area \(lon 5–15"):
        import_file(store, "speakers", _points(tmp_path, "S2,2.35,48.85\n"), mode="append")
    assert store.read("speakers")["code"].tolist() == ["S1"]


def test_streets_area_follows_the_loaded_streets(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDMAP_SERVICE_AREA", "streets")
    import_file(store, "streets", _streets(tmp_path))  # streets themselves: WGS84's valid area
    import_file(store, "speakers", _points(tmp_path, "S1,13.4,52.5\nS2,13.48,52.58\n"))  # within 0.05°
    with pytest.raises(ValidationError, match=r"\(11.58, 48.14\) are outside the loaded streets' extent"):
        import_file(store, "speakers", _points(tmp_path, "S3,11.58,48.14\n"), mode="append")
    assert store.read("speakers")["code"].tolist() == ["S1", "S2"]


def test_gcj02_stays_in_china_whatever_the_setting(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDMAP_SERVICE_AREA", "world")
    with pytest.raises(ValidationError, match=r"outside China's extent, where gcj02 is defined"):
        import_file(store, "speakers", _points(tmp_path, "S1,13.4,52.5\n"), crs="gcj02")
    area = service_area(store, "speakers", parse_crs("bd09"), "100,20,140,60")
    assert area.bounds == (100.0, 20.0, 136.0, 54.0)


@pytest.mark.parametrize("setting", ["mars", "1,2,3", "10,10,5,5"])
def test_a_bad_setting_is_one_clear_error(store: Store, setting: str) -> None:
    with pytest.raises(ConfigError, match="GRIDMAP_SERVICE_AREA"):
        service_area(store, "speakers", parse_crs("wgs84"), setting)
