"""`/visits` over HTTP on both stores: idempotent recording, confinement to one's own grids, masking."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from gridmap.stores import Store
from gridmap.visits.service import Visit, log_visit, set_care
from tests.api.conftest import ADMIN, EDITOR_C1, VIEWER, bearer

VISIT = {"key": "phone-1-0001", "household_code": "H1", "visited_at": "2026-11-01T10:00:00+08:00"}


@pytest.fixture
def placed(loaded: Store) -> Store:
    """H1 in grid G1 (community C1, 空巢 and 社区矫正), H2 in G3 (community C2)."""
    households = loaded.read("households")
    households["grid_code"] = households["code"].map({"H1": "G1", "H2": "G3"})
    loaded.replace("households", households)
    set_care(loaded, "H1", ["elderly_alone", "correction"], "admin")
    return loaded


def test_a_retried_post_records_one_visit(placed: Store, client: TestClient) -> None:
    first = client.post("/visits", json=VISIT, headers=bearer(EDITOR_C1))
    assert first.status_code == 201, first.text
    assert first.json()["created"] is True and first.json()["grid_code"] == "G1"
    again = client.post("/visits", json=VISIT, headers=bearer(EDITOR_C1))
    assert again.status_code == 200 and again.json()["created"] is False
    listed = client.get("/visits", params={"grid": "G1"}, headers=bearer(EDITOR_C1)).json()
    assert [v["key"] for v in listed["visits"]] == ["phone-1-0001"]
    assert listed["visits"][0]["visitor"]  # the token's name, or its role


def test_a_worker_sees_only_their_own_grids(placed: Store, client: TestClient) -> None:
    other = {**VISIT, "key": "phone-1-0002", "household_code": "H2"}
    assert client.post("/visits", json=other, headers=bearer(EDITOR_C1)).status_code == 403
    assert client.get("/visits/due", params={"grid": "G3"}, headers=bearer(EDITOR_C1)).status_code == 403
    assert client.get("/visits", params={"grid": "G3"}, headers=bearer(EDITOR_C1)).status_code == 403
    assert client.post("/visits", json=VISIT).status_code in (401, 403)
    assert client.post("/visits", json=other, headers=bearer(ADMIN)).status_code == 201


def test_due_list_masks_care_by_role(placed: Store, client: TestClient) -> None:
    client.post("/visits", json=VISIT, headers=bearer(EDITOR_C1))
    params = {"grid": "G1", "on": "2026-12-07"}
    worker = client.get("/visits/due", params=params, headers=bearer(EDITOR_C1)).json()
    (h1,) = worker["households"]
    assert h1["code"] == "H1" and h1["status"] == "overdue" and h1["days_overdue"] == 6
    assert h1["categories"] == ["关爱对象", "elderly_alone"]  # 社区矫正 is for admins alone
    admin = client.get("/visits/due", params=params, headers=bearer(ADMIN)).json()
    assert admin["households"][0]["categories"] == ["correction", "elderly_alone"]
    viewer = client.get("/visits/due", params=params, headers=bearer(VIEWER)).json()
    assert viewer["households"][0]["categories"] == ["关爱对象"]
    assert client.get("/visits/due", params={"grid": "G9"}, headers=bearer(ADMIN)).status_code == 404
    bad = client.post("/visits", json={**VISIT, "visited_at": "yesterday"}, headers=bearer(EDITOR_C1))
    assert bad.status_code in (400, 422) and "visited_at" in bad.text
    figures = client.get(
        "/visits/stats", params={"since": "2026-11-01", "until": "2026-11-30"}, headers=bearer(VIEWER)
    ).json()
    assert figures["rows"][0]["visits"] == 1


def test_a_logged_visit_reaches_coverage_within_two_seconds(
    placed: Store, make_client: Callable[..., TestClient]
) -> None:
    """The builder follows the visit book as it follows the layers: H1 (G1, monthly for its care
    categories), last visited 40 days ago, is overdue; a visit logged now makes G1's share 1."""
    now = dt.datetime.now(dt.UTC)
    log_visit(placed, Visit("old-1", "H1", "张三", now - dt.timedelta(days=40)))
    log_visit(placed, Visit("old-2", "H2", "王五", now - dt.timedelta(days=10)))
    client = make_client()

    def shares() -> dict[str, float]:
        reply = client.get("/coverage", params={"level": "grids"}, headers=bearer(VIEWER))
        return {g["code"]: g["visit_share"] for g in reply.json()["grids"] if g["visit_share"] is not None}

    assert shares() == {"G1": 0.0, "G3": 1.0}
    revision = client.get("/health").json()["revision"]
    visit = {**VISIT, "key": "phone-now", "visited_at": now.isoformat()}
    assert client.post("/visits", json=visit, headers=bearer(EDITOR_C1)).status_code == 201
    posted = time.monotonic()
    while (seen := shares()) != {"G1": 1.0, "G3": 1.0} and time.monotonic() - posted < 10.0:
        time.sleep(0.02)
    waited = time.monotonic() - posted
    assert seen == {"G1": 1.0, "G3": 1.0}
    assert client.get("/health").json()["revision"] == revision  # no layer changed
    # The builder took the visit up at once: beyond redoing the street (about a second on this
    # shared machine, more under load), the figures waited well under the two seconds allowed.
    edition = client.app.state.shelf.newest()  # type: ignore[attr-defined]
    assert waited - edition.seconds < 1.0, (waited, edition.seconds)
    assert waited < 2.0 or edition.seconds > 1.0, (waited, edition.seconds)
