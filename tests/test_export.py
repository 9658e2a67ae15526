"""Exports: every format read back with GDAL (pyogrio) and Debian's ogrinfo, in several CRSs."""

from __future__ import annotations

import sqlite3
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from gridmap.catalogue import LAYERS
from gridmap.crs import to_wgs84
from gridmap.errors import NotFoundError
from gridmap.export import (
    FORMATS,
    ExportError,
    export_layer,
    export_layers,
    geojson_features,
    select_features,
    short_field_names,
)
from gridmap.frames import conform
from gridmap.privacy import Role
from tests.stores.conftest import sample_layers

ANALYSIS_GRID_COLUMNS = [
    "street_code",
    "households",
    "party_members",
    "center_households",
    "speaker_share",
    "service_share",
    "linkage_share",
    "uncovered_households",
    "has_party_branch",
    "has_worker",
    "gap_count",
    "grade",
    "uncovered_area_m2",
    "speaker_covered",
    "service_covered",
    "linked_to",
    "description_zh",
    "description_en",
]


def _square(x: float, y: float, size: float = 0.004) -> Polygon:
    return Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])


def _households() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "code": ["H1", "H2", "H3"],
            "address": ["幸福路88号3栋2单元301室", "和平街12号1栋101室", "解放大道105号"],
            "building_code": ["B1", "B2", None],
            "size": [3, 1, None],
            "party_member": [True, False, None],
            "contact_name": ["张三丰", "李四", None],
            "contact_phone": ["13812341234", "027-88886666", None],
        },
        geometry=[Point(114.3012345, 30.5512345), Point(114.3056789, 30.5545678), Point(114.312, 30.556)],
        crs=4326,
    )
    return conform("households", frame)


def _grids() -> gpd.GeoDataFrame:
    holed = Polygon(_square(114.30, 30.55).exterior.coords, [_square(114.301, 30.551, 0.001).exterior.coords])
    frame = gpd.GeoDataFrame(
        {
            "code": ["G1", "G2"],
            "name": ["福景社区第1网格", "福景社区第2网格"],
            "community_code": ["C1", "C1"],
            "party_branch": ["第1网格党支部", None],
            "worker_name": ["叶平", "王五"],
            "worker_phone": ["13710832669", "13900001111"],
        },
        geometry=[MultiPolygon([holed]), MultiPolygon([_square(114.304, 30.55), _square(114.31, 30.559)])],
        crs=4326,
    )
    return conform("grids", frame)


FRAMES = {"households": _households, "grids": _grids}


def _read(path: Path, fmt: str, layer: str) -> gpd.GeoDataFrame:
    """Read an export back with GDAL."""
    if fmt == "csv":
        return pyogrio.read_dataframe(path, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO")
    if fmt == "xlsx":
        table = pyogrio.read_dataframe(path, layer=layer)
        return gpd.GeoDataFrame(table, geometry=shapely.from_wkt(table["wkt"].to_numpy()))
    if fmt == "kml":
        return pyogrio.read_dataframe(path)
    return pyogrio.read_dataframe(path)


def _max_error_m(original: gpd.GeoDataFrame, read: gpd.GeoDataFrame, crs: str) -> float:
    """Largest distance (m) between original geometries and the read ones taken back to WGS84.

    The Hausdorff distance ignores vertex order (RFC 7946 rewinds rings); one
    degree is counted as 111.32 km, an upper bound for both axes.
    """
    by_code = read.set_index(read["code"].astype(str)).loc[original["code"].astype(str)]
    back = shapely.transform(
        np.asarray(by_code.geometry.values, dtype=object),
        lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs)),
    )
    # Long edges may gain vertices where their image curves by more than a millimetre; none are lost.
    assert (
        shapely.get_num_coordinates(back).sum() >= shapely.get_num_coordinates(original.geometry.values).sum()
    )
    return (
        float(np.max(shapely.hausdorff_distance(np.asarray(original.geometry.values, dtype=object), back)))
        * 111_320
    )


def _ogrinfo(path: Path, fmt: str, *args: str) -> str:
    source = f"/vsizip/{path}" if fmt == "shp" else str(path)
    done = subprocess.run(
        ["ogrinfo", "-ro", "-al", *args, source], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09", "cgcs2000", "EPSG:4547"])
@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("layer", ["households", "grids"])
def test_round_trip_every_format(tmp_path: Path, layer: str, fmt: str, crs: str) -> None:
    original = FRAMES[layer]()
    if fmt == "kml" and crs == "EPSG:4547":
        with pytest.raises(ExportError, match="KML"):
            export_layer(original, tmp_path / "out.kml", fmt, crs, layer=layer)
        return
    # Canonical headers: GDAL reads the file back as scripts would (the Chinese workbook round trip
    # through the importer is tests/ingest/test_round_trip.py's).
    target = tmp_path / f"{layer}{FORMATS[fmt].suffix}"
    path = export_layer(original, target, fmt, crs, layer=layer, headers="canonical")
    assert path.exists()
    if crs in ("gcj02", "bd09"):
        assert crs in path.name
    read = _read(path, fmt, layer)
    assert len(read) == len(original)
    assert sorted(read["code"].astype(str)) == sorted(original["code"])
    text_column = "address" if layer == "households" else "name"
    if fmt == "kml" and text_column == "name":
        text_column = "Name"  # the placemark name; LIBKML renames the ExtendedData field
    codes = read.set_index(read["code"].astype(str))
    expected = original["address" if layer == "households" else "name"]
    for code, text in zip(original["code"], expected, strict=True):
        assert codes.loc[code, text_column] == text
    assert _max_error_m(original, read, crs) < 0.01
    if crs not in ("wgs84", "EPSG:4547"):
        return
    # Debian's GDAL reads every format too, with every feature and the Chinese text intact.
    summary = _ogrinfo(path, fmt, "-so")
    assert f"Feature Count: {len(original)}" in summary
    assert expected.iloc[0] in _ogrinfo(path, fmt)


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "fgb", "geojson"])
def test_output_crs_is_recorded(tmp_path: Path, fmt: str) -> None:
    path = export_layer(_grids(), tmp_path / f"grids{FORMATS[fmt].suffix}", fmt, "EPSG:4547", layer="grids")
    assert pyogrio.read_info(path)["crs"] == "EPSG:4547"
    if fmt == "shp":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            assert {"grids.shp", "grids.shx", "grids.dbf", "grids.prj", "grids.cpg", "README.txt"} <= set(
                names
            )
            assert "CGCS2000_3_Degree_GK_CM_114E" in archive.read("grids.prj").decode()
            assert archive.read("grids.cpg").decode().strip().upper() in ("UTF-8", "UTF8")


def test_cgcs2000_is_recorded_as_epsg_4490(tmp_path: Path) -> None:
    path = export_layer(_grids(), tmp_path / "grids.gpkg", "gpkg", "cgcs2000", layer="grids")
    assert pyogrio.read_info(path)["crs"] == "EPSG:4490"


def test_offset_systems_are_noted_in_metadata_and_name(tmp_path: Path) -> None:
    gpkg = export_layer(_grids(), tmp_path / "grids.gpkg", "gpkg", "gcj02", layer="grids")
    assert gpkg.name == "grids_gcj02.gpkg"
    with sqlite3.connect(gpkg) as conn:
        identifier, description = conn.execute("SELECT identifier, description FROM gpkg_contents").fetchone()
    assert "网格" in identifier and "GCJ-02" in description
    geojson = export_layer(_grids(), tmp_path / "grids.geojson", "geojson", "bd09", layer="grids")
    assert geojson.name == "grids_bd09.geojson" and "BD-09" in geojson.read_text(encoding="utf-8")
    shp = export_layer(_grids(), tmp_path / "grids_gcj02.zip", "shp", "gcj02", layer="grids")
    assert shp.name == "grids_gcj02.zip"
    with zipfile.ZipFile(shp) as archive:
        assert "GCJ-02" in archive.read("README.txt").decode()
    kml = export_layer(_grids(), tmp_path / "grids.kml", "kml", "gcj02", layer="grids")
    assert "GCJ-02" in kml.read_text(encoding="utf-8")


def test_gbk_shapefile(tmp_path: Path) -> None:
    path = export_layer(_households(), tmp_path / "households.zip", "shp", layer="households", encoding="gbk")
    with zipfile.ZipFile(path) as archive:
        assert archive.read("households.cpg").decode().strip() == "GBK"
        assert "幸福路88号".encode("gbk") in archive.read("households.dbf")
    read = pyogrio.read_dataframe(path, encoding="GBK")
    assert sorted(read["address"]) == sorted(_households()["address"])


def test_shapefile_field_names_are_short_and_mapped(tmp_path: Path) -> None:
    path = export_layer(_households(), tmp_path / "households.zip", "shp", layer="households")
    read = pyogrio.read_dataframe(path)
    assert all(len(c) <= 10 for c in read.columns)
    assert {"cntr_hshld", "prty_mmbr", "cntct_phn", "bldng_cd"} <= set(read.columns)
    with zipfile.ZipFile(path) as archive:
        readme = archive.read("README.txt").decode()
    assert "cntr_hshld ← center_household  党员中心户" in readme


def test_short_field_names_have_no_collisions_on_the_full_schema() -> None:
    every = sorted({f for layer in LAYERS.values() for f in layer.field_names} | set(ANALYSIS_GRID_COLUMNS))
    short = short_field_names(every)
    assert all(len(s) <= 10 for s in short.values())
    assert len({s.lower() for s in short.values()}) == len(every)
    for layer in LAYERS.values():
        names = short_field_names([*layer.field_names, *ANALYSIS_GRID_COLUMNS])
        assert len({s.lower() for s in names.values()}) == len(names)
    assert short["center_household"] == "cntr_hshld"
    assert short["center_households"] == "cntrhshlds"
    assert short["code"] == "code"


def test_short_field_names_number_what_would_collide() -> None:
    assert short_field_names(["speaker_share_a", "speaker_share_b", "spkrshrb"]) == {
        "speaker_share_a": "spkr_shr_a",
        "speaker_share_b": "spkr_shr_b",
        "spkrshrb": "spkrshrb",
    }
    assert short_field_names(["party_member_count", "party_member_counts"]) == {
        "party_member_count": "prtymmbrcn",
        "party_member_counts": "prtymmbr_2",
    }


def test_kml_names_descriptions_and_styles_in_chinese(tmp_path: Path) -> None:
    grids = _grids()
    grids["grade"] = ["A", "D"]
    path = export_layer(grids, tmp_path / "grids.kml", "kml", layer="grids")
    text = path.read_text(encoding="utf-8")
    assert "<name>福景社区第1网格</name>" in text
    assert "<th>网格党支部</th><td>第1网格党支部</td>" in text
    assert "#c8000a000" in text and "#c800000e0" in text  # grade A green, grade D red
    assert "<innerBoundaryIs>" in text
    read = pyogrio.read_dataframe(path)
    assert read["Name"].tolist() == ["福景社区第1网格", "福景社区第2网格"]


def test_csv_lonlat_and_gbk(tmp_path: Path) -> None:
    path = export_layer(_households(), tmp_path / "h.csv", "csv", layer="households", csv_geometry="lonlat")
    read = pyogrio.read_dataframe(
        path, X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat", KEEP_GEOM_COLUMNS="NO"
    )
    assert read.geometry.iloc[0].x == pytest.approx(114.3012345, abs=1e-9)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    gbk = export_layer(_households(), tmp_path / "g.csv", "csv", layer="households", encoding="gbk")
    assert "幸福路88号".encode("gbk") in gbk.read_bytes()
    projected = export_layer(_grids(), tmp_path / "p.csv", "csv", "EPSG:4547", csv_geometry="lonlat")
    header = projected.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.endswith(",x,y")


def test_xlsx_has_a_field_sheet_in_chinese(tmp_path: Path) -> None:
    path = export_layer(_households(), tmp_path / "h.xlsx", "xlsx", layer="households")
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["households", "说明"]
    fields = pyogrio.read_dataframe(path, layer="说明")
    assert dict(zip(fields["field"], fields["label_zh"], strict=True))["contact_phone"] == "联系电话"


def test_xlsx_refuses_more_rows_than_excel_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gridmap.export.XLSX_MAX_ROWS", 2)
    with pytest.raises(ExportError, match="Excel"):
        export_layer(_households(), tmp_path / "h.xlsx", "xlsx")


@pytest.mark.parametrize(
    ("role", "name", "phone"),
    [
        (Role.ADMIN, "张三丰", "13812341234"),
        (Role.VIEWER, "张**", "138****1234"),
        (Role.ANONYMOUS, None, None),
    ],
)
def test_personal_fields_follow_the_role(
    tmp_path: Path, role: Role, name: str | None, phone: str | None
) -> None:
    path = export_layer(_households(), tmp_path / "h.geojson", "geojson", layer="households", role=role)
    read = pyogrio.read_dataframe(path)
    if name is None:
        assert not {"contact_name", "contact_phone"} & set(read.columns)
    else:
        assert (read["contact_name"].iloc[0], read["contact_phone"].iloc[0]) == (name, phone)


def test_any_frame_exports_and_is_protected_by_every_layers_personal_fields(tmp_path: Path) -> None:
    grids = _grids()
    grids["grade"] = ["A", "B"]
    grids["speaker_share"] = [0.9, 0.5]
    path = export_layer(grids, tmp_path / "coverage.gpkg", role=Role.ANONYMOUS)
    read = pyogrio.read_dataframe(path)
    assert {"grade", "speaker_share"} <= set(read.columns)
    assert not {"worker_name", "worker_phone"} & set(read.columns)
    assert pyogrio.list_layers(path)[0, 0] == "coverage"


def test_unknown_format_and_frame_without_crs(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="geojson, gpkg"):
        export_layer(_grids(), tmp_path / "x.dxf", "dxf")
    with pytest.raises(ExportError, match="cannot tell"):
        export_layer(_grids(), tmp_path / "x.dxf")
    with pytest.raises(ExportError, match="no CRS"):
        export_layer(_grids().set_crs(None, allow_override=True), tmp_path / "x.gpkg")


def test_several_layers_in_one_geopackage(tmp_path: Path) -> None:
    path = export_layers({"grids": _grids(), "households": _households()}, tmp_path / "all.gpkg", "gcj02")
    assert path.name == "all_gcj02.gpkg"
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["grids", "households"]


def _district() -> dict[str, gpd.GeoDataFrame]:
    streets = gpd.GeoDataFrame(
        {"code": ["S1"], "name": ["中南路街道"]},
        geometry=[MultiPolygon([_square(114.29, 30.54, 0.04)])],
        crs=4326,
    )
    communities = gpd.GeoDataFrame(
        {"code": ["C1", "C2"], "name": ["福景社区", "和平社区"], "street_code": ["S1", "S1"]},
        geometry=[
            MultiPolygon([_square(114.30, 30.55, 0.009)]),
            MultiPolygon([_square(114.31, 30.55, 0.009)]),
        ],
        crs=4326,
    )
    grids = _grids()
    grids["geometry"] = [
        MultiPolygon([_square(114.30, 30.55, 0.009)]),
        MultiPolygon([_square(114.31, 30.55, 0.009)]),
    ]
    grids["community_code"] = ["C1", "C2"]
    return {"streets": streets, "communities": communities, "grids": grids, "households": _households()}


def test_select_features_by_community_grid_and_bbox(store) -> None:
    store.replace_many({name: conform(name, frame) for name, frame in _district().items()})
    assert select_features(store, "households", community="C1")["code"].tolist() == ["H1", "H2"]
    assert select_features(store, "households", grid="G2")["code"].tolist() == ["H3"]
    assert select_features(store, "grids", community="C2")["code"].tolist() == ["G2"]
    assert select_features(store, "communities", grid="G1")["code"].tolist() == ["C1"]
    assert select_features(store, "streets", community="C2")["code"].tolist() == ["S1"]
    bbox = (114.300, 30.550, 114.302, 30.552)
    assert select_features(store, "households", bbox=bbox)["code"].tolist() == ["H1"]
    assert select_features(store, "households", community="C2", bbox=bbox).empty
    with pytest.raises(NotFoundError, match="X9"):
        select_features(store, "households", grid="X9")


def test_kml_written_in_chunks_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = export_layer(_households(), tmp_path / "whole.kml", "kml", layer="households").read_text()
    monkeypatch.setattr("gridmap.export._KML_CHUNK", 2)
    chunked = export_layer(_households(), tmp_path / "chunked.kml", "kml", layer="households").read_text()
    assert chunked == whole and whole.count("<Placemark>") == 3


@pytest.mark.parametrize("layer", sorted(sample_layers()))
def test_geojson_features_equal_geopandas_own_features(layer: str) -> None:
    """Built column by column, the features are geopandas' `to_geo_dict` ones, value and type alike."""
    frame = conform(layer, sample_layers()[layer])
    frame.loc[0, "geometry"] = None  # a feature without geometry has a null one
    expected = frame.to_geo_dict(na="null", drop_id=True)["features"]
    for feature in expected:
        feature["id"] = feature["properties"]["code"]
    got = geojson_features(frame)
    assert got == expected
    assert got[0]["geometry"] is None and [list(f) for f in got] == [list(f) for f in expected]
    for mine, theirs in zip(got, expected, strict=True):
        values = zip(mine["properties"].values(), theirs["properties"].values(), strict=True)
        assert all(type(a) is type(b) for a, b in values)
