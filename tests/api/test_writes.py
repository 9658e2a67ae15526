"""Writes through OGC API – Features: validated like an import, only inside the editor's communities."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import shapely.geometry
from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN, EDITOR_C1, PHONE, VIEWER, bearer


def speaker(code: str, lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": code,
        "properties": {"name": f"{code}号喇叭", "status": "working", **props},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


IN_C1 = (114.302, 30.502)
IN_C2 = (114.318, 30.502)


def codes(client: TestClient, layer: str) -> list[str]:
    body = client.get(f"/collections/{layer}/items", headers=bearer(ADMIN)).json()
    return [f["id"] for f in body["features"]]


def test_roles_that_may_not_write(reader: TestClient) -> None:
    for headers in ({}, bearer(VIEWER)):
        assert (
            reader.post(
                "/collections/speakers/items", json=speaker("K9", *IN_C1), headers=headers
            ).status_code
            == 403
        )
        assert reader.delete("/collections/speakers/items/K1", headers=headers).status_code == 403
        put = reader.put("/collections/speakers/items/K1", json=speaker("K1", *IN_C1), headers=headers)
        assert put.status_code == 403
    assert codes(reader, "speakers") == ["K1", "K2"]


def test_editor_writes_inside_own_community_only(client: TestClient) -> None:
    editor = bearer(EDITOR_C1)
    created = client.post("/collections/speakers/items", json=speaker("K3", *IN_C1), headers=editor)
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith("/collections/speakers/items/K3")
    assert client.get("/collections/speakers/items/K3").json()["properties"]["name"] == "K3号喇叭"

    outside = client.post("/collections/speakers/items", json=speaker("K4", *IN_C2), headers=editor)
    assert outside.status_code == 403
    mixed = {"type": "FeatureCollection", "features": [speaker("K5", *IN_C1), speaker("K6", *IN_C2)]}
    assert client.post("/collections/speakers/items", json=mixed, headers=editor).status_code == 403
    assert codes(client, "speakers") == ["K1", "K2", "K3"]

    # Moving a C1 speaker into C2, or touching the C2 speaker, is refused; deleting a C1 one is not.
    moved = client.put("/collections/speakers/items/K1", json=speaker("K1", *IN_C2), headers=editor)
    assert moved.status_code == 403
    assert client.delete("/collections/speakers/items/K2", headers=editor).status_code == 403
    assert client.delete("/collections/speakers/items/K1", headers=editor).status_code == 204
    assert codes(client, "speakers") == ["K2", "K3"]


def test_editor_grids_and_households_by_community(client: TestClient) -> None:
    editor = bearer(EDITOR_C1)
    grid = client.get("/collections/grids/items/G1", headers=bearer(ADMIN)).json()
    grid["properties"]["party_branch"] = "新党支部"
    renamed = client.put("/collections/grids/items/G1", json=grid, headers=editor)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["properties"]["party_branch"] == "新党支部"
    grid["properties"]["community_code"] = "C2"
    assert client.put("/collections/grids/items/G1", json=grid, headers=editor).status_code == 403
    other = client.get("/collections/grids/items/G3", headers=bearer(ADMIN)).json()
    assert client.put("/collections/grids/items/G3", json=other, headers=editor).status_code == 403
    assert client.delete("/collections/streets/items/S1", headers=editor).status_code == 403

    household = {"type": "Feature", "properties": {"code": "H9", "building_code": "B1"}, "geometry": None}
    assert client.post("/collections/households/items", json=household, headers=editor).status_code == 201
    household["properties"] = {"code": "H10", "building_code": "B3"}
    assert client.post("/collections/households/items", json=household, headers=editor).status_code == 403
    assert codes(client, "households") == ["H1", "H2", "H9"]


def test_admin_writes_anywhere(client: TestClient) -> None:
    admin = bearer(ADMIN)
    assert (
        client.post("/collections/speakers/items", json=speaker("K7", *IN_C2), headers=admin).status_code
        == 201
    )
    street = client.get("/collections/streets/items/S1", headers=admin).json()
    street["properties"]["name"] = "新街道"
    assert client.put("/collections/streets/items/S1", json=street, headers=admin).status_code == 200
    assert client.get("/collections/streets/items/S1").json()["properties"]["name"] == "新街道"


def test_invalid_writes_change_nothing(reader: TestClient) -> None:
    admin = bearer(ADMIN)
    bad_status = reader.post(
        "/collections/speakers/items", json=speaker("K8", *IN_C1, status="exploded"), headers=admin
    )
    assert bad_status.status_code == 422
    assert bad_status.json()["errors"][0]["field"] == "status"
    no_grid_parent = {
        "type": "Feature",
        "properties": {"code": "G9", "name": "x", "community_code": "C9"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[114.3, 30.5], [114.301, 30.5], [114.301, 30.501], [114.3, 30.5]]],
        },
    }
    assert reader.post("/collections/grids/items", json=no_grid_parent, headers=admin).status_code == 422
    broken_geometry = speaker("K8", *IN_C1)
    broken_geometry["geometry"] = {"type": "Point", "coordinates": "here"}
    assert reader.post("/collections/speakers/items", json=broken_geometry, headers=admin).status_code == 422
    assert reader.post("/collections/speakers/items", json={"type": "Nope"}, headers=admin).status_code == 422
    assert (
        reader.post("/collections/speakers/items", json=speaker("K1", *IN_C1), headers=admin).status_code
        == 409
    )
    assert (
        reader.put("/collections/speakers/items/K0", json=speaker("K0", *IN_C1), headers=admin).status_code
        == 404
    )
    mismatch = reader.put("/collections/speakers/items/K1", json=speaker("K2", *IN_C1), headers=admin)
    assert mismatch.status_code == 422
    assert reader.delete("/collections/speakers/items/K0", headers=admin).status_code == 404
    assert codes(reader, "speakers") == ["K1", "K2"]
    assert codes(reader, "grids") == ["G1", "G2", "G3"]


def test_write_in_one_instance_is_seen_by_another_once_it_reads_the_change(
    make_client: Callable[..., TestClient],
) -> None:
    writer, other = make_client(), make_client()
    address = "幸福路99号1栋"
    assert other.get("/lookup", params={"address": address}).status_code == 404
    building = {
        "type": "Feature",
        "properties": {"code": "B9", "address": f"武汉市武昌区{address}", "floors": 5},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [114.306, 30.516],
                    [114.307, 30.516],
                    [114.307, 30.517],
                    [114.306, 30.517],
                    [114.306, 30.516],
                ]
            ],
        },
    }
    assert (
        writer.post("/collections/buildings/items", json=building, headers=bearer(ADMIN)).status_code == 201
    )
    # Wait on the change feed, not the clock: the other instance polls the store's revision (every
    # refresh_seconds) and rebuilds its indexes, which takes what a busy machine gives it. Once its
    # snapshot is at the writer's revision, its very next answer must hold the write.
    revision = writer.app.state.store.revision()
    lookup = other.app.state.lookup
    deadline = time.monotonic() + 120  # a hang guard only; a healthy run takes well under a second
    while lookup.snapshot().revision != revision and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lookup.snapshot().revision == revision, "the other instance never read the store's new revision"
    reply = other.get("/lookup", params={"address": address})
    assert reply.status_code == 200 and reply.json()["grid"]["code"] == "G2"


def test_two_grids_sharing_a_redrawn_edge_are_saved_in_one_write(client: TestClient) -> None:
    grids = {
        f["properties"]["code"]: f
        for f in client.get("/collections/grids/items", headers=bearer(ADMIN)).json()["features"]
    }
    revisions = len(client.get("/history", headers=bearer(ADMIN)).json()["revisions"])
    moved = []
    for code, (y0, y1) in (("G1", (30.50, 30.512)), ("G2", (30.512, 30.52))):
        ring = [[114.30, y0], [114.31, y0], [114.31, y1], [114.30, y1], [114.30, y0]]
        moved.append({**grids[code], "geometry": {"type": "Polygon", "coordinates": [ring]}})
    editor = bearer(EDITOR_C1)
    saved = client.put(
        "/collections/grids/items", json={"type": "FeatureCollection", "features": moved}, headers=editor
    )
    assert saved.status_code == 200, saved.text
    bounds = {
        f["properties"]["code"]: shapely.geometry.shape(f["geometry"]).bounds
        for f in saved.json()["features"]
    }
    assert bounds["G1"][3] == pytest.approx(30.512) and bounds["G2"][1] == pytest.approx(30.512)
    history = client.get("/history", headers=bearer(ADMIN)).json()["revisions"]
    assert len(history) == revisions + 1  # one revision for both grids
    assert history[0]["command"] == "PUT /collections/grids/items" and "grids" in str(history[0])
    missing = {**moved[0], "properties": {**moved[0]["properties"], "code": "G9"}}
    nothing = client.put(
        "/collections/grids/items",
        json={"type": "FeatureCollection", "features": [missing]},
        headers=bearer(ADMIN),
    )
    assert nothing.status_code == 404 and "G9" in nothing.json()["detail"]


def test_saving_what_an_editor_read_keeps_the_real_phone(client: TestClient) -> None:
    editor = bearer(EDITOR_C1)
    household = client.get("/collections/households/items/H1", headers=editor).json()
    assert household["properties"]["contact_phone"] == "138****1234"
    household["properties"]["size"] = 4
    saved = client.put("/collections/households/items/H1", json=household, headers=editor)
    assert saved.status_code == 200, saved.text
    stored = client.get("/collections/households/items/H1", headers=bearer(ADMIN)).json()["properties"]
    assert (stored["size"], stored["contact_phone"], stored["contact_name"]) == (4, PHONE, "赵六")
    household["properties"]["contact_phone"] = "13600000000"
    assert client.put("/collections/households/items/H1", json=household, headers=editor).status_code == 200
    changed = client.get("/collections/households/items/H1", headers=bearer(ADMIN)).json()["properties"]
    assert changed["contact_phone"] == "13600000000"


def test_a_chinese_code_is_created_once_and_found_at_its_location(client: TestClient) -> None:
    """The Location header failed to encode a non-Latin-1 code: a 500 after the commit, a 409 on retry."""
    body = {
        "type": "Feature",
        "properties": {"code": "喇叭一号", "name": "一号喇叭", "status": "working"},
        "geometry": {"type": "Point", "coordinates": [114.302, 30.502]},
    }
    created = client.post("/collections/speakers/items", json=body, headers=bearer(ADMIN))
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert location.endswith("/collections/speakers/items/%E5%96%87%E5%8F%AD%E4%B8%80%E5%8F%B7")
    found = client.get(location)
    assert found.status_code == 200 and found.json()["id"] == "喇叭一号"


def test_next_links_neither_repeat_nor_skip_features_added_between_pages(client: TestClient) -> None:
    """A feature created after the cursor shows up once; one created before it is not met; none repeats."""
    admin = bearer(ADMIN)
    first = client.get("/collections/speakers/items", params={"limit": 1}, headers=admin).json()
    assert [f["id"] for f in first["features"]] == ["K1"]
    for code in ("K0", "K15"):  # before the cursor, and between the pages to come
        created = client.post("/collections/speakers/items", json=speaker(code, *IN_C1), headers=admin)
        assert created.status_code == 201
    seen = ["K1"]
    page = first
    while nxt := next((link["href"] for link in page["links"] if link["rel"] == "next"), None):
        page = client.get(nxt, headers=admin).json()
        seen += [f["id"] for f in page["features"]]
    assert seen == ["K1", "K15", "K2"]
    assert codes(client, "speakers") == ["K0", "K1", "K15", "K2"]
