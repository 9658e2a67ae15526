"""Column mapping: Chinese or English names in any case, width or spacing; a report of what was left out."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gridmap.catalogue import get_layer
from gridmap.frames import WGS84
from gridmap.ingest import import_file
from gridmap.ingest.columns import map_columns, name_key
from gridmap.stores import Store
from tests.ingest.conftest import write_text


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("ＣＯＤＥ", "code"),
        (" Street Code ", "street_code"),
        ("半径（米）", "半径(米)"),
        ("网格_员", "网格员"),
    ],
)
def test_name_key_ignores_case_width_and_spacing(written: str, canonical: str) -> None:
    assert name_key(written) == name_key(canonical)


def test_chinese_columns_map_to_fields_and_the_rest_is_reported() -> None:
    columns = ["网格编码", "网格名称", "所属社区", "网格员", "联系电话", "党支部", "备注", "经度"]
    mapping = map_columns(get_layer("grids"), columns, tabular=False)
    assert mapping.fields == {
        "code": "网格编码",
        "name": "网格名称",
        "community_code": "所属社区",
        "worker_name": "网格员",
        "worker_phone": "联系电话",
        "party_branch": "党支部",
    }
    assert mapping.ignored == {"备注": "not a field of grids", "经度": "not a field of grids"}
    assert mapping.geometry == {}


def test_grid_code_is_never_taken_from_input() -> None:
    mapping = map_columns(get_layer("households"), ["code", "grid_code", "lon", "lat"], tabular=True)
    assert mapping.ignored == {"grid_code": "grid_code is derived by gridmap, never taken from input"}
    assert mapping.geometry == {"lon": "lon", "lat": "lat"}


def test_two_columns_for_one_field_keep_the_canonical_name() -> None:
    mapping = map_columns(get_layer("streets"), ["编码", "code", "Name"], tabular=False)
    assert mapping.fields == {"code": "code", "name": "Name"}
    assert mapping.ignored == {"编码": "also matches code; column 'code' is used"}


def test_import_report_lists_mapping_in_field_order(tmp_path: Path, gpkg_store: Store) -> None:
    path = write_text(
        tmp_path / "buildings.csv",
        "楼层,楼栋编码,备注,所属网格,WKT\n"
        '6,B1,东门,G9,"POLYGON ((116.32 39.92, 116.321 39.92, 116.321 39.921, 116.32 39.92))"\n',
    )
    report = import_file(gpkg_store, "buildings", path)
    assert report.mapping == {"code": "楼栋编码", "floors": "楼层"}
    assert report.geometry_columns == {"wkt": "WKT"}
    assert report.ignored == {
        "备注": "not a field of buildings",
        "所属网格": "grid_code is derived by gridmap, never taken from input",
    }
    got = gpkg_store.read("buildings")
    assert got["floors"].iloc[0] == 6
    assert got["grid_code"].isna().all()


def test_community_kind_is_normalised(tmp_path: Path, gpkg_store: Store) -> None:
    gpkg_store.replace(
        "streets",
        gpd.GeoDataFrame(
            {"code": ["S1"], "name": ["和平街道"]}, geometry=[shapely.box(116, 39, 117, 40)], crs=WGS84
        ),
    )
    box = shapely.box(116.1, 39.1, 116.2, 39.2).wkt
    path = write_text(
        tmp_path / "c.csv",
        f'社区编码,名称,街道,社区类型,wkt\nC1,和平社区,S1,社区,"{box}"\nC2,前进村,S1,村委会,"{box}"\nC3,新区,S1,,"{box}"\n',
    )
    import_file(gpkg_store, "communities", path)
    assert list(gpkg_store.read("communities")["kind"]) == ["community", "village", "community"]
