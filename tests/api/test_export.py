"""GET /export/{layer}: formats, CRS, subsets and roles."""

from __future__ import annotations

import io
import json
import math
import threading
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient

from api.main import create_app
from gridmap.frames import WGS84, conform
from gridmap.ingest import import_file
from gridmap.stores import Store, open_store
from tests.api.conftest import ADMIN, PHONE, VIEWER, WORKER_PHONE, bearer, district, settings_for


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


class _Stalls:
    """The longest time a thread of this process waited to run while something else went on."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def _probe(self) -> None:
        while not self._done.is_set():
            started = time.perf_counter()
            time.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - started - 0.005)

    def __enter__(self) -> _Stalls:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


MANY = 20_000


def _many_households() -> gpd.GeoDataFrame:
    """MANY households spread over grid G1 (an XLSX of them takes GDAL seconds)."""
    rng = np.random.default_rng(7)
    return conform(
        "households",
        gpd.GeoDataFrame(
            {
                "code": [f"HM{i:06d}" for i in range(MANY)],
                "address": [f"武汉市武昌区幸福路{i}号" for i in range(MANY)],
                "size": 3,
                "contact_name": "孙八",
                "contact_phone": PHONE,
            },
            geometry=shapely.points(114.30 + rng.random(MANY) * 0.01, 30.50 + rng.random(MANY) * 0.01),
            crs=WGS84,
        ),
    )


@pytest.mark.timing
def test_an_xlsx_export_never_stalls_the_worker(store: Store, store_url: str, tmp_path: Path) -> None:
    """GDAL's XLSX writer holds the interpreter lock for the whole file: in the worker it starved every
    other thread, uvicorn's health-check responder included, for seconds (the supervisor killed it)."""
    layers = district()
    layers["households"] = _many_households()
    store.replace_many(layers)
    settings = settings_for(store_url, serving_dir=tmp_path / "serving")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.get("/export/grids", params={"format": "xlsx"})  # the export process started
        with _Stalls() as stalls:
            reply = client.get("/export/households", params={"format": "xlsx"}, headers=bearer(ADMIN))
    assert reply.status_code == 200, reply.text
    # Headers are Chinese for 社区 staff: contact_phone is 联系电话.
    sheet = pd.read_excel(io.BytesIO(reply.content), sheet_name="households", dtype={"联系电话": str})
    assert len(sheet) == MANY and set(sheet["联系电话"]) == {PHONE}
    assert stalls.worst < 0.5, f"other threads waited {stalls.worst:.2f} s"


FORMULA = "=cmd|' /C calc'!A0"


def test_csv_cells_never_run_as_formulas_and_import_back_unchanged(
    client: TestClient, tmp_path: Path
) -> None:
    """An anonymous case's text and a speaker's name beginning with = were exported as they were."""
    speaker = {
        "type": "Feature",
        "properties": {"code": "KF", "name": FORMULA, "status": "working"},
        "geometry": {"type": "Point", "coordinates": [114.302, 30.502]},
    }
    assert client.post("/collections/speakers/items", json=speaker, headers=bearer(ADMIN)).status_code == 201
    case = {"category": "0102", "lon": 114.302, "lat": 30.502, "description": '=HYPERLINK("http://x","y")'}
    assert client.post("/cases", json=case).status_code == 201
    layer_csv = client.get("/export/speakers", params={"format": "csv"}).text
    assert f"'{FORMULA}" in layer_csv and "\n=" not in layer_csv and ",=" not in layer_csv
    cases_csv = client.get("/cases", params={"format": "csv"}, headers=bearer(ADMIN)).text
    assert "'=HYPERLINK" in cases_csv and ",=" not in cases_csv and '"=' not in cases_csv
    path = tmp_path / "speakers.csv"
    path.write_text(layer_csv, encoding="utf-8")
    with open_store(str(tmp_path / "back.gpkg")) as back:
        import_file(back, "speakers", path)
        assert back.read("speakers", codes=["KF"])["name"].iloc[0] == FORMULA
