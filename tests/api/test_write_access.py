"""An editor bound to C1 writes only inside C1, by every route, on both stores.

Each refused write is checked to have changed nothing: the layers are read
back as an admin and compared with what they held before. Tests whose every request is refused
share the session's read-only district (`reader`: an app started once); those that end with an
allowed write start an app of their own.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN, EDITOR_C1, VIEWER, bearer

EDITOR = bearer(EDITOR_C1)
LAYERS = ("streets", "communities", "grids", "buildings", "households", "service_points", "speakers")


def feature(code: str, geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": code, "properties": props, "geometry": geometry}


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def snapshot(client: TestClient) -> dict[str, list[dict[str, Any]]]:
    """Every feature of every layer, as an admin reads it."""
    out = {}
    for layer in LAYERS:
        body = client.get(f"/collections/{layer}/items?limit=1000", headers=bearer(ADMIN)).json()
        out[layer] = sorted(body["features"], key=lambda f: f["id"])
    return out


def refused(client: TestClient, method: str, url: str, body: Any = None, status: int = 403) -> None:
    """The editor's request is refused with `status` and leaves every layer as it was."""
    before = snapshot(client)
    response = client.request(method, url, json=body, headers=EDITOR)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert snapshot(client) == before


def test_communities_and_streets_are_admin_only(client: TestClient) -> None:
    both = box(114.30, 30.50, 114.32, 30.52)
    c1 = feature("C1", both, name="幸福社区", street_code="S1", kind="community")
    refused(client, "PUT", "/collections/communities/items/C1", c1)
    refused(
        client, "POST", "/collections/communities/items", feature("C9", box(114.30, 30.50, 114.301, 30.501))
    )
    refused(client, "DELETE", "/collections/communities/items/C1")
    refused(client, "PUT", "/collections/streets/items/S1", feature("S1", both, name="幸福街道"))
    refused(client, "DELETE", "/collections/streets/items/S1")
    assert client.put("/collections/communities/items/C1", json=c1, headers=bearer(ADMIN)).status_code == 200


def test_grid_geometry_and_parent_must_both_be_inside(client: TestClient) -> None:
    url = "/collections/grids/items"
    # community_code C1 but the polygon lies in C2, and the other way round.
    refused(
        client, "POST", url, feature("G9", box(114.312, 30.50, 114.318, 30.51), name="x", community_code="C1")
    )
    refused(
        client, "POST", url, feature("G9", box(114.302, 30.50, 114.308, 30.51), name="x", community_code="C2")
    )
    # Straddling the shared edge at lon 114.31 by ~100 m.
    refused(
        client, "POST", url, feature("G9", box(114.305, 30.50, 114.311, 30.51), name="x", community_code="C1")
    )
    # Growing G1 over C2 (the "move out" of a feature), or taking over G3.
    refused(
        client,
        "PUT",
        f"{url}/G1",
        feature("G1", box(114.30, 30.50, 114.32, 30.51), name="x", community_code="C1"),
    )
    refused(
        client,
        "PUT",
        f"{url}/G3",
        feature("G3", box(114.312, 30.50, 114.318, 30.51), name="x", community_code="C1"),
    )
    refused(client, "DELETE", f"{url}/G3")
    # Drawn exactly along the shared edge: inside (the edge is C1's too); a code of its own, since
    # a retired code (an earlier test's G9, in the history) is never reused for another area.
    inside = feature("GEDGE", box(114.305, 30.50, 114.31, 30.51), name="x", community_code="C1")
    assert client.post(url, json=inside, headers=EDITOR).status_code == 201


def test_household_parent_building_must_be_the_editors(client: TestClient) -> None:
    url = "/collections/households/items"
    # A point in C1 naming building B3 of C2: refused (it would be stored with C2's grid).
    refused(client, "POST", url, feature("H9", point(114.3045, 30.5045), building_code="B3"))
    # No point, building B3: it would be placed at B3, in C2.
    refused(client, "POST", url, feature("H9", None, building_code="B3"))
    # A point in C2 naming a C1 building.
    refused(client, "POST", url, feature("H9", point(114.318, 30.502), building_code="B1"))
    # Changing C2's household, even to move it into C1, or deleting it.
    refused(client, "PUT", f"{url}/H2", feature("H2", point(114.3045, 30.5045), building_code="B1"))
    refused(client, "DELETE", f"{url}/H2")
    created = client.post(url, json=feature("H9", None, building_code="B1"), headers=EDITOR)
    assert created.status_code == 201, created.text
    assert created.json()["features"][0]["properties"]["grid_code"] == "G1"


def test_buildings_and_points_by_every_route(client: TestClient) -> None:
    url = "/collections/buildings/items"
    refused(client, "POST", url, feature("B9", box(114.3140, 30.5140, 114.3150, 30.5150), name="x"))
    refused(client, "POST", url, feature("B9", box(114.3095, 30.5040, 114.3105, 30.5050), name="x"))
    refused(client, "PUT", f"{url}/B3", feature("B3", box(114.3040, 30.5040, 114.3050, 30.5050), name="x"))
    refused(client, "PUT", f"{url}/B1", feature("B1", box(114.3140, 30.5040, 114.3150, 30.5050), name="x"))
    refused(client, "DELETE", f"{url}/B3")
    for layer, code, inside in (
        ("service_points", "P1", (114.305, 30.505)),
        ("speakers", "K1", (114.3045, 30.505)),
    ):
        props = {"name": "x", "status": "working"} if layer == "speakers" else {"name": "x"}
        refused(
            client, "PUT", f"/collections/{layer}/items/{code}", feature(code, point(114.318, 30.51), **props)
        )
        refused(client, "POST", f"/collections/{layer}/items", feature("N9", point(114.318, 30.51), **props))
        moved = feature(code, point(*inside), **props)
        assert client.put(f"/collections/{layer}/items/{code}", json=moved, headers=EDITOR).status_code == 200
    refused(client, "DELETE", "/collections/speakers/items/K2")


def test_mixed_batches_change_nothing(reader: TestClient) -> None:
    batch = {
        "type": "FeatureCollection",
        "features": [
            feature("K7", point(114.302, 30.502), name="a", status="working"),
            feature("K8", point(114.318, 30.502), name="b", status="working"),
        ],
    }
    refused(reader, "POST", "/collections/speakers/items", batch)
    households = {
        "type": "FeatureCollection",
        "features": [feature("H7", None, building_code="B1"), feature("H8", None, building_code="B3")],
    }
    refused(reader, "POST", "/collections/households/items", households)


def test_renames_and_codes_of_other_communities(reader: TestClient) -> None:
    # A rename through PUT is refused; taking another community's code through POST is a conflict.
    refused(
        reader, "PUT", "/collections/speakers/items/K1", feature("K2", point(114.302, 30.502)), status=422
    )
    refused(
        reader, "POST", "/collections/households/items", feature("H2", point(114.3045, 30.5045)), status=409
    )
    # A code that differs from C2's only by a NUL or a line break is refused before any write.
    for code in ("H2\u0000", "H2\n", "H2\r\n", "H\u00002"):
        batch = {
            "type": "FeatureCollection",
            "features": [feature(code, point(114.3045, 30.5045), building_code="B1")],
        }
        refused(reader, "POST", "/collections/households/items", batch, status=422)
    refused(reader, "DELETE", "/collections/households/items/H2%00", status=422)  # a NUL: refused as such


@pytest.mark.parametrize("token", [None, VIEWER])
def test_lower_roles_write_nothing(reader: TestClient, token: str | None) -> None:
    headers = bearer(token) if token else {}
    before = snapshot(reader)
    for method, url, body in (
        (
            "POST",
            "/collections/speakers/items",
            feature("K9", point(114.302, 30.502), name="a", status="working"),
        ),
        (
            "PUT",
            "/collections/grids/items/G1",
            feature("G1", box(114.30, 30.50, 114.31, 30.51), name="x", community_code="C1"),
        ),
        ("DELETE", "/collections/households/items/H1", None),
    ):
        assert reader.request(method, url, json=body, headers=headers).status_code == 403
    assert snapshot(reader) == before


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"status": "working\u0000"}, "properties.status"),  # a NUL: named by its JSON path
        ({"name": ["a", "b"]}, "name"),
        ({"name": {"zh": "喇叭"}}, "name"),
        ({"radius_m": [300]}, "radius_m"),
        ({"radius_m": 1e30}, "radius_m"),
        ({"code": "K\u00009"}, "properties.code"),
        ({"code": "K9\r\nX-Injected: 1"}, "code"),
        ({"code": "K" * 65}, "code"),
    ],
)
def test_values_are_checked_before_anything_is_written(
    reader: TestClient, props: dict[str, Any], field: str
) -> None:
    body = feature("K9", point(114.302, 30.502), name="喇叭", status="working")
    body["properties"].update(props)
    before = snapshot(reader)
    response = reader.post("/collections/speakers/items", json=body, headers=bearer(ADMIN))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert "location" not in response.headers
    assert snapshot(reader) == before


def test_households_with_huge_integers_are_refused(reader: TestClient) -> None:
    for size in (1e30, 99999999999999999999):
        body = feature("H9", None, building_code="B1", size=size)
        response = reader.post("/collections/households/items", json=body, headers=bearer(ADMIN))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "size"
        assert "out of range" in response.json()["errors"][0]["reason"]
