"""/coverage, /coverage/gaps, /maps/…, /health and /docs through the real app."""

from __future__ import annotations

import dataclasses
import json
import time

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Point

from api.coverage import documents
from gridmap.analysis import analyze
from gridmap.frames import WGS84
from gridmap.privacy import Role
from tests.api.conftest import ADMIN, EDITOR_C1, PHONE, VIEWER, WORKER_PHONE, bearer, district


def test_coverage_needs_a_token(reader: TestClient) -> None:
    for path in ("/coverage", "/coverage/gaps", "/maps/coverage", "/maps/grid/G1"):
        assert reader.get(path).status_code == 403, path


def test_coverage_figures(reader: TestClient) -> None:
    body = reader.get("/coverage", headers=bearer(VIEWER)).json()
    assert {"totals", "grids", "communities", "streets"} <= body.keys()
    grids = {g["code"]: g for g in body["grids"]}
    assert set(grids) == {"G1", "G2", "G3"}
    # H1 lies 50 m from working speaker K1; H2 is near only the broken K2.
    assert grids["G1"]["speaker_share"] == 1.0
    assert grids["G3"]["speaker_share"] == 0.0
    assert grids["G3"]["has_party_branch"] is False
    assert body["totals"]["grids"] == 3
    # Counts are whole numbers in the JSON (3, not 3.0); shares are fractions.
    assert all(type(body["totals"][k]) is int for k in ("grids", "households", "speaker_covered"))
    assert 0.0 <= body["totals"]["speaker_share"] <= 1.0
    streets = reader.get("/coverage", params={"level": "streets"}, headers=bearer(VIEWER)).json()
    assert set(streets) == {"totals", "streets"}
    assert reader.get("/coverage", params={"level": "nope"}, headers=bearer(VIEWER)).status_code == 422


def test_gaps_geojson(reader: TestClient) -> None:
    reply = reader.get("/coverage/gaps", headers=bearer(VIEWER))
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/geo+json")
    features = reply.json()["features"]
    assert any(f["properties"]["grid_code"] == "G3" for f in features)
    only = reader.get("/coverage/gaps", params={"grid_code": "G3"}, headers=bearer(VIEWER)).json()["features"]
    assert only and all(f["properties"]["grid_code"] == "G3" for f in only)


def test_maps_are_self_contained_html(reader: TestClient) -> None:
    page = reader.get("/maps/coverage", params={"measure": "grade", "lang": "en"}, headers=bearer(VIEWER))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "leaflet" in page.text.lower()
    assert "https://cdn" not in page.text
    grid = reader.get("/maps/grid/G1", headers=bearer(VIEWER))
    assert grid.status_code == 200
    assert reader.get("/maps/grid/NOPE", headers=bearer(VIEWER)).status_code == 404
    assert reader.get("/maps/coverage", params={"measure": "x"}, headers=bearer(VIEWER)).status_code == 422


@pytest.mark.parametrize("token", [VIEWER, EDITOR_C1])
def test_no_full_phone_in_coverage_or_maps(reader: TestClient, token: str) -> None:
    for path in ("/coverage", "/coverage/gaps", "/maps/coverage", "/maps/grid/G1", "/maps/grid/G3"):
        text = reader.get(path, headers=bearer(token)).text
        assert PHONE not in text and WORKER_PHONE not in text, path


def test_admin_sees_worker_phone_in_coverage(reader: TestClient) -> None:
    grids = reader.get("/coverage", params={"level": "grids"}, headers=bearer(ADMIN)).json()["grids"]
    assert WORKER_PHONE in {g.get("worker_phone") for g in grids}


def test_health_and_docs(reader: TestClient) -> None:
    health = reader.get("/health").json()
    assert health["status"] == "ok"
    assert health["counts"]["grids"] == 3
    deadline = time.monotonic() + 10  # the counts follow the store's revision once the builder publishes it
    while health["counts_revision"] != health["revision"] and time.monotonic() < deadline:
        time.sleep(0.1)
        health = reader.get("/health").json()
    assert health["counts_revision"] == health["revision"]
    assert reader.get("/docs").status_code == 200
    spec = reader.get("/openapi.json").json()
    assert spec["openapi"] == "3.0.3"
    assert {"/lookup", "/lookup/batch", "/collections/{layer}/items", "/coverage"} <= spec["paths"].keys()


def test_a_moved_speaker_reaches_coverage_with_its_revision(client: TestClient) -> None:
    def g1_share() -> tuple[float, str]:
        reply = client.get("/coverage", params={"level": "grids"}, headers=bearer(VIEWER))
        grids = {g["code"]: g for g in reply.json()["grids"]}
        return grids["G1"]["speaker_share"], reply.headers["X-Gridmap-Revision"]

    share, revision = g1_share()
    assert (share, revision) == (1.0, client.get("/health").json()["revision"])
    far = {  # K1 moved to the north-east corner of the street: H1 (in G1) is no longer in its range
        "type": "Feature",
        "properties": {"name": "1号喇叭", "status": "working"},
        "geometry": {"type": "Point", "coordinates": [114.3195, 30.5195]},
    }
    assert client.put("/collections/speakers/items/K1", json=far, headers=bearer(ADMIN)).status_code == 200
    written = client.get("/health").json()["revision"]
    deadline = time.monotonic() + 10
    while (now := g1_share())[1] != written and time.monotonic() < deadline:
        assert now == (1.0, revision)  # the last published figures until the new ones are ready
        time.sleep(0.05)
    assert now == (0.0, written)


def test_documents_keep_gaps_that_name_no_grid() -> None:
    frames = district()
    outside = frames["speakers"].iloc[[0]].assign(code="K9")
    frames["speakers"] = pd.concat(
        [frames["speakers"], outside.set_geometry([Point(100.0, 10.0)], crs=WGS84)]
    )
    table = pq.read_table(pa.BufferReader(documents(analyze(frames))["gaps.parquet"]))
    lost = table.filter(pc.equal(table.column("kind"), "unassigned")).to_pylist()
    assert [(row["grid_code"], row["description_en"]) for row in lost] == [
        (None, "1 speakers lie in no grid")
    ]


def test_gap_geometries_reencoded_only_where_they_changed() -> None:
    """The second revision reuses the first one's WKB for the same objects, and encodes new ones."""
    analysis = analyze(district())

    def gap_shapes(docs: dict[str, bytes]) -> list[object]:
        table = pq.read_table(pa.BufferReader(docs["gaps.parquet"]))
        return list(shapely.from_wkb(table.column("wkb").to_numpy(zero_copy_only=False)))

    first = gap_shapes(documents(analysis))
    assert len(first) > 1
    assert all(shapely.equals_exact(a, b, 0) for a, b in zip(first, analysis.gaps.geometry, strict=True))
    moved = analysis.gaps.copy()
    moved.loc[0, "geometry"] = Point(114.31, 30.51)
    second = gap_shapes(documents(dataclasses.replace(analysis, gaps=moved)))
    assert second[0].equals(Point(114.31, 30.51))
    assert all(shapely.equals_exact(a, b, 0) for a, b in zip(second[1:], first[1:], strict=True))
    again = gap_shapes(documents(analysis))
    assert all(shapely.equals_exact(a, b, 0) for a, b in zip(again, first, strict=True))


def test_each_role_gets_the_grids_as_that_role_may_read_them() -> None:
    """Roles share a document only when they see the very same rows: the worker's phone only for admin."""
    docs = documents(analyze(district()))
    for role in Role:
        name = f"grids-{role.value}.json"
        if name not in docs:
            continue
        phones = {g.get("worker_phone") for g in json.loads(docs[name])}
        assert (WORKER_PHONE in phones) == (role is Role.ADMIN), role
    assert docs["streets-viewer.json"] == docs["streets-admin.json"]
