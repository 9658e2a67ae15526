"""QGIS 3.22 itself (Debian's python3-qgis, headless) against gridmap: it reads the OGC API with its
Basic method, and a point it moves in an edit session, in the GeoPackage or in PostGIS, takes its
new grid and is recorded as an external edit, as the README's "Editing in QGIS" promises."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from gridmap.stores import open_store
from tests.api.conftest import TOKENS, VIEWER, district
from tests.api.serving import running_serve

SYSTEM_PYTHON = "/usr/bin/python3"  # the one python3-qgis installs for
CLIENT = Path(__file__).with_name("qgis_client.py")
INSIDE_G3 = (114.315, 30.505)  # K1 starts in G1 (114.3045, 30.505)

pytestmark = pytest.mark.slow


def qgis(command: dict[str, Any]) -> dict[str, Any]:
    """One command run by QGIS in a process of its own."""
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True)
    if probe.returncode != 0:
        pytest.fail("PyQGIS is missing: scripts/system-deps.sh installs python3-qgis")
    done = subprocess.run(
        [SYSTEM_PYTHON, str(CLIENT)],
        input=json.dumps(command),
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": tempfile.mkdtemp()},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_qgis_reads_the_ogc_api_with_its_basic_method(tmp_path: Path) -> None:
    url = str(tmp_path / "store.gpkg")
    with open_store(url) as store:
        store.replace_many(district())
    env = {**os.environ, "GRIDMAP_TOKENS": json.dumps(TOKENS)}
    with running_serve(url, env, tmp_path / "serve.log") as base:
        speakers = qgis({"do": "oapif", "url": base, "layer": "speakers", "user": "qgis", "password": VIEWER})
        households = qgis(
            {"do": "oapif", "url": base, "layer": "households", "user": "qgis", "password": VIEWER}
        )
    assert speakers["ok"] and speakers["codes"] == ["K1", "K2"]
    assert households["ok"] and households["codes"] == ["H1", "H2"]  # a token-only layer, signed in
    assert "contact_phone" in households["fields"]


def _moved_by_qgis(url: str, source: str, provider: str) -> None:
    with open_store(url) as store:
        store.replace_many(district())
    x, y = INSIDE_G3
    answer = qgis({"do": "move", "source": source, "provider": provider, "code": "K1", "x": x, "y": y})
    assert answer["ok"], answer["messages"]
    with open_store(url) as store:
        store.settle()
        moved = store.read("speakers", codes=["K1"])
        assert moved["grid_code"].tolist() == ["G3"]  # derived by the store, not by gridmap's API
        revisions = store.history(layer="speakers", code="K1")
        external = [r for r in revisions if "external edit" in (r.author or "")]
        assert external, "the edit is not in the history"
        change = store.changes(external[0].id, layer="speakers", code="K1").changes[0]
        assert change.before is not None and change.before["geometry"] == "POINT (114.3045 30.505)"  # kept


def test_a_point_moved_in_qgis_in_the_geopackage_takes_its_new_grid(tmp_path: Path) -> None:
    url = str(tmp_path / "store.gpkg")
    _moved_by_qgis(url, f"{url}|layername=speakers", "ogr")


@pytest.mark.postgis
def test_a_point_moved_in_qgis_in_postgis_takes_its_new_grid(postgis_url: str) -> None:
    from tests.conftest import emptied

    url = emptied(postgis_url)
    database = url.rsplit("/", 1)[1]
    source = (
        f"dbname='{database}' host=127.0.0.1 port=5432 user='postgres' key='code' "
        'table="public"."speakers" (geometry)'
    )
    _moved_by_qgis(url, source, "postgres")
