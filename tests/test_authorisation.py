"""The write rule (`gridmap.authorisation`): known answers, and a property over random editor writes.

The property drives the real API (an editor of C1 in the test district of
tests/api/conftest.py) with random POST/PUT/DELETE sequences whose geometries
straddle the C1/C2 edge at lon 114.31 and whose codes, parents and buildings
are drawn from both communities; afterwards, everything that is not C1's, by
an independent reading of the rule, must be exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.main import create_app
from gridmap.authorisation import authorise_write
from gridmap.catalogue import LAYER_NAMES
from gridmap.errors import PermissionDeniedError
from gridmap.frames import WGS84, conform, empty_frame
from gridmap.privacy import Role
from gridmap.stores import Store
from tests.api.conftest import EDITOR_C1, bearer, district, settings_for

C1 = shapely.box(114.30, 30.50, 114.31, 30.52).buffer(
    1e-5, join_style="mitre"
)  # ~1 m: above the 0.5 m tolerance
C1_GRIDS = {"G1", "G2"}
C1_BUILDINGS = {"B1", "B2"}


def _speaker(code: str, x: float, y: float, grid: str | None) -> gpd.GeoDataFrame:
    row = {"code": [code], "name": ["喇叭"], "status": ["working"], "grid_code": [grid]}
    return conform("speakers", gpd.GeoDataFrame(row, geometry=[shapely.Point(x, y)], crs=WGS84))


@pytest.fixture
def loaded(store: Store) -> Store:
    store.replace_many(district())
    return store


@pytest.fixture
def client(loaded: Store, store_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(store_url)), raise_server_exceptions=False) as opened:
        yield opened


def test_admin_and_lower_roles(loaded: Store) -> None:
    inside = _speaker("K9", 114.305, 30.505, "G1")
    none = empty_frame("speakers")
    authorise_write(loaded, Role.ADMIN, (), "streets", after=none, before=loaded.read("streets"), action="x")
    for role in (Role.ANONYMOUS, Role.VIEWER):
        with pytest.raises(PermissionDeniedError, match="needs the editor role"):
            authorise_write(loaded, role, ("C1",), "speakers", after=inside, before=none, action="adding")
    for layer in ("streets", "communities"):
        with pytest.raises(PermissionDeniedError, match="only by an admin"):
            authorise_write(
                loaded, Role.EDITOR, ("C1",), layer, after=empty_frame(layer), before=none, action="x"
            )


def test_editor_known_answers(loaded: Store) -> None:
    none = empty_frame("speakers")

    def verdict(after: gpd.GeoDataFrame, before: gpd.GeoDataFrame = none) -> str:
        try:
            authorise_write(loaded, Role.EDITOR, ("C1",), "speakers", after=after, before=before, action="w")
        except PermissionDeniedError as exc:
            return str(exc)
        return "ok"

    assert verdict(_speaker("K9", 114.305, 30.505, "G1")) == "ok"
    assert verdict(_speaker("K9", 114.31, 30.505, "G1")) == "ok"  # on the shared edge
    assert verdict(_speaker("K9", 114.310003, 30.505, "G1")) == "ok"  # 0.3 m over it: within tolerance
    assert "K9: geometry is not inside" in verdict(_speaker("K9", 114.31002, 30.505, "G1"))  # 2 m over
    assert "K9: its grid G3 is in community C2" in verdict(_speaker("K9", 114.305, 30.505, "G3"))
    assert verdict(_speaker("K9", 114.305, 30.505, None)) == "ok"  # in no grid, but inside C1
    nowhere = _speaker("K9", 114.305, 30.505, None).set_geometry(gpd.GeoSeries([None], crs=WGS84))
    assert "K9: geometry is not inside" in verdict(empty_frame("speakers"), nowhere)  # only an admin
    old_c2 = loaded.read("speakers", codes=["K2"])
    assert "old speakers K2" in verdict(_speaker("K2", 114.305, 30.505, "G1"), old_c2)
    assert verdict(empty_frame("speakers"), old_c2).startswith("w reaches outside your communities (C1)")
    assert "geometry is not inside" in (
        _try(loaded, ("C9",), _speaker("K9", 114.305, 30.505, None))  # a community that does not exist
    )


def _try(store: Store, communities: tuple[str, ...], after: gpd.GeoDataFrame) -> str:
    try:
        authorise_write(
            store, Role.EDITOR, communities, "speakers", after=after, before=after.iloc[:0], action="w"
        )
    except PermissionDeniedError as exc:
        return str(exc)
    return "ok"


# -- the property ----------------------------------------------------------

LAYERS = ("streets", "communities", "grids", "buildings", "households", "service_points", "speakers")
CODES = {
    "streets": ["S1", "S9"],
    "communities": ["C1", "C2", "C9"],
    "grids": ["G1", "G2", "G3", "G9"],
    "buildings": ["B1", "B2", "B3", "B4", "B9"],
    "households": ["H1", "H2", "H9"],
    "service_points": ["P1", "P9"],
    "speakers": ["K1", "K2", "K9"],
}
xs = st.integers(114_300, 114_318).map(lambda v: v / 1000)  # the C1/C2 edge (114.310) is often hit exactly
ys = st.integers(30_500, 30_518).map(lambda v: v / 1000)
sizes = st.integers(1, 6).map(lambda v: v / 1000)


@st.composite
def geometries(draw: st.DrawFn, layer: str) -> dict[str, Any] | None:
    x, y = draw(xs), draw(ys)
    if layer in ("households", "service_points", "speakers"):
        if layer == "households" and draw(st.booleans()):
            return None  # placed at its building
        return {"type": "Point", "coordinates": [x, y]}
    return shapely.geometry.mapping(shapely.box(x, y, x + draw(sizes), y + draw(sizes)))


@st.composite
def writes(draw: st.DrawFn) -> tuple[str, str, dict[str, Any] | None]:
    layer = draw(st.sampled_from(LAYERS))
    code = draw(st.sampled_from(CODES[layer]))
    method = draw(st.sampled_from(["POST", "PUT", "DELETE"]))
    url = f"/collections/{layer}/items" + ("" if method == "POST" else f"/{code}")
    if method == "DELETE":
        return method, url, None
    props: dict[str, Any] = {"code": code, "name": "随机"}
    if layer == "communities":
        props["street_code"] = "S1"
    if layer == "grids":
        props["community_code"] = draw(st.sampled_from(["C1", "C2"]))
    if layer == "households":
        props["building_code"] = draw(st.sampled_from(["B1", "B2", "B3", "B4", None]))
    if layer == "speakers":
        props["status"] = "working"
    return method, url, {"type": "Feature", "properties": props, "geometry": draw(geometries(layer))}


def _owned(layer: str, row: dict[str, Any], geometry: shapely.Geometry | None) -> bool:
    """Is this stored feature C1's, read independently of gridmap.authorisation?"""
    if layer in ("streets", "communities"):
        return False
    if geometry is not None and not C1.covers(geometry):
        return False
    if layer == "grids" and row["community_code"] != "C1":
        return False
    if row.get("grid_code") is not None and row["grid_code"] not in C1_GRIDS:
        return False
    return not (
        layer == "households"
        and row["building_code"] is not None
        and row["building_code"] not in C1_BUILDINGS
    )


def _not_c1(store: Store) -> set[tuple[Any, ...]]:
    """Every feature that is not C1's, with all its values and its exact geometry."""
    out = set()
    for layer in LAYER_NAMES:
        frame = store.read(layer)
        for row, geometry in zip(
            frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
        ):
            clean = {k: (None if v is None or v != v else v) for k, v in row.items()}  # NA → None
            if not _owned(layer, clean, geometry):
                wkb = None if geometry is None else geometry.wkb_hex
                out.add((layer, tuple(sorted((k, str(v)) for k, v in clean.items())), wkb))
    return out


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(writes(), min_size=1, max_size=6))
def test_random_editor_writes_never_change_anything_outside_c1(
    client: TestClient, loaded: Store, sequence: list[tuple[str, str, dict[str, Any] | None]]
) -> None:
    loaded.replace_many(district())
    before = _not_c1(loaded)
    statuses = []
    for method, url, body in sequence:
        response = client.request(method, url, json=body, headers=bearer(EDITOR_C1))
        assert response.status_code < 500, response.text
        statuses.append(response.status_code)
    assert _not_c1(loaded) == before, statuses
