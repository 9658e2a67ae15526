"""GET /export/{layer}: formats, CRS, subsets and roles."""

from __future__ import annotations

import io
import json
import math
import zipfile

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN, PHONE, VIEWER, WORKER_PHONE, bearer


def test_export_geojson_subset(reader: TestClient) -> None:
    reply = reader.get("/export/buildings", params={"community": "C1"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/geo+json")
    codes = sorted(f["properties"]["code"] for f in json.loads(reply.content)["features"])
    assert codes == ["B1", "B2"]


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "kml", "csv", "xlsx", "fgb"])
def test_export_formats(reader: TestClient, fmt: str) -> None:
    reply = reader.get("/export/grids", params={"format": fmt})
    assert reply.status_code == 200, reply.text
    assert len(reply.content) > 100
    if fmt == "shp":
        names = zipfile.ZipFile(io.BytesIO(reply.content)).namelist()
        assert any(n.endswith(".shp") for n in names) and any(n.endswith(".prj") for n in names)


def test_export_in_gcj02_is_named_so(reader: TestClient) -> None:
    reply = reader.get("/export/speakers", params={"crs": "gcj02"})
    assert reply.status_code == 200
    assert "gcj02" in reply.headers["content-disposition"]


def test_export_follows_roles(reader: TestClient) -> None:
    assert reader.get("/export/households").status_code == 403
    viewer = reader.get("/export/households", params={"format": "csv"}, headers=bearer(VIEWER))
    assert viewer.status_code == 200
    assert PHONE not in viewer.text and "138****1234" in viewer.text
    anonymous = reader.get("/export/grids", params={"format": "csv"}).text
    assert WORKER_PHONE not in anonymous and "张三" not in anonymous
    admin = reader.get("/export/households", params={"format": "csv"}, headers=bearer(ADMIN))
    assert PHONE in admin.text


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"format": "dwg"}, 422),
        ({"crs": "mars"}, 422),
        ({"bbox": "x"}, 422),
        ({"community": "C9"}, 404),
        ({"format": "kml", "crs": "EPSG:4547"}, 422),
    ],
)
def test_export_rejects_bad_requests(reader: TestClient, params: dict[str, str], status: int) -> None:
    assert reader.get("/export/grids", params=params).status_code == status
    assert reader.get("/export/nope").status_code == 404


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_vector_tiles(reader: TestClient) -> None:
    x, y = _tile_of(114.305, 30.505, 14)
    reply = reader.get(f"/tiles/grids/14/{x}/{y}.mvt")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert WORKER_PHONE.encode() not in reply.content and "张三".encode() not in reply.content
    assert reader.get(f"/tiles/grids/14/{x + 100}/{y}.mvt").status_code == 204
    assert reader.get(f"/tiles/households/14/{x}/{y}.mvt").status_code == 403
    assert reader.get(f"/tiles/households/14/{x}/{y}.mvt", headers=bearer(VIEWER)).status_code == 200
    assert reader.get("/tiles/grids/2/9/0.mvt").status_code == 404
    assert reader.get("/tiles/grids/30/0/0.mvt").status_code == 422
