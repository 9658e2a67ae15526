"""Every GeoPackage gridmap writes opens cleanly in Debian 12's GDAL 3.6 and passes its validate_gpkg.py.

GDAL's own default (GeoPackage 1.4) makes GDAL 3.6 and QGIS 3.22 warn "may only
be partially supported" on every open, and GDAL 3.6's validator fails 1.4's
R-tree triggers; gridmap writes 1.3. The checks run the system's `ogrinfo`
and validate_gpkg.py (python3-gdal) and, always, read the file's version and
R-tree triggers with SQLite.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from shapely.geometry import Point

from gridmap.export import export_layer, export_layers
from gridmap.frames import conform
from gridmap.sample import load_sample
from gridmap.stores import gpkg_version, open_store
from gridmap.stores.geopackage import BOOK_TABLES
from tests.stores.conftest import sample_layers
from tests.stores.test_cases import CASE, EVENT
from tests.stores.test_geopackage_attributes import NOW, ORG, UNIT, old_book_tables
from tests.test_export import _district

VALIDATOR = next(
    (
        p
        for p in (
            Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"),
            Path("/usr/share/doc/python3-gdal/examples/validate_gpkg.py"),
        )
        if p.exists()
    ),
    None,
)
SYSTEM_PYTHON = "/usr/bin/python3"  # the one python3-gdal installs osgeo for
GPKG_1_3 = 10300
RTREE_TRIGGERS = ("insert", "update1", "update2", "update3", "update4", "delete")


def check_geopackage(path: Path) -> None:
    """Version 1.3, the R-tree triggers GDAL 3.6 requires, attributes tables keyed by an integer, no
    warning on open, the validator passes."""
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == GPKG_1_3
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        tables = conn.execute(
            "SELECT table_name, column_name FROM gpkg_geometry_columns ORDER BY table_name"
        ).fetchall()
        triggers = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        indexed = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'"
            )
        }
        attributes = {
            name: [(row[2].upper(), row[5]) for row in conn.execute(f'PRAGMA table_info("{name}")')]
            for (name,) in conn.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'attributes'")
        }
    assert tables
    for table in attributes:  # GeoPackage requirement 119: keyed by one INTEGER column
        assert [kind for kind, key in attributes[table] if key] == ["INTEGER"], table
    for table, column in tables:
        assert table in indexed, table
        for kind in RTREE_TRIGGERS:
            assert f"rtree_{table}_{column}_{kind}" in triggers, (table, kind)
    if shutil.which("ogrinfo"):
        opened = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True)
        assert opened.returncode == 0, opened.stderr
        assert "Warning" not in opened.stderr + opened.stdout, opened.stderr
    if VALIDATOR is not None and Path(SYSTEM_PYTHON).exists():
        validated = subprocess.run([SYSTEM_PYTHON, str(VALIDATOR), str(path)], capture_output=True, text=True)
        assert validated.returncode == 0, validated.stdout + validated.stderr


def test_every_layer_exported_as_a_geopackage_is_valid(tmp_path: Path) -> None:
    frames = {name: conform(name, frame) for name, frame in _district().items()}
    for name, frame in frames.items():
        check_geopackage(export_layer(frame, tmp_path / f"{name}.gpkg", "gpkg", layer=name))
    check_geopackage(
        export_layer(frames["grids"], tmp_path / "grids_gcj02.gpkg", "gpkg", "gcj02", layer="grids")
    )
    check_geopackage(export_layers(frames, tmp_path / "gridmap.gpkg"))


def test_the_store_itself_is_a_geopackage_1_3_every_tool_opens(tmp_path: Path) -> None:
    """QGIS and GDAL open the store file itself (Editing in QGIS): no warning, a valid GeoPackage."""
    path = tmp_path / "store.gpkg"
    with open_store(str(path)) as store:
        load_sample(store)
    check_geopackage(path)


def test_an_older_store_stops_registering_its_metadata_table(tmp_path: Path) -> None:
    """Files made before registered `gridmap_meta` as an attributes table with a TEXT key (Req 119)."""
    path = tmp_path / "store.gpkg"
    open_store(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) "
            "VALUES ('gridmap_meta', 'attributes', 'gridmap_meta')"
        )
    with open_store(str(path)) as store:
        assert store.counts()["grids"] == 0
    with sqlite3.connect(path) as conn:
        registered = conn.execute("SELECT 1 FROM gpkg_contents WHERE table_name = 'gridmap_meta'").fetchone()
    assert registered is None
    check_geopackage(path)


@pytest.mark.skipif(VALIDATOR is None, reason="python3-gdal's validate_gpkg.py is not installed")
def test_the_validator_refuses_a_geopackage_1_4(tmp_path: Path) -> None:
    """The check above is not vacuous: GDAL's default output fails it."""
    frame = conform("grids", _district()["grids"])
    pyogrio.write_dataframe(frame, tmp_path / "default.gpkg", layer="grids", driver="GPKG")
    with pytest.raises(AssertionError):
        check_geopackage(tmp_path / "default.gpkg")


def test_a_store_with_cases_care_and_party_registers_is_valid(tmp_path: Path) -> None:
    """Every book table is registered as an attributes table (QGIS lists them) and passes requirement 119."""
    path = tmp_path / "store.gpkg"
    with open_store(str(path)) as store:
        load_sample(store)
        assert store.case_book().insert(CASE, EVENT)
        store.visit_book().set_care("H1", ["elderly", "disabled"], "a", NOW)
        store.visit_book().claim_case_key("k1", NOW, dt.timedelta(hours=1))
        store.party_book().save_org(ORG, None)
        store.party_book().upsert("party_units", UNIT)
        store.party_book().upsert("party_links", {"household_code": "H2", "center_code": "H1"})
    with sqlite3.connect(path) as conn:
        registered = {row[0] for row in conn.execute("SELECT table_name FROM gpkg_contents")}
    assert set(BOOK_TABLES) <= registered
    check_geopackage(path)


def _gdal_default_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the store write GeoPackages as gridmap did before: GDAL's default version (1.4), kept."""
    write = pyogrio.write_dataframe

    def as_before(*args: Any, dataset_options: dict[str, str] | None = None, **kwargs: Any) -> None:
        write(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", as_before)
    monkeypatch.setattr(gpkg_version, "is_1_4", lambda conn: False)


def _rtree_boxes(path: Path, layer: str) -> dict[str, tuple[float, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            f'SELECT t.code, r.minx, r.maxx, r.miny, r.maxy FROM "{layer}" t '
            f'JOIN "rtree_{layer}_geom" r ON r.id = t.fid'
        ).fetchall()
    return {code: tuple(box) for code, *box in rows}


def test_a_store_gridmap_wrote_as_1_4_becomes_1_3_and_keeps_its_spatial_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.gpkg"
    with monkeypatch.context() as before:
        _gdal_default_version(before)
        with open_store(str(path)) as store:
            store.replace_many(sample_layers())
    old_book_tables(path)
    with sqlite3.connect(path) as conn:  # the old file, as the test means it
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10400
        assert conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'rtree_households_geom_update6'"
        ).fetchone()
    with open_store(str(path)) as store:
        history = store.history()
        moved = store.read("households", codes=["H1"])
        moved["geometry"] = [Point(116.45, 39.85)]
        store.upsert("households", moved)
        store.delete("households", ["H4"])
        near_old = store.read("households", bbox=(116.3204, 39.9204, 116.3207, 39.9207))["code"].tolist()
        near_new = store.read("households", bbox=(116.449, 39.849, 116.451, 39.851))["code"].tolist()
        near_deleted = store.read("households", bbox=(116.36, 39.95, 116.37, 39.96))["code"].tolist()
        assert len(store.history()) == len(history) + 2
        assert store.case_book().get("C1") is not None
    assert (near_old, near_new, near_deleted) == (["H3"], ["H1"], [])
    gdal = pyogrio.read_dataframe(path, layer="households", bbox=(116.449, 39.849, 116.451, 39.851))
    assert gdal["code"].tolist() == ["H1"]  # GDAL's own spatial filter reads the same R-tree
    boxes = _rtree_boxes(path, "households")
    assert sorted(boxes) == ["H1", "H2", "H3"]
    minx, maxx, miny, maxy = boxes["H1"]  # 32-bit floats rounded outwards
    assert minx <= 116.45 <= maxx and miny <= 39.85 <= maxy and maxx - minx < 1e-4 and maxy - miny < 1e-4
    check_geopackage(path)


@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="the system's GDAL is not installed")
def test_the_converted_triggers_are_those_the_systems_gdal_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian 12's GDAL (3.6) writes a 1.3 layer's R-tree triggers: the converted file has the same text."""
    path = tmp_path / "store.gpkg"
    with monkeypatch.context() as before:
        _gdal_default_version(before)
        open_store(str(path)).close()
    open_store(str(path)).close()
    source = tmp_path / "grids.geojson"
    source.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "G1"}, '
        '"geometry": {"type": "Point", "coordinates": [116.3, 39.9]}}]}'
    )
    reference = tmp_path / "reference.gpkg"
    made = subprocess.run(
        ["ogr2ogr", "-f", "GPKG", "-dsco", "VERSION=1.3", "-nln", "grids", str(reference), str(source)],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr

    def rtree_triggers(file: Path) -> list[tuple[str, str]]:
        with sqlite3.connect(file) as conn:
            return conn.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND name LIKE 'rtree_grids_geom_%' ORDER BY name"
            ).fetchall()

    assert len(rtree_triggers(reference)) == len(RTREE_TRIGGERS)
    assert rtree_triggers(path) == rtree_triggers(reference)
