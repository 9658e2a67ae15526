"""`gridmap export`: layers, subsets, analysis outputs and the --public switch, on a GeoPackage store."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point
from typer.testing import CliRunner

from gridmap.cli import app, main
from gridmap.frames import conform
from gridmap.stores import open_store
from tests.test_export import _district

runner = CliRunner()


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    path = str(tmp_path / "store.gpkg")
    with open_store(path) as store:
        store.replace_many({name: conform(name, frame) for name, frame in _district().items()})
    return path


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_export_a_community_as_a_gbk_shapefile_in_gcj02(store_path: str, tmp_path: Path) -> None:
    out = tmp_path / "hh.zip"
    output = _run(
        "export", "households", "--store", store_path, "--format", "shp", "--out", str(out),
        "--crs", "gcj02", "--community", "C1", "--encoding", "gbk",
    )  # fmt: skip
    written = tmp_path / "hh_gcj02.zip"
    assert "2 features" in output and "GCJ-02" in output
    read = pyogrio.read_dataframe(written, encoding="GBK")
    assert sorted(read["code"]) == ["H1", "H2"]
    assert "幸福路88号3栋2单元301室" in set(read["address"])


def test_public_export_drops_personal_fields_and_worker_names(store_path: str, tmp_path: Path) -> None:
    out = tmp_path / "grids.geojson"
    _run("export", "grids", "--store", store_path, "-o", str(out), "--public")
    read = pyogrio.read_dataframe(out)
    assert not {"worker_name", "worker_phone"} & set(read.columns)
    _run("export", "grids", "--store", store_path, "-o", str(out), "--with-personal")
    assert pyogrio.read_dataframe(out)["worker_phone"].iloc[0] == "13710832669"


def test_personal_fields_stay_out_unless_asked_for(store_path: str, tmp_path: Path) -> None:
    out = tmp_path / "grids.geojson"
    done = _run("export", "grids", "--store", store_path, "-o", str(out))
    assert "personal fields left out: worker_phone (--with-personal writes them)" in done
    read = pyogrio.read_dataframe(out)
    assert "worker_phone" not in read.columns and read["worker_name"].notna().all()
    done = _run("export", "grids", "--store", store_path, "-o", str(out), "--with-personal")
    assert "with personal fields: worker_phone" in done


def test_export_without_out_names_the_file_after_the_layer(
    store_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _run("export", "grids", "--store", store_path)
    assert pyogrio.read_dataframe(tmp_path / "grids.geojson")["code"].tolist() == ["G1", "G2"]
    _run("export", "grids", "--store", store_path, "--format", "shp", "--crs", "gcj02")
    assert (tmp_path / "grids_gcj02.zip").is_file()
    _run("export", "all", "--store", store_path)
    assert (tmp_path / "gridmap.gpkg").is_file()


def test_a_store_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gpkg"
    for command in (["export", "grids"], ["layers"], ["validate"], ["analyze"], ["history"]):
        done = runner.invoke(app, [*command, "--store", str(missing)])
        assert done.exit_code != 0, command
        assert "no gridmap store at" in str(done.exception) + done.output, command
        assert not missing.exists(), command


def test_export_an_analysis_output(store_path: str, tmp_path: Path) -> None:
    out = tmp_path / "coverage.gpkg"
    _run("export", "--what", "grids-coverage", "--store", store_path, "-o", str(out), "--grid", "G2")
    read = pyogrio.read_dataframe(out)
    assert read["code"].tolist() == ["G2"]
    assert {"grade", "speaker_share", "households"} <= set(read.columns)


def test_export_refuses_both_or_neither_layer_and_what(store_path: str, tmp_path: Path) -> None:
    assert (
        runner.invoke(app, ["export", "--store", store_path, "-o", str(tmp_path / "x.gpkg")]).exit_code != 0
    )
    both = ["export", "grids", "--what", "gaps", "--store", store_path, "-o", str(tmp_path / "x.gpkg")]
    assert runner.invoke(app, both).exit_code != 0


def test_export_all_layers_into_one_geopackage(store_path: str, tmp_path: Path) -> None:
    out = tmp_path / "all.gpkg"
    _run("export", "all", "--store", store_path, "-f", "gpkg", "-o", str(out), "--grid", "G1")
    layers = dict(pyogrio.list_layers(out))
    assert set(layers) == {
        "streets",
        "communities",
        "grids",
        "buildings",
        "households",
        "service_points",
        "speakers",
        "roads",
    }
    assert pyogrio.read_dataframe(out, layer="households")["code"].tolist() == ["H1", "H2"]
    refused = runner.invoke(
        app, ["export", "all", "--store", store_path, "-o", str(tmp_path / "all.geojson")]
    )
    assert refused.exit_code != 0


def test_export_proposed_sites(store_path: str, tmp_path: Path) -> None:
    buildings = gpd.GeoDataFrame(
        {"code": ["B1", "B2"], "address": ["幸福路88号3栋", "解放大道105号"]},
        geometry=[Point(114.3012, 30.5512).buffer(0.0002), Point(114.312, 30.556).buffer(0.0002)],
        crs=4326,
    )
    with open_store(store_path) as store:
        store.replace("buildings", conform("buildings", buildings))
    out = tmp_path / "sites.csv"
    _run("export", "--what", "sites-speakers", "--k", "2", "--store", store_path, "-o", str(out))
    read = pyogrio.read_dataframe(out, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO")
    assert 1 <= len(read) <= 2 and {"rank", "gain"} <= set(read.columns)


def test_uncovered_households_carry_their_addresses(store_path: str, tmp_path: Path) -> None:
    out = tmp_path / "uncovered.csv"
    _run("export", "--what", "uncovered", "--store", store_path, "-o", str(out), "--format", "csv")
    exported = gpd.read_file(out)
    with open_store(store_path) as store:
        register = store.read("households").set_index("code")["address"]
    assert len(exported) > 0
    assert exported["address"].tolist() == register.loc[exported["code"]].fillna("").tolist()


@pytest.mark.parametrize(
    ("box", "named"),
    [
        ("114.3,30.5", "bbox must be four or six numbers"),
        ("114.3,30.5,nan,30.6", "bbox must be four or six numbers"),
        ("114.3,30.6,114.4,30.5", "bbox must have minlat ≤ maxlat"),
    ],
)
def test_a_bad_bbox_is_one_error_and_writes_nothing(
    store_path: str,
    tmp_path: Path,
    box: str,
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same rule as `gridmap features` and the API's bbox: one message, exit 1, no file."""
    out = tmp_path / "grids.geojson"
    argv = ["gridmap", "export", "grids", "--bbox", box, "--out", str(out), "--store", store_path]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    _, err = capsys.readouterr()
    assert err.startswith("error: ") and named in " ".join(err.split())
    assert not out.exists()
