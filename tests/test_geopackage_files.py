"""Every GeoPackage gridmap writes opens cleanly in Debian 12's GDAL 3.6 and passes its validate_gpkg.py.

GDAL's own default (GeoPackage 1.4) makes GDAL 3.6 and QGIS 3.22 warn "may only
be partially supported" on every open, and GDAL 3.6's validator fails 1.4's
R-tree triggers; gridmap writes 1.3. The checks run the system's `ogrinfo`
and validate_gpkg.py (python3-gdal) and, always, read the file's version and
R-tree triggers with SQLite.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from gridmap.export import export_layer, export_layers
from gridmap.frames import conform
from gridmap.sample import load_sample
from gridmap.stores import open_store
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
    """Version 1.3, the R-tree triggers GDAL 3.6 requires, no warning on open, the validator passes."""
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
    assert tables
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
    import pyogrio

    frame = conform("grids", _district()["grids"])
    pyogrio.write_dataframe(frame, tmp_path / "default.gpkg", layer="grids", driver="GPKG")
    with pytest.raises(AssertionError):
        check_geopackage(tmp_path / "default.gpkg")
