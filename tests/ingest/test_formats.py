"""Every accepted file format lands the same features in the store."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import Workbook

from gridmap.errors import CRSError, ValidationError
from gridmap.ingest import import_file, readers
from gridmap.stores import Store
from tests.ingest.conftest import BUILDING, STREET, households_frame, streets_frame, write_text


def _short_names() -> gpd.GeoDataFrame:
    """Streets with names short enough for a UTF-8 dBase header (10 bytes, 3 per Chinese character)."""
    return streets_frame().rename(columns={"街道编码": "编码"})


def _assert_streets(store: Store) -> None:
    got = store.read("streets")
    assert list(got["code"]) == ["S1", "S2"]
    assert list(got["name"]) == ["和平街道", "幸福镇"]
    assert set(got.geom_type) == {"MultiPolygon"}
    assert got.geometry.iloc[0].equals(shapely.MultiPolygon([STREET]))


def test_geojson_polygons_are_promoted_to_multipolygons(tmp_path: Path, gpkg_store: Store) -> None:
    path = tmp_path / "streets.geojson"
    streets_frame().to_file(path, driver="GeoJSON")
    report = import_file(gpkg_store, "streets", path)
    _assert_streets(gpkg_store)
    assert report.format == "geojson"
    assert report.mapping == {"code": "街道编码", "name": "名称"}
    assert report.written == 2


def test_geopackage_layer_named_like_the_target_is_picked(tmp_path: Path, gpkg_store: Store) -> None:
    path = tmp_path / "district.gpkg"
    households_frame().to_file(path, layer="households")
    streets_frame().to_file(path, layer="街道")
    report = import_file(gpkg_store, "streets", path)
    assert report.source_layer == "街道"
    _assert_streets(gpkg_store)


def test_geopackage_with_unrelated_layers_needs_source_layer(tmp_path: Path, gpkg_store: Store) -> None:
    path = tmp_path / "district.gpkg"
    streets_frame().to_file(path, layer="a")
    streets_frame().to_file(path, layer="b")
    with pytest.raises(ValidationError) as caught:
        import_file(gpkg_store, "streets", path)
    assert "choose one with --source-layer" in caught.value.problems[0].reason
    import_file(gpkg_store, "streets", path, source_layer="b")
    _assert_streets(gpkg_store)


def test_shapefile_prj_is_honoured(tmp_path: Path, gpkg_store: Store) -> None:
    path = tmp_path / "streets.shp"
    _short_names().to_crs("EPSG:4547").to_file(path, encoding="utf-8")
    report = import_file(gpkg_store, "streets", path)
    assert report.crs == "EPSG:4547"
    got = gpkg_store.read("streets").geometry.iloc[0]
    # The file's straight metric edges are followed into lon/lat: a 10 km edge bows 1.2 m off the lon/lat one.
    assert shapely.hausdorff_distance(got.geoms[0], STREET) < 2e-5


def _zip(folder: Path, stem: str) -> Path:
    """The shapefile's parts zipped inside a folder, as exported by desktop GIS."""
    archive = folder / f"{stem}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.glob(f"{stem}.*"):
            if part != archive:
                zf.write(part, f"export/{part.name}")
    return archive


def test_zipped_shapefile(tmp_path: Path, gpkg_store: Store) -> None:
    _short_names().to_file(tmp_path / "streets.shp", encoding="utf-8")
    report = import_file(gpkg_store, "streets", _zip(tmp_path, "streets"))
    assert report.format == "shp"
    assert report.encoding == "per .cpg"
    _assert_streets(gpkg_store)


@pytest.mark.parametrize("zipped", [False, True], ids=["shp", "zip"])
@pytest.mark.parametrize("cpg", [True, False], ids=["with-cpg", "without-cpg"])
def test_gbk_shapefile(tmp_path: Path, gpkg_store: Store, cpg: bool, zipped: bool) -> None:
    path = tmp_path / "streets.shp"
    streets_frame().to_file(path, encoding="gbk")
    if not cpg:
        (tmp_path / "streets.cpg").unlink()
    report = import_file(gpkg_store, "streets", _zip(tmp_path, "streets") if zipped else path)
    assert report.encoding == ("per .cpg" if cpg else "gbk (detected, no .cpg)")
    assert report.mapping == {"code": "街道编码", "name": "名称"}
    _assert_streets(gpkg_store)


def test_kml(tmp_path: Path, gpkg_store: Store) -> None:
    path = tmp_path / "streets.kml"
    frame = streets_frame().rename(columns={"名称": "Name"})
    pyogrio.write_dataframe(frame, path, driver="KML")
    report = import_file(gpkg_store, "streets", path)
    assert report.format == "kml"
    assert report.mapping == {"code": "街道编码", "name": "Name"}
    _assert_streets(gpkg_store)


def test_csv_lon_lat(tmp_path: Path, gpkg_store: Store) -> None:
    path = write_text(
        tmp_path / "hh.csv", "code,lng,latitude,size\nH1,116.3205,39.9205,3\nH2,116.33,39.93,\n"
    )
    report = import_file(gpkg_store, "households", path)
    got = gpkg_store.read("households")
    assert report.geometry_columns == {"lon": "lng", "lat": "latitude"}
    assert list(got["size"]) == [3, 1]  # an empty cell takes the catalogue default
    assert got.geometry.iloc[0].equals(shapely.Point(116.3205, 39.9205))


def test_csv_wkt_with_bom(tmp_path: Path, gpkg_store: Store) -> None:
    rows = "".join(
        f'{c},{n},"{g.wkt}"\n'
        for c, n, g in zip(["S1", "S2"], ["和平街道", "幸福镇"], streets_frame().geometry, strict=True)
    )
    path = write_text(tmp_path / "streets.csv", "编码,名称,几何\n" + rows, encoding="utf-8-sig")
    report = import_file(gpkg_store, "streets", path)
    assert report.encoding == "utf-8"
    assert report.geometry_columns == {"wkt": "几何"}
    _assert_streets(gpkg_store)


@pytest.mark.parametrize(
    "header", ["户编码,经度,纬度,地址", "code,lon,lat,address"], ids=["chinese", "ascii"]
)
def test_csv_gbk(tmp_path: Path, gpkg_store: Store, header: str) -> None:
    path = write_text(tmp_path / "hh.csv", f"{header}\nH1,116.3205,39.9205,和平路1号\n", encoding="gbk")
    report = import_file(gpkg_store, "households", path)
    assert report.encoding == "gbk (detected)"
    assert gpkg_store.read("households")["address"].iloc[0] == "和平路1号"


def test_xlsx_with_chinese_headers(tmp_path: Path, gpkg_store: Store) -> None:
    path = tmp_path / "speakers.xlsx"
    table = pd.DataFrame(
        {
            "编码": ["007", "008"],
            "名称": ["一号喇叭", "二号喇叭"],
            "经度": [116.33, 116.34],
            "纬度": [39.93, 39.94],
            "状态": ["正常", "故障"],
            "半径": [250, None],
        }
    )
    table.to_excel(path, sheet_name="广播", index=False)
    report = import_file(gpkg_store, "speakers", path)
    got = gpkg_store.read("speakers")
    assert report.source_layer == "广播"
    assert list(got["code"]) == ["007", "008"]  # leading zeros survive
    assert list(got["status"]) == ["working", "broken"]
    assert list(got["radius_m"]) == [250.0, 300.0]


# Tiananmen: WGS84 (116.391275, 39.907335) through the published GCJ-02 and BD-09 formulas.
@pytest.mark.parametrize(
    ("crs", "x", "y"), [("gcj02", 116.39751615, 39.90873626), ("bd09", 116.40388908, 39.91507964)]
)
def test_offset_input_lands_within_a_metre(
    tmp_path: Path, gpkg_store: Store, crs: str, x: float, y: float
) -> None:
    path = write_text(tmp_path / "sp.csv", f"code,lon,lat\nP1,{x},{y}\n")
    report = import_file(gpkg_store, "service_points", path, crs=crs)
    assert report.crs == crs
    point = gpkg_store.read("service_points").geometry.iloc[0]
    metres = gpd.GeoSeries([point, shapely.Point(116.391275, 39.907335)], crs="EPSG:4326").to_crs("EPSG:4548")
    assert metres.iloc[0].distance(metres.iloc[1]) < 1.0


def test_typed_geojson_attributes_and_a_household_without_geometry(tmp_path: Path, gpkg_store: Store) -> None:
    gpkg_store.replace(
        "buildings", gpd.GeoDataFrame({"code": ["1001"]}, geometry=[BUILDING], crs="EPSG:4326")
    )
    path = tmp_path / "hh.geojson"
    frame = gpd.GeoDataFrame(
        {"code": [1, 2], "building_code": [1001, 1001], "size": [3.0, None], "party_member": [True, False]},
        geometry=[shapely.Point(116.3205, 39.9205), None],
        crs="EPSG:4326",
    )
    frame.to_file(path, driver="GeoJSON")
    report = import_file(gpkg_store, "households", path)
    got = gpkg_store.read("households")
    assert report.placed_at_building == 1
    assert list(got["code"]) == ["1", "2"]
    assert list(got["size"]) == [3, 1]
    assert list(got["party_member"]) == [True, False]
    assert got.geometry.iloc[1].equals(BUILDING.point_on_surface())


def test_vector_file_without_crs_needs_one(tmp_path: Path, gpkg_store: Store) -> None:
    path = tmp_path / "streets.shp"
    _short_names().to_file(path, encoding="utf-8")
    (tmp_path / "streets.prj").unlink()
    with pytest.raises(CRSError, match="pass --crs"):
        import_file(gpkg_store, "streets", path)
    import_file(gpkg_store, "streets", path, crs="cgcs2000")
    _assert_streets(gpkg_store)


def test_unsupported_suffix(tmp_path: Path, gpkg_store: Store) -> None:
    path = write_text(tmp_path / "streets.dwg", "")
    with pytest.raises(ValidationError, match=r"unsupported file type '\.dwg'"):
        import_file(gpkg_store, "streets", path)


def test_geopackage_attribute_table_with_lon_lat(tmp_path: Path, gpkg_store: Store) -> None:
    path = tmp_path / "table.gpkg"
    table = pd.DataFrame({"code": ["P1"], "经度": [116.33], "纬度": [39.93]})
    pyogrio.write_dataframe(table, path, layer="service_points")
    report = import_file(gpkg_store, "service_points", path)
    assert report.geometry_columns == {"lon": "经度", "lat": "纬度"}
    assert gpkg_store.read("service_points").geometry.iloc[0].equals(shapely.Point(116.33, 39.93))


def test_csv_quoted_line_break_in_a_value(tmp_path: Path, gpkg_store: Store) -> None:
    path = write_text(tmp_path / "hh.csv", 'code,lon,lat,address\nH1,116.3205,39.9205,"和平路1号\n东门"\n')
    import_file(gpkg_store, "households", path)
    assert gpkg_store.read("households")["address"].iloc[0] == "和平路1号\n东门"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("code,lon,lat\n", "the file holds no rows"),
        ("", "empty file: no header row"),
        (
            "code,lon,lat\nH1,116.3,39.9,extra\n",
            "cannot parse CSV: CSV parse error: Expected 3 columns, got 4",
        ),
    ],
    ids=["header-only", "empty", "ragged"],
)
def test_unreadable_or_empty_csv(tmp_path: Path, gpkg_store: Store, text: str, reason: str) -> None:
    path = write_text(tmp_path / "hh.csv", text)
    with pytest.raises(ValidationError) as caught:
        import_file(gpkg_store, "households", path)
    assert caught.value.problems[0].reason.startswith(reason)


def test_xlsx_title_row_and_trailing_blank_rows(tmp_path: Path, gpkg_store: Store) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["和平社区住户信息表"])
    sheet.merge_cells("A1:D1")
    sheet.append(["户编码", "地址", "经度", "纬度"])
    sheet.append(["H1", "和平路1号", 116.3205, 39.9205])
    sheet.append(["H2", "和平路2号", 116.33, 39.93])
    sheet.append([None, None, None, None])
    sheet["A8"].number_format = "@"  # a formatted but empty cell, as spreadsheets leave behind
    path = tmp_path / "hh.xlsx"
    book.save(path)
    report = import_file(gpkg_store, "households", path)
    assert report.mapping == {"code": "户编码", "address": "地址"}
    assert list(gpkg_store.read("households")["code"]) == ["H1", "H2"]


def test_repeated_header_keeps_both_columns(tmp_path: Path, gpkg_store: Store) -> None:
    path = write_text(
        tmp_path / "hh.csv", "code,address,address,lon,lat\nH1,和平路1号,旧址,116.3205,39.9205\n"
    )
    report = import_file(gpkg_store, "households", path)
    assert report.mapping == {"code": "code", "address": "address"}
    assert report.ignored == {"address (2)": "not a field of households"}


def test_a_workbook_that_would_inflate_absurdly_is_refused_before_reading(
    tmp_path: Path, gpkg_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1.5 MB workbook inflated to 1.84 GB and ran 95 s; its declared sizes tell before inflating."""
    monkeypatch.setattr(readers, "_RATIO_FROM", 1024**2)  # the rule at a test's scale
    path = tmp_path / "households.xlsx"
    book = Workbook()
    book.active.append(["code", "address", "lon", "lat"])
    book.active.append(["H1", "幸福路1号", 114.3, 30.5])
    book.save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (8 * 1024**2))
    with pytest.raises(ValidationError, match=r"inflate from .* refused as a likely zip bomb"):
        import_file(gpkg_store, "households", path)
    assert len(gpkg_store.read("households")) == 0
    monkeypatch.setattr(readers, "_RATIO_FROM", 64 * 1024**2)
    import_file(gpkg_store, "households", path)  # at the real threshold 8 MB is fine
    assert gpkg_store.read("households")["code"].tolist() == ["H1"]
