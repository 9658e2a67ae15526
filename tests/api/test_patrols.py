"""`/patrols` on both stores: idempotent recording, figures in the worker's own grid, tracks kept
to their worker and admins. Grid G1 is box(114.30, 30.50, 114.31, 30.51) of the test district."""

from __future__ import annotations

import pyproj
import pytest
from fastapi.testclient import TestClient

from gridmap.stores import Store
from tests.api.conftest import ADMIN, VIEWER, WORKER_LI, WORKER_ZHANG, bearer

START_MS = 1_764_554_400_000  # 2025-12-01 10:00 Beijing
GEOD = pyproj.Geod(ellps="WGS84")
# West to east along lat 30.505, from 0.002° west of G1 to 0.002° inside it, 1 m/s per metre walked.
LONS = [114.298, 114.300, 114.302]
LEG_M = [GEOD.inv(LONS[i], 30.505, LONS[i + 1], 30.505)[2] for i in range(2)]
FIXES = [[LONS[0], 30.505, START_MS], [LONS[1], 30.505, START_MS + LEG_M[0] * 1000]]
FIXES.append([LONS[2], 30.505, FIXES[1][2] + LEG_M[1] * 1000])
PATROL = {"key": "phone-zhang-0001", "grid_code": "G1", "fixes": FIXES}


def test_a_retried_patrol_is_recorded_once_and_measured_inside_the_grid(
    loaded: Store, client: TestClient
) -> None:
    first = client.post("/patrols", json=PATROL, headers=bearer(WORKER_ZHANG))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["worker"] == "张三" and body["day"] == "2025-12-01"
    assert body["inside_m"] == pytest.approx(LEG_M[1], abs=0.5)
    assert body["inside_s"] == pytest.approx(LEG_M[1], abs=1)
    assert body["track"]["type"] == "LineString"
    again = client.post("/patrols", json=PATROL, headers=bearer(WORKER_ZHANG))
    assert again.status_code == 200 and again.json() == body | {"created": False}
    week = client.get("/patrols/week", params={"on": "2025-12-03", "grid": "G1"}, headers=bearer(VIEWER))
    (g1,) = week.json()["grids"]
    assert g1["patrols"] == 1 and g1["inside_km"] == pytest.approx(LEG_M[1] / 1000, abs=0.001)
    assert g1["road_share"] is None  # the test district has no roads


def test_tracks_are_for_their_worker_and_admins(loaded: Store, client: TestClient) -> None:
    client.post("/patrols", json=PATROL, headers=bearer(WORKER_ZHANG))
    own = client.get("/patrols", params={"grid": "G1"}, headers=bearer(WORKER_ZHANG)).json()
    colleague = client.get("/patrols", params={"grid": "G1"}, headers=bearer(WORKER_LI)).json()
    admin = client.get("/patrols", headers=bearer(ADMIN)).json()
    assert "track" in own["patrols"][0] and "track" in admin["patrols"][0]
    assert colleague["count"] == 1 and "track" not in colleague["patrols"][0]
    assert "seconds" not in colleague["patrols"][0]
    assert client.get("/patrols", headers=bearer(VIEWER)).status_code == 403
    other = {**PATROL, "key": "phone-zhang-0002", "grid_code": "G3"}
    assert client.post("/patrols", json=other, headers=bearer(WORKER_ZHANG)).status_code == 403
    backwards = {**PATROL, "key": "phone-zhang-0003", "fixes": [FIXES[1], FIXES[0]]}
    refused = client.post("/patrols", json=backwards, headers=bearer(WORKER_ZHANG))
    assert refused.status_code == 422 and "backwards" in refused.text
    assert client.get("/patrols", headers=bearer(ADMIN)).json()["count"] == 1
