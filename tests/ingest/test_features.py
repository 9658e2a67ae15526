"""Features handed over in memory take the same validation and write as a file, reading only their rows."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest

from gridmap.errors import ValidationError
from gridmap.ingest import features_source, import_source
from gridmap.sample import load_sample
from gridmap.stores import Store
from tests.ingest.test_derive import BUILDING_IN_GRID_1, INSIDE_GRID_6


def _feature(properties: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


class _Reads:
    """The store, recording what each `read` asked for (a whole layer, a box or a list of codes)."""

    def __init__(self, store: Store) -> None:
        self.store, self.calls = store, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def read(self, layer: str, *, bbox: Any = None, codes: Sequence[str] | None = None) -> gpd.GeoDataFrame:
        self.calls.append((layer, "bbox" if bbox is not None else "codes" if codes is not None else "all"))
        return self.store.read(layer, bbox=bbox, codes=codes)


def test_a_one_feature_write_derives_its_grid_without_reading_whole_layers(store: Store) -> None:
    load_sample(store)
    household = store.read("households").iloc[0]
    lon, lat = INSIDE_GRID_6
    features = [
        _feature({"code": "SPK-MEM", "name": "新广播", "status": "正常"}, _point(lon, lat)),
    ]
    reads = _Reads(store)
    import_source(reads, "speakers", features_source(features), mode="append")  # type: ignore[arg-type]
    assert store.read("speakers", codes=["SPK-MEM"])["grid_code"].tolist() == ["420106001001006"]
    assert ("grids", "bbox") in reads.calls
    assert all(kind != "all" for layer, kind in reads.calls if layer in ("grids", "buildings", "households"))

    moved = [_feature({"code": str(household["code"]), "building_code": BUILDING_IN_GRID_1}, None)]
    reads.calls.clear()
    import_source(reads, "households", features_source(moved), mode="append")  # type: ignore[arg-type]
    got = store.read("households", codes=[str(household["code"])])
    assert got["grid_code"].tolist() == ["420106001001001"]  # placed at its building, in its grid
    assert all(kind != "all" for layer, kind in reads.calls if layer in ("grids", "buildings", "households"))


def test_a_household_without_point_or_building_code_is_placed_by_its_address(store: Store) -> None:
    load_sample(store)
    building = store.read("buildings", codes=[BUILDING_IN_GRID_1]).iloc[0]
    features = [_feature({"code": "H-BY-ADDRESS", "address": str(building["address"]), "size": 2}, None)]
    report = import_source(store, "households", features_source(features), mode="append")
    assert report.placed_at_building == 1
    got = store.read("households", codes=["H-BY-ADDRESS"])
    assert got["grid_code"].tolist() == ["420106001001001"]


def test_no_file_is_written_or_read_on_the_way(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GDAL reads only the store itself (the GeoPackage store's reader), never a file of the edit."""
    load_sample(store)
    own = Path(str(store.url)).resolve() if not str(store.url).startswith("postgresql") else None
    for name in ("read_dataframe", "read_arrow"):
        real = getattr(pyogrio, name)

        def guarded(path: object, *args: object, _real: Any = real, **kwargs: object) -> Any:
            if own is None or Path(str(path)).resolve() != own:
                raise AssertionError(f"GDAL was asked to read {path}")
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(pyogrio, name, guarded)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    lon, lat = INSIDE_GRID_6
    features = [_feature({"code": "SPK-NOGDAL", "name": "广播", "status": "working"}, _point(lon, lat))]
    assert import_source(store, "speakers", features_source(features), mode="create").written == 1
    assert list(temp.iterdir()) == []


def test_values_keep_their_json_types_and_problems_name_the_feature(store: Store) -> None:
    load_sample(store)
    lon, lat = INSIDE_GRID_6
    features = [
        _feature({"code": "SPK-OK", "name": "广播", "status": "working", "radius_m": 250}, _point(lon, lat)),
        _feature({"code": "SPK-BAD", "name": "广播", "status": "working", "radius_m": -5}, _point(lon, lat)),
        _feature({"code": "SPK-RING", "name": "广播"}, {"type": "Point", "coordinates": "x"}),
    ]
    with pytest.raises(ValidationError) as caught:
        import_source(store, "speakers", features_source(features), mode="append")
    assert caught.value.source == "request body"
    assert [p.row for p in caught.value.problems] == [3]  # GEOS refuses the geometry before anything else
    with pytest.raises(ValidationError) as caught:
        import_source(store, "speakers", features_source(features[:2]), mode="append")
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "radius_m")]
    assert store.read("speakers", codes=["SPK-OK"]).empty  # all or nothing
    import_source(store, "speakers", features_source(features[:1]), mode="append")
    assert store.read("speakers", codes=["SPK-OK"])["radius_m"].tolist() == [250]
