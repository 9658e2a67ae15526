"""A small hand-made district, and API clients over it on both stores.

Street S1 (114.30–114.32 E, 30.50–30.52 N) holds community C1 (west half,
grids G1 south and G2 north, sharing the edge lat 30.51) and community C2
(east half, one grid G3). Buildings carry the addresses the lookup tests vary.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from gridmap.frames import WGS84, conform
from gridmap.stores import Store, open_store
from tests.conftest import fresh_postgis_database
from tests.stored import prefilled

VIEWER = "viewer-token-0123456789"
EDITOR_C1 = "editor-c1-token-0123456789"
WORKER_ZHANG = "worker-zhang-token-0123456789"
"""张三, who works grid G1 (an editor of C1 with a name: patrols are theirs)."""
WORKER_LI = "worker-li-token-0123456789"
"""李四, who works grid G2 of the same community."""
ADMIN = "admin-token-0123456789abcdef"
TOKENS = {
    VIEWER: {"role": "viewer"},
    EDITOR_C1: {"role": "editor", "communities": ["C1"]},
    WORKER_ZHANG: {"role": "editor", "communities": ["C1"], "name": "张三"},
    WORKER_LI: {"role": "editor", "communities": ["C1"], "name": "李四"},
    ADMIN: {"role": "admin"},
}
PHONE = "13812341234"
WORKER_PHONE = "13900001111"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _frame(layer: str, rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    geometry = [row.pop("geometry") for row in rows]
    return conform(layer, gpd.GeoDataFrame(rows, geometry=geometry, crs=WGS84))


def district() -> dict[str, gpd.GeoDataFrame]:
    """The seven layers of the test district."""
    box, point = shapely.box, shapely.Point
    grid = ("code", "name", "community_code", "party_branch", "worker_name", "worker_phone", "geometry")
    building = ("code", "name", "address", "floors", "geometry")
    return {
        "streets": _frame(
            "streets", [{"code": "S1", "name": "幸福街道", "geometry": box(114.30, 30.50, 114.32, 30.52)}]
        ),
        "communities": _frame(
            "communities",
            [
                {"code": code, "name": name, "street_code": "S1", "geometry": geometry}
                for code, name, geometry in (
                    ("C1", "幸福社区", box(114.30, 30.50, 114.31, 30.52)),
                    ("C2", "和平社区", box(114.31, 30.50, 114.32, 30.52)),
                )
            ],
        ),
        "grids": _frame(
            "grids",
            [
                dict(zip(grid, row, strict=True))
                for row in (
                    (
                        "G1",
                        "幸福一网格",
                        "C1",
                        "幸福一网格党支部",
                        "张三",
                        WORKER_PHONE,
                        box(114.30, 30.50, 114.31, 30.51),
                    ),
                    (
                        "G2",
                        "幸福二网格",
                        "C1",
                        "幸福二网格党支部",
                        "李四",
                        "13900002222",
                        box(114.30, 30.51, 114.31, 30.52),
                    ),
                    ("G3", "和平网格", "C2", None, "王五", "13900003333", box(114.31, 30.50, 114.32, 30.52)),
                )
            ],
        ),
        "buildings": _frame(
            "buildings",
            [
                dict(zip(building, row, strict=True))
                for row in (
                    ("B1", "3栋", "武汉市武昌区幸福路88号3栋", 6, box(114.3040, 30.5040, 114.3050, 30.5050)),
                    ("B2", "8栋", "武汉市武昌区幸福路88号8栋", 6, box(114.3040, 30.5140, 114.3050, 30.5150)),
                    ("B3", "12号", "武汉市武昌区和平大道12号", 18, box(114.3140, 30.5040, 114.3150, 30.5050)),
                    ("B4", "Baker", "221B Baker Street", 3, box(114.3160, 30.5160, 114.3170, 30.5170)),
                )
            ],
        ),
        "households": _frame(
            "households",
            [
                {
                    "code": "H1",
                    "address": "武汉市武昌区幸福路88号3栋1单元101室",
                    "building_code": "B1",
                    "unit": "1",
                    "room": "101",
                    "size": 3,
                    "party_member": True,
                    "center_household": True,
                    "contact_name": "赵六",
                    "contact_phone": PHONE,
                    "geometry": point(114.3045, 30.5045),
                },
                {
                    "code": "H2",
                    "address": "武汉市武昌区和平大道12号2单元301室",
                    "building_code": "B3",
                    "unit": "2",
                    "room": "301",
                    "size": 2,
                    "contact_name": "钱七",
                    "contact_phone": "13787654321",
                    "geometry": point(114.3145, 30.5045),
                },
            ],
        ),
        "service_points": _frame(
            "service_points",
            [{"code": "P1", "name": "幸福服务站", "kind": "综合", "geometry": point(114.305, 30.505)}],
        ),
        "speakers": _frame(
            "speakers",
            [
                {"code": "K1", "name": "1号喇叭", "status": "working", "geometry": point(114.3045, 30.505)},
                {"code": "K2", "name": "2号喇叭", "status": "broken", "geometry": point(114.315, 30.515)},
            ],
        ),
    }


def load_district(store: Store) -> None:
    store.replace_many(district())


@pytest.fixture
def loaded(store: Store) -> Store:
    """The `store` fixture (both kinds) holding the test district."""
    prefilled(store.url, "api_district", load_district)
    return store


def settings_for(store_url: str, **extra: object) -> ApiSettings:
    """Settings of a test app: the analysis built in a thread of its own, shared in a fresh folder."""
    extra = {
        "builder": "thread",
        "serving_dir": Path(tempfile.mkdtemp(prefix="gridmap-serving-")),
        # Many tests send unknown tokens from the one test client; test_sign_in checks the bound.
        "token_failures_per_minute": 10_000,
        # Tests read coverage right after start: wait for the first analysis, as a server can be told to.
        "startup_wait_seconds": 900.0,
        **extra,
    }
    return ApiSettings(store=store_url, tokens=json.dumps(TOKENS), **extra)  # type: ignore[arg-type]


@pytest.fixture
def make_client(loaded: Store, store_url: str, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """A factory of clients, each over its own app instance on the same store.

    Like the workers of one server, they share one folder of published analyses (one builds).
    """
    opened: list[TestClient] = []

    def make(**extra: object) -> TestClient:
        settings = settings_for(store_url, **{"serving_dir": tmp_path / "serving", **extra})
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A client of one app over the loaded district (for tests that write)."""
    return make_client()


@pytest.fixture(scope="session")
def district_pg_url() -> Iterator[str]:
    """A database of its own for the read-only district (the shared one is emptied per test)."""
    with fresh_postgis_database("gridmap_api") as url:
        yield url


@pytest.fixture(scope="session", params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def reader(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client over the district loaded once per session and store kind; tests using it must not write."""
    if request.param == "gpkg":
        url = str(tmp_path_factory.mktemp("district") / "district.gpkg")
    else:
        url = request.getfixturevalue("district_pg_url")
    with open_store(url) as store:
        store.replace_many(district())
    with TestClient(create_app(settings_for(url)), raise_server_exceptions=False) as client:
        yield client
