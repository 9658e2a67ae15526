"""`gridmap serve` as a real server, read by GDAL's OGC API – Features driver (as QGIS would)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from gridmap.catalogue import LAYER_NAMES
from gridmap.stores import open_store
from tests.api.conftest import PHONE, TOKENS, VIEWER, district
from tests.api.serving import running_serve

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo (gdal-bin) is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `gridmap serve` process over the district on a free 127.0.0.1 port."""
    path = tmp_path_factory.mktemp("serve") / "district.gpkg"
    with open_store(str(path)) as store:
        store.replace_many(district())
    env = {**os.environ, "GRIDMAP_TOKENS": json.dumps(TOKENS)}
    with running_serve(str(path), env, path.with_suffix(".log")) as base:
        yield base


def _ogrinfo(*args: str, token: str | None = None) -> str:
    headers = ["--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {token}"] if token else []
    done = subprocess.run(
        ["ogrinfo", "-ro", *headers, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_lists_the_public_collections(server: str) -> None:
    listing = _ogrinfo(f"OAPIF:{server}")
    public = [name for name in LAYER_NAMES if name != "households"]
    for name in public:
        assert f": {name} (" in listing
    assert "households" not in listing


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_gdal_reads_every_collection(server: str, layer: str) -> None:
    out = _ogrinfo("-al", "-q", f"OAPIF:{server}", layer, token=VIEWER)
    layers = district()
    expected = len(layers[layer]) if layer in layers else 0  # the test district has no roads
    assert out.count(f"OGRFeature({layer}):") == expected
    assert PHONE not in out


def test_gdal_spatial_and_attribute_filters(server: str) -> None:
    out = _ogrinfo(
        "-q",
        "-spat",
        "114.3135",
        "30.5035",
        "114.3155",
        "30.5055",
        "-where",
        "floors = 18",
        f"OAPIF:{server}",
        "buildings",
    )
    assert "code (String) = B3" in out
    assert "B1" not in out


def test_gdal_signs_in_with_basic_as_qgis_does(server: str) -> None:
    """QGIS's Basic method sends user:password; the token as the password reads households masked."""
    basic = ["--config", "GDAL_HTTP_AUTH", "BASIC", "--config", "GDAL_HTTP_USERPWD", f"qgis:{VIEWER}"]
    out = _ogrinfo(*basic, "-al", "-q", f"OAPIF:{server}", "households")
    assert out.count("OGRFeature(households):") == len(district()["households"])
    assert PHONE not in out and "138****1234" in out
