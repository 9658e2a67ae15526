"""Bad input: every problem of a file is reported with its row, field and reason, and nothing changes."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gridmap.errors import ValidationError
from gridmap.frames import WGS84
from gridmap.ingest import import_file
from gridmap.stores import Store
from tests.ingest.conftest import BOWTIE, BUILDING, STREET, write_text

Found = list[tuple[int | None, str | None, str]]


def problems(store: Store, layer: str, path: Path, **options: object) -> Found:
    with pytest.raises(ValidationError) as caught:
        import_file(store, layer, path, **options)  # type: ignore[arg-type]
    assert caught.value.source == str(path)
    return [(p.row, p.field, p.reason) for p in caught.value.problems]


def csv(tmp_path: Path, text: str, name: str = "input.csv") -> Path:
    return write_text(tmp_path / name, text)


def test_missing_required_column(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(tmp_path, "名称,wkt\n和平街道,POINT (116.3 39.9)\n")
    found = problems(gpkg_store, "streets", path)
    assert found[0] == (
        None,
        "code",
        "required column is missing (accepted names: code/街道编码/编码/代码/编号/id/ID/Code/CODE)",
    )


def test_empty_required_values_and_duplicate_codes(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(tmp_path, "code,lon,lat\nH1,116.31,39.91\n,116.32,39.92\nH1,116.33,39.93\n")
    assert problems(gpkg_store, "households", path) == [
        (2, "code", "required value is empty"),
        (3, "code", "duplicate code 'H1' (first in row 1)"),
    ]


def test_bad_values_name_their_column(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(
        tmp_path, "编码,经度,纬度,状态,半径,功率\nP1,116.31,39.91,坏了,-5,大\nP2,116.32,39.92,故障,100,20\n"
    )
    assert problems(gpkg_store, "speakers", path) == [
        (1, "radius_m", "negative radius_m -5 (column 半径)"),
        (1, "status", "'坏了' is not one of working (正常/在用), broken (损坏/故障) (column 状态)"),
        (1, "power_w", "'大' is not a number (column 功率)"),
    ]


def test_integer_and_boolean_fields(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(tmp_path, "code,lon,lat,size,党员户\nH1,116.31,39.91,五,是\nH2,116.32,39.92,2.5,maybe\n")
    assert problems(gpkg_store, "households", path) == [
        (1, "size", "'五' is not an integer"),
        (2, "size", "'2.5' is not an integer (--fix rounds it half up)"),
        (2, "party_member", "'maybe' is not yes/no (是/否, Y/N, 1/0, true/false) (column 党员户)"),
    ]


def test_values_are_normalised(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(
        tmp_path,
        "code,lon,lat,党员户,中心户\nH1,116.31,39.91,是,N\nH2,116.32,39.92,false,1\nH3,116.33,39.93,Ｙ,否\n",
    )
    import_file(gpkg_store, "households", path)
    got = gpkg_store.read("households")
    assert list(got["party_member"]) == [True, False, True]
    assert list(got["center_household"]) == [False, True, False]


CHINA_TEXT = "China's extent (lon 73–136, lat 3–54; GRIDMAP_SERVICE_AREA sets another area)"


def test_coordinates_swapped_outside_china_or_not_lonlat(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(
        tmp_path, "code,lon,lat\nP1,39.91,116.31\nP2,2.35,48.85\nP3,500000,4400000\nP4,x,39.9\nP5,116.3,\n"
    )
    assert problems(gpkg_store, "service_points", path) == [
        (
            1,
            "geometry",
            f"lon/lat look swapped: (39.91, 116.31) is outside {CHINA_TEXT}",
        ),
        (2, "geometry", f"coordinates (2.35, 48.85) are outside {CHINA_TEXT}"),
        (
            3,
            "geometry",
            "coordinates (500000, 4.4e+06) are not lon/lat (outside ±180/±90): "
            "projected data needs --crs EPSG:<code>",
        ),
        (4, "geometry", "'x' is not a number (column lon)"),
        (5, "geometry", "lon is given but lat is empty"),
    ]


def test_projected_crs_that_does_not_fit(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(tmp_path, "code,x,y\nP1,116.31,39.91\n")
    found = problems(gpkg_store, "service_points", path, crs="EPSG:4547")
    assert found == [
        (
            1,
            "geometry",
            "coordinates (116.31, 39.91) in EPSG:4547 land at (109.5141, 0.0004), outside "
            f"{CHINA_TEXT}: is the CRS right?",
        )
    ]


def test_geometry_type_empty_and_unreadable(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(
        tmp_path,
        "code,name,wkt\nS1,a,POINT (116.3 39.9)\nS2,b,POLYGON EMPTY\nS3,c,POLYGON ((1 2\n"
        f'S4,d,"{STREET.wkt}"\nS5,e,\n',
    )
    assert problems(gpkg_store, "streets", path) == [
        (1, "geometry", "expected a Polygon or MultiPolygon, got a Point"),
        (2, "geometry", "empty geometry"),
        (3, "geometry", "'POLYGON ((1 2' is not WKT (column wkt)"),
        (5, "geometry", "no geometry"),
    ]


def test_invalid_polygon_is_refused_then_repaired_with_fix(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(tmp_path, f'code,name,wkt\nS1,和平街道,"{BOWTIE.wkt}"\n')
    assert problems(gpkg_store, "streets", path) == [
        (1, "geometry", "invalid geometry: Self-intersection[116.35 39.95] (repair with --fix)")
    ]
    report = import_file(gpkg_store, "streets", path, fix=True)
    assert [(p.row, p.reason) for p in report.repaired] == [(1, "repaired: Self-intersection[116.35 39.95]")]
    repaired = gpkg_store.read("streets").geometry.iloc[0]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon" and len(repaired.geoms) == 2
    assert repaired.area == pytest.approx(BOWTIE.buffer(0).area + shapely.make_valid(BOWTIE).area / 2)


def test_unknown_parent_codes(tmp_path: Path, with_streets: Store) -> None:
    path = csv(
        tmp_path,
        f'code,name,所属街道,类型,wkt\nC1,和平社区,S1,社区,"{STREET.wkt}"\nC2,前进村,S9,村,"{STREET.wkt}"\n',
    )
    assert problems(with_streets, "communities", path) == [
        (2, "street_code", "unknown street_code 'S9': no such code in streets")
    ]


def test_unknown_parent_in_an_empty_parent_layer_says_so(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(tmp_path, "code,lon,lat,楼栋编码\nH1,116.31,39.91,B1\n")
    assert problems(gpkg_store, "households", path) == [
        (
            1,
            "building_code",
            "unknown building_code 'B1': no such code in buildings (buildings is empty: import it first)",
        )
    ]


def test_households_without_geometry_take_their_buildings_point(tmp_path: Path, gpkg_store: Store) -> None:
    buildings = gpd.GeoDataFrame({"code": ["B1"], "address": ["和平路1号"]}, geometry=[BUILDING], crs=WGS84)
    gpkg_store.replace("buildings", buildings)
    path = csv(tmp_path, "户编码,所属楼栋,地址\nH1,B1,\nH2,,和平路 １号\nH3,,幸福路9号\n")
    assert problems(gpkg_store, "households", path) == [
        (3, "geometry", "no geometry, and no building matches its building_code or address")
    ]
    path = csv(tmp_path, "户编码,所属楼栋,地址\nH1,B1,\nH2,,和平路 １号\n", name="ok.csv")
    report = import_file(gpkg_store, "households", path)
    assert report.placed_at_building == 2
    point = BUILDING.point_on_surface()
    assert all(g.equals(point) for g in gpkg_store.read("households").geometry)


def test_failed_import_changes_nothing(tmp_path: Path, store: Store) -> None:
    good = csv(tmp_path, f'code,name,wkt\nS1,和平街道,"{STREET.wkt}"\n', name="good.csv")
    import_file(store, "streets", good)
    before = store.read("streets")
    bad = csv(tmp_path, f'code,name,wkt\nS2,幸福镇,"{STREET.wkt}"\nS3,,"{BOWTIE.wkt}"\n', name="bad.csv")
    for mode in ("replace", "append"):
        found = problems(store, "streets", bad, mode=mode)
        assert [(row, field) for row, field, _ in found] == [(2, "name"), (2, "geometry")]
        assert store.read("streets").equals(before)


def test_append_updates_existing_codes_and_inserts_new_ones(tmp_path: Path, store: Store) -> None:
    first = csv(tmp_path, "code,name,lon,lat\nP1,旧名,116.31,39.91\nP2,二号,116.32,39.92\n", name="first.csv")
    import_file(store, "service_points", first)
    second = csv(
        tmp_path, "code,name,lon,lat\nP1,新名,116.31,39.91\nP3,三号,116.33,39.93\n", name="second.csv"
    )
    report = import_file(store, "service_points", second, mode="append")
    assert (report.written, report.inserted, report.updated) == (2, 1, 1)
    got = store.read("service_points")
    assert list(got["code"]) == ["P1", "P2", "P3"]
    assert list(got["name"]) == ["新名", "二号", "三号"]


def test_every_problem_of_a_large_file_is_reported(tmp_path: Path, gpkg_store: Store) -> None:
    rows = "".join(f"H{i},116.3,{'' if i % 2 else '39.9'}\n" for i in range(1000))
    path = csv(tmp_path, "code,lon,lat\n" + rows)
    with pytest.raises(ValidationError) as caught:
        import_file(gpkg_store, "households", path)
    assert len(caught.value.problems) == 500
    assert caught.value.problems[0].code == "H1"
    assert "… and 450 more" in str(caught.value)


def test_table_without_geometry_columns(tmp_path: Path, gpkg_store: Store) -> None:
    path = csv(tmp_path, "code,lon\nP1,116.3\nP2,116.4\n")
    assert problems(gpkg_store, "service_points", path) == [
        (
            None,
            "geometry",
            "no geometry columns: expected lon/lat (经度/纬度, lon/lng/longitude/x, lat/latitude/y) "
            "or WKT (wkt/geometry/几何)",
        )
    ]
