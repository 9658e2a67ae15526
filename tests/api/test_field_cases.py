"""A case reported with an idempotency key (the phone page's queue) on both stores: sent twice, one case."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from gridmap.stores import Store
from gridmap.visits.intake import STALE_CLAIM
from tests.api.conftest import ADMIN, WORKER_ZHANG, bearer

REPORT = {"category": "0102", "source": "grid_worker", "lon": 114.3045, "lat": 30.5045, "key": "phone-case-1"}


def test_a_resent_report_makes_one_case(loaded: Store, client: TestClient) -> None:
    first = client.post("/cases", json=REPORT, headers=bearer(WORKER_ZHANG))
    assert first.status_code == 201, first.text
    again = client.post("/cases", json=REPORT, headers=bearer(WORKER_ZHANG))
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["code"] == first.json()["code"] and again.json()["grid_code"] == "G1"
    other = client.post("/cases", json={**REPORT, "key": "phone-case-2"}, headers=bearer(WORKER_ZHANG))
    assert other.status_code == 201 and other.json()["code"] != first.json()["code"]
    listed = client.get("/cases", params={"category": "0102"}, headers=bearer(ADMIN)).json()
    assert listed["numberMatched"] == 2  # (a broken speaker of the district has its repair ticket too)


def test_a_report_still_being_recorded_is_refused_until_its_claim_goes_stale(
    loaded: Store, client: TestClient
) -> None:
    book = loaded.visit_book()
    now = dt.datetime.now(dt.UTC)
    assert book.claim_case_key("phone-case-3", now, STALE_CLAIM) == (True, None)
    busy = client.post("/cases", json={**REPORT, "key": "phone-case-3"}, headers=bearer(WORKER_ZHANG))
    assert busy.status_code == 409
    assert book.claim_case_key("phone-case-4", now - 2 * STALE_CLAIM, STALE_CLAIM) == (True, None)
    taken = client.post("/cases", json={**REPORT, "key": "phone-case-4"}, headers=bearer(WORKER_ZHANG))
    assert taken.status_code == 201
    bad = client.post(
        "/cases", json={**REPORT, "key": "phone-case-5", "category": "nope"}, headers=bearer(WORKER_ZHANG)
    )
    assert bad.status_code == 422
    assert book.claim_case_key("phone-case-5", now, STALE_CLAIM) == (True, None)  # the failed report freed it
