"""`/history` and revert over HTTP on both stores: authors from tokens, masking, editor confinement, 409s."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN, EDITOR_C1, PHONE, VIEWER, bearer

SPEAKER = {
    "type": "Feature",
    "properties": {"code": "K9", "name": "9号喇叭", "status": "working"},
    "geometry": {"type": "Point", "coordinates": [114.305, 30.505]},
}


def test_an_api_write_is_one_revision_by_its_token(client: TestClient) -> None:
    assert (
        client.post("/collections/speakers/items", json=SPEAKER, headers=bearer(EDITOR_C1)).status_code == 201
    )
    body = client.get("/history", params={"limit": 1}, headers=bearer(ADMIN)).json()
    (latest,) = body["revisions"]
    assert latest["role"] == "editor" and latest["author"] == "editor token"
    assert latest["command"] == "POST /collections/speakers/items"
    assert latest["counts"] == {"speakers": {"inserted": 1, "updated": 0, "deleted": 0}}
    detail = client.get(f"/history/{latest['revision']}", headers=bearer(ADMIN)).json()
    assert [(c["code"], c["op"], c["before"]) for c in detail["changes"]] == [("K9", "inserted", None)]
    assert detail["changes"][0]["after"]["name"] == "9号喇叭"


def test_admin_reverts_and_a_changed_feature_is_a_409(client: TestClient) -> None:
    client.post("/collections/speakers/items", json=SPEAKER, headers=bearer(ADMIN))
    created = client.get("/history", params={"limit": 1}, headers=bearer(ADMIN)).json()["revisions"][0][
        "revision"
    ]
    renamed = {**SPEAKER, "properties": {**SPEAKER["properties"], "name": "改名"}}
    assert (
        client.put("/collections/speakers/items/K9", json=renamed, headers=bearer(ADMIN)).status_code == 200
    )
    refused = client.post(f"/history/{created}/revert", headers=bearer(ADMIN))
    assert refused.status_code == 409 and "K9" in refused.json()["detail"]
    assert client.post(f"/history/{created}/revert", headers=bearer(EDITOR_C1)).status_code == 403
    latest = client.get("/history", params={"limit": 1}, headers=bearer(ADMIN)).json()["revisions"][0][
        "revision"
    ]
    assert client.post(f"/history/{latest}/revert", headers=bearer(ADMIN)).status_code == 201
    assert client.post(f"/history/{created}/revert", headers=bearer(ADMIN)).status_code == 201
    assert client.get("/collections/speakers/items/K9").status_code == 404


def test_history_masks_personal_fields_and_confines_editors(reader: TestClient) -> None:
    as_editor = reader.get(
        "/history", params={"layer": "households", "code": "H1"}, headers=bearer(EDITOR_C1)
    )
    assert as_editor.status_code == 200
    (loaded,) = as_editor.json()["revisions"][-1:]
    assert loaded["changes"][0]["after"]["contact_phone"] == "138****1234"
    as_admin = reader.get("/history", params={"layer": "households", "code": "H1"}, headers=bearer(ADMIN))
    assert as_admin.json()["revisions"][-1]["changes"][0]["after"]["contact_phone"] == PHONE
    other = reader.get("/history", params={"layer": "households", "code": "H2"}, headers=bearer(EDITOR_C1))
    assert other.status_code == 403  # H2 lies in community C2
    assert reader.get("/history", headers=bearer(EDITOR_C1)).status_code == 422
    assert reader.get("/history", headers=bearer(VIEWER)).status_code == 403
    assert reader.get("/history").status_code == 403
    assert reader.get("/history", params={"since": "yesterday"}, headers=bearer(ADMIN)).status_code == 422


def test_lookup_as_of_a_date_uses_the_boundaries_then(client: TestClient) -> None:
    moved = {
        "type": "Feature",
        "properties": {
            "code": "G1",
            "name": "幸福一网格",
            "community_code": "C1",
            "valid_from": "2030-01-01",
        },
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[114.30, 30.50], [114.303, 30.50], [114.303, 30.51], [114.30, 30.51], [114.30, 30.50]]
            ],
        },
    }
    point = {"lon": 114.306, "lat": 30.505}
    assert client.get("/lookup", params=point).json()["grid"]["code"] == "G1"
    assert client.put("/collections/grids/items/G1", json=moved, headers=bearer(ADMIN)).status_code == 200
    client.get(
        "/lookup", params=point
    )  # the first lookup after a write may still answer from the old snapshot
    assert client.get("/lookup", params={**point, "date": "2029-06-01"}).json()["grid"]["code"] == "G1"
    assert client.get("/lookup", params={**point, "date": "2030-06-01"}).status_code == 404
    bad = client.get("/lookup", params={**point, "date": "2030-13-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "date"
