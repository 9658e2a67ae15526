"""/coverage, /coverage/gaps, /maps/…, /health and /docs through the real app."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point

from api.coverage import coverage_body, documents
from gridmap.analysis import analyze
from gridmap.frames import WGS84
from gridmap.privacy import Role, sight
from gridmap.serving import Shelf
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
    table = pq.read_table(pa.BufferReader(documents(analyze(frames)).whole["gaps-rest.parquet"]))
    lost = table.filter(pc.equal(table.column("kind"), "unassigned")).to_pylist()
    assert [(row["grid_code"], row["description_en"]) for row in lost] == [
        (None, "1 speakers lie in no grid")
    ]


def test_each_role_gets_the_grids_as_that_role_may_read_them(tmp_path: Path) -> None:
    """Roles share a document only when they see the very same rows: the worker's phone only for admin."""
    edition = Shelf(tmp_path).publish("1", documents(analyze(district())), {})
    readers = [role for role in Role if role.allows(Role.VIEWER)]
    assert {f"grids-{sight(role)}" for role in readers} == {"grids-all", "grids-masked"}
    for role in readers:
        grids = json.loads(coverage_body(edition, ("grids",), role))["grids"]
        phones = {g.get("worker_phone") for g in grids}
        assert len(grids) == 3 and (WORKER_PHONE in phones) == (role is Role.ADMIN), role


def test_an_edit_renders_only_its_street(tmp_path: Path) -> None:
    """The parts of streets not named are left to the previous edition; the whole documents are rendered."""
    frames = district()
    frames["streets"] = pd.concat([frames["streets"], frames["streets"].assign(code="S2", name="平安街道")])
    frames["communities"].loc[1, "street_code"] = "S2"  # C2, with G3, in a street of its own
    analysis = analyze(frames)
    whole = documents(analysis)
    assert {doc: list(keys) for doc, keys in whole.order.items()} == {
        "grids-all": ["S1", "S2"],
        "grids-masked": ["S1", "S2"],
        "communities": ["S1", "S2"],
        "gaps": ["S1", "S2", ""],
    }
    assert all(set(whole.parts[doc]) == set(keys) for doc, keys in whole.order.items())
    one = documents(analysis, ["S2"])
    assert one.order == whole.order and one.whole == whole.whole
    assert {doc: set(parts) for doc, parts in one.parts.items()} == {
        "grids-all": {"S2"},
        "grids-masked": {"S2"},
        "communities": {"S2"},
        "gaps": {"S2", ""},  # gaps of no street's grid: always rendered
    }
    assert all(one.parts[doc][key] == whole.parts[doc][key] for doc in one.parts for key in one.parts[doc])
    assert json.loads(b"[" + one.parts["grids-all"]["S2"] + b"]")[0]["code"] == "G3"
    assert documents(analysis, []).parts["communities"] == {}
