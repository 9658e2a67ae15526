"""`gridmap serve` as a real server, read by GDAL's OGC API – Features driver (as QGIS would)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridmap.catalogue import LAYER_NAMES
from gridmap.stores import open_store
from tests.api.conftest import PHONE, TOKENS, VIEWER, district

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo (gdal-bin) is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `gridmap serve` process over the district on a free 127.0.0.1 port."""
    path = tmp_path_factory.mktemp("serve") / "district.gpkg"
    with open_store(str(path)) as store:
        store.replace_many(district())
    port = _free_port()
    env = {**os.environ, "GRIDMAP_TOKENS": json.dumps(TOKENS)}
    gridmap = Path(sys.executable).with_name("gridmap")
    log = path.with_suffix(".log")
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [str(gridmap), "serve", "--store", str(path), "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=log_file,
        )
        try:
            deadline = time.monotonic() + 30
            while not _healthy(base):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gridmap serve did not start: {log.read_text()}")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


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
    expected = len(district()[layer])
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
