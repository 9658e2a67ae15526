"""Round trips: every layer exported in every format and CRS, imported into an empty store, unchanged.

Every field is compared (grid_code aside: gridmap derives it), geometries
within 1e-7 degrees (about a centimetre; GCJ-02 goes out and back through an
iterative inverse).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from gridmap.catalogue import LAYER_NAMES, get_layer
from gridmap.export import FORMATS, Headers, export_layer
from gridmap.ingest import import_file
from gridmap.stores import Store, open_store
from tests.ingest.district import district

TOLERANCE_DEG = 1e-7


def assert_same_layer(layer: str, expected: gpd.GeoDataFrame, got: gpd.GeoDataFrame) -> None:
    """Same codes, the same value in every input field, the same geometry within the tolerance."""
    assert got["code"].tolist() == expected["code"].tolist(), layer
    for f in get_layer(layer).input_fields:
        want = expected[f.name].astype(object).where(expected[f.name].notna(), None).tolist()
        have = got[f.name].astype(object).where(got[f.name].notna(), None).tolist()
        assert have == want, f"{layer}.{f.name}"
    distance = shapely.hausdorff_distance(
        np.asarray(expected.geometry.values, dtype=object), np.asarray(got.geometry.values, dtype=object)
    )
    assert float(np.max(distance)) < TOLERANCE_DEG, layer
    assert got.geometry.geom_type.tolist() == expected.geometry.geom_type.tolist(), layer


def round_trip(
    store: Store, folder: Path, fmt: str, crs: str, *, declare: bool = True, headers: Headers = "zh"
) -> None:
    """Export each layer of the district, import it into `store` (empty) in order, compare."""
    layers = district()
    for layer in LAYER_NAMES:
        path = folder / f"{layer}{FORMATS[fmt].suffix}"
        out = export_layer(layers[layer], path, fmt, crs, layer=layer, headers=headers)
        report = import_file(store, layer, out, crs=crs if declare else None)
        assert report.changes is not None and report.changes.added == len(layers[layer])
        assert_same_layer(layer, layers[layer], store.read(layer))


@pytest.mark.parametrize("crs", ["wgs84", "gcj02"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_layer_survives_every_format(tmp_path: Path, gpkg_store: Store, fmt: str, crs: str) -> None:
    round_trip(gpkg_store, tmp_path, fmt, crs)


@pytest.mark.parametrize("fmt", ["shp", "xlsx"])
def test_round_trip_into_either_store(tmp_path: Path, store: Store, fmt: str) -> None:
    round_trip(store, tmp_path, fmt, "gcj02")


def test_xlsx_for_community_staff_has_chinese_headers_and_imports_back(tmp_path: Path, store: Store) -> None:
    """The workbook 社区 staff open reads 编码/地址/是否党员户 and 是/否; it imports back unchanged, as does
    the one with canonical headers (for scripts)."""
    out = export_layer(district()["households"], tmp_path / "h.xlsx", "xlsx", layer="households")
    sheet = openpyxl.load_workbook(out)["households"]
    header = [c.value for c in sheet[1]]
    households = get_layer("households")
    assert header[:2] == [households.get("code").label_zh, households.get("address").label_zh]
    assert "经度" in header and "纬度" in header and "code" not in header
    party = header.index(households.get("party_member").label_zh)
    assert {row[party].value for row in sheet.iter_rows(min_row=2)} <= {"是", "否", None}
    round_trip(store, tmp_path / "canonical", "xlsx", "wgs84", headers="canonical")


def test_shapefile_sidecar_restores_names_and_crs(tmp_path: Path, gpkg_store: Store) -> None:
    """No --crs: the sidecar says the zip is GCJ-02 (its .prj can only say EPSG:4326)."""
    round_trip(gpkg_store, tmp_path, "shp", "gcj02", declare=False)


def test_shapefile_without_its_sidecar_still_maps_gridmap_short_names(
    tmp_path: Path, gpkg_store: Store
) -> None:
    layers = district()
    for layer in LAYER_NAMES:
        out = export_layer(layers[layer], tmp_path / f"{layer}.zip", "shp", layer=layer)
        folder = tmp_path / layer
        shutil.unpack_archive(out, folder)
        (folder / f"{layer}.gridmap.json").unlink()
        report = import_file(gpkg_store, layer, folder / f"{layer}.shp")
        assert not report.renamed
        assert_same_layer(layer, layers[layer], gpkg_store.read(layer))
        if layer == "households":
            assert report.mapping["center_household"] == "cntr_hshld"


def _gdal_shapefile(source: Path, target: Path, *, cpg: bool) -> Path:
    """What GDAL (and ArcGIS) write: names cut at 10 characters, GBK text, with or without a .cpg."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ogr2ogr", "-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", str(target), str(source)],
        check=True,
        capture_output=True,
    )
    if not cpg:
        target.with_suffix(".cpg").unlink()
    return target


@pytest.mark.parametrize("cpg", [True, False], ids=["with-cpg", "without-cpg"])
def test_gdal_gbk_shapefiles_with_cut_names(tmp_path: Path, gpkg_store: Store, cpg: bool) -> None:
    layers = district()
    for layer in LAYER_NAMES:
        geojson = export_layer(layers[layer], tmp_path / f"{layer}.geojson", "geojson", layer=layer)
        shp = _gdal_shapefile(geojson, tmp_path / "gdal" / f"{layer}.shp", cpg=cpg)
        report = import_file(gpkg_store, layer, shp)
        assert report.encoding == ("per .cpg" if cpg else "gbk (detected, no .cpg)")
        assert_same_layer(layer, layers[layer], gpkg_store.read(layer))
        if layer == "grids":
            assert report.mapping["party_branch"] == "party_bran"
            assert report.mapping["worker_name"] == "worker_nam"
            assert report.mapping["worker_phone"] == "worker_pho"
        if layer == "households":
            assert report.mapping["center_household"] == "center_hou"


def test_explicit_encoding_wins(tmp_path: Path, gpkg_store: Store) -> None:
    layers = district()
    geojson = export_layer(layers["streets"], tmp_path / "streets.geojson", "geojson", layer="streets")
    shp = _gdal_shapefile(geojson, tmp_path / "gdal" / "streets.shp", cpg=False)
    report = import_file(gpkg_store, "streets", shp, encoding="GB18030")
    assert report.encoding == "gb18030"
    assert gpkg_store.read("streets")["name"].tolist() == ["紫阳街道"]


def test_wrong_explicit_encoding_is_one_clear_error(tmp_path: Path, gpkg_store: Store) -> None:
    from gridmap.errors import ValidationError

    layers = district()
    geojson = export_layer(layers["streets"], tmp_path / "streets.geojson", "geojson", layer="streets")
    shp = _gdal_shapefile(geojson, tmp_path / "gdal" / "streets.shp", cpg=False)
    with pytest.raises(ValidationError, match="text is not utf-8"):
        import_file(gpkg_store, "streets", shp, encoding="utf-8")
    with pytest.raises(ValidationError, match="unknown encoding 'klingon'"):
        import_file(gpkg_store, "streets", shp, encoding="klingon")
    assert gpkg_store.read("streets").empty


def test_a_cut_name_that_fits_two_fields_is_refused_until_ignored(tmp_path: Path, gpkg_store: Store) -> None:
    from gridmap.errors import ValidationError

    frame = district()["households"].drop(columns=["grid_code"])
    frame = frame.rename(columns={"contact_phone": "contact_xx"})  # 10 characters: cut, but from what?
    frame["contact_"] = "x"  # 8 characters: the start of contact_name and contact_phone
    frame = frame.drop(columns=["building_code"])
    path = tmp_path / "households.geojson"
    frame.to_file(path)
    with pytest.raises(ValidationError) as caught:
        import_file(gpkg_store, "households", path)
    text = str(caught.value)
    assert "contact_" in text and "contact_name / contact_phone" in text and "--ignore contact_" in text
    assert gpkg_store.read("households").empty
    report = import_file(gpkg_store, "households", path, ignore=["contact_", "contact_xx"])
    assert report.ignored["contact_"] == "ignored as asked (--ignore)"
    assert gpkg_store.read("households")["contact_phone"].isna().all()


def test_a_foreign_column_is_still_just_ignored(tmp_path: Path, gpkg_store: Store) -> None:
    frame = district()["streets"].assign(备注="老城区", remark="old town")
    path = tmp_path / "streets.geojson"
    frame.drop(columns=[]).to_file(path)
    report = import_file(gpkg_store, "streets", path)
    assert report.ignored["备注"] == report.ignored["remark"] == "not a field of streets"


def test_gdal_reads_the_export_back_in_the_other_store(tmp_path: Path, store_url: str) -> None:
    """The PostGIS store takes the same GDAL-written GBK files as the GeoPackage."""
    layers = district()
    with open_store(store_url) as opened:
        for layer in ("streets", "communities", "grids"):
            geojson = export_layer(layers[layer], tmp_path / f"{layer}.geojson", "geojson", layer=layer)
            import_file(opened, layer, _gdal_shapefile(geojson, tmp_path / "g" / f"{layer}.shp", cpg=False))
            assert_same_layer(layer, layers[layer], opened.read(layer))


def test_district_fixture_is_what_the_comparisons_assume() -> None:
    layers = district()
    assert pd.isna(layers["households"]["address"].iloc[3]) and pd.isna(layers["speakers"]["power_w"].iloc[1])
    assert layers["grids"]["code"].str.startswith("0").all()
