"""`/party` on both stores: nothing personal below the rights to see it, and a secretary edits their own."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from gridmap.party.points import DEFAULT_RULES, PointEntry, record_points, set_rules
from gridmap.stores import Store
from tests.party.conftest import NAMES, PHONES, load_chain

VIEWER = "party-viewer-token-0123456789"
EDITOR_C1 = "party-editor-c1-token-0123456789"
EDITOR_C2 = "party-editor-c2-token-0123456789"
SECRETARY_PG1 = "party-secretary-pg1-token-0123456789"
SECRETARY_PG2 = "party-secretary-pg2-token-0123456789"
ADMIN = "party-admin-token-0123456789abcdef"
TOKENS = {
    VIEWER: {"role": "viewer"},
    EDITOR_C1: {"role": "editor", "communities": ["C1"]},
    EDITOR_C2: {"role": "editor", "communities": ["C2"]},
    SECRETARY_PG1: {"role": "editor", "communities": ["C1"], "party_orgs": ["PG1"], "name": "第1网格书记"},
    SECRETARY_PG2: {"role": "editor", "communities": ["C1"], "party_orgs": ["PG2"], "name": "第2网格书记"},
    ADMIN: {"role": "admin"},
}
READS = (
    "/party/orgs",
    "/party/orgs?street=S1",
    "/party/orgs/PS1",
    "/party/orgs/PG1",
    "/party/members",
    "/party/members?org=PG1",
    "/party/links",
    "/party/links/H1/proposal",
    "/party/findings",
    "/party/points/ranking?year=2025",
    "/party/funds?year=2025",
    "/party/history/members/M1",
    "/party/history/members/M2",
    "/reports/street/S1.pdf?html=true",
)
SECRETS = (*NAMES, *PHONES)


def _as(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture
def client(store: Store, store_url: str) -> Iterator[TestClient]:
    load_chain(store)
    set_rules(store, DEFAULT_RULES)
    record_points(store, PointEntry("M1", "study", dt.date(2025, 3, 1), "书记", "签到表", 3))
    settings = ApiSettings(
        store=store_url,
        tokens=json.dumps(TOKENS),
        builder="thread",  # type: ignore[arg-type]
        serving_dir=Path(tempfile.mkdtemp(prefix="gridmap-serving-")),
        token_failures_per_minute=10_000,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as opened:
        yield opened


def test_no_response_below_the_right_holds_a_name_or_phone(client: TestClient) -> None:
    for token in (None, VIEWER, EDITOR_C1, EDITOR_C2, SECRETARY_PG2):
        for path in READS:
            reply = client.get(path, headers=_as(token))
            assert reply.status_code in (200, 401, 403), (token, path, reply.text)
            leaked = [s for s in SECRETS if s in reply.text]
            assert not leaked, (token, path, leaked)
    members = client.get("/party/members", headers=_as(VIEWER)).json()["members"]
    assert [m["name"] for m in members] == ["王**", "李**", "吴*"]
    # The same reads carry them to an admin, and to the secretary of the branch they belong to.
    admin = "".join(client.get(path, headers=_as(ADMIN)).text for path in READS)
    assert all(s in admin for s in SECRETS)
    own = client.get("/party/members?org=PG1", headers=_as(SECRETARY_PG1)).json()["members"]
    assert [(m["name"], m["phone"]) for m in own] == [(NAMES[0], PHONES[0]), (NAMES[1], PHONES[1])]
    ranking = client.get("/party/points/ranking?year=2025", headers=_as(SECRETARY_PG1)).json()
    assert [r["name"] for r in ranking["own"]] == [NAMES[0], NAMES[1]]
    assert ranking["public"] and all("name" not in r and "member_code" not in r for r in ranking["public"])
    pg2 = client.get("/party/members?org=PG2", headers=_as(SECRETARY_PG2)).json()["members"]
    assert [m["name"] for m in pg2] == ["吴六"]  # PB3's member, below PG2


def test_a_secretary_edits_their_own_organisation_only(client: TestClient) -> None:
    version = {
        "name": "第2网格联合党支部",
        "kind": "grid_branch",
        "area_kind": "grid",
        "area_code": "G2",
        "parent_code": "PC1",
        "valid_from": "2025-07-01",
    }
    assert client.put("/party/orgs/PG1", json=version, headers=_as(SECRETARY_PG2)).status_code == 403
    assert client.put("/party/orgs/PG2", json=version, headers=_as(VIEWER)).status_code == 403
    done = client.put("/party/orgs/PG2", json=version, headers=_as(SECRETARY_PG2))
    assert done.status_code == 200, done.text
    assert done.json()["name"] == "第2网格联合党支部" and done.json()["valid_from"] == "2025-07-01"
    versions = client.get("/party/orgs/PG2", headers=_as(VIEWER)).json()["versions"]
    assert [v["valid_to"] for v in versions] == ["2025-07-01", None]
    bad = client.put(
        "/party/orgs/PG2", json={**version, "valid_from": "2025-01-01"}, headers=_as(SECRETARY_PG2)
    )
    assert bad.status_code == 422 and "valid_from" in bad.text

    member = {"name": "周八", "org_code": "PG1", "phone": "13700001111"}
    assert client.put("/party/members/M9", json=member, headers=_as(SECRETARY_PG2)).status_code == 403
    moved = client.put("/party/members/M1", json={**member, "org_code": "PB3"}, headers=_as(SECRETARY_PG2))
    assert moved.status_code == 403  # M1 is PG1's
    made = client.put("/party/members/M9", json={**member, "org_code": "PB3"}, headers=_as(SECRETARY_PG2))
    assert made.status_code == 200, made.text

    entry = {"member_code": "M1", "rule_code": "volunteer", "occurred_on": "2025-05-01", "evidence": "照片"}
    assert client.post("/party/points", json=entry, headers=_as(SECRETARY_PG2)).status_code == 403
    assert client.post("/party/points", json=entry, headers=_as(SECRETARY_PG1)).status_code == 201
    funds = {"org_code": "PG1", "year": 2025, "flow": "receipt", "amount": 6000}
    assert client.post("/party/funds", json=funds, headers=_as(SECRETARY_PG2)).status_code == 403
    assert client.post("/party/funds", json=funds, headers=_as(SECRETARY_PG1)).status_code == 201
    owed = client.get("/party/funds?year=2025", headers=_as(VIEWER)).json()["entitlements"]
    assert {(r["org_code"], r["source"]): r["short"] for r in owed}[("PG1", "branch_funds")] == 4000

    assert (
        client.put("/party/links/H1", json={"households": ["H2"]}, headers=_as(EDITOR_C2)).status_code == 403
    )
    linked = client.put("/party/links/H1", json={"households": ["H2", "H3"]}, headers=_as(EDITOR_C1))
    assert linked.status_code == 200 and linked.json()["links"] == ["H2", "H3"]
    refused = client.put("/party/links/H1", json={"households": ["H7"]}, headers=_as(EDITOR_C1))
    assert refused.status_code == 422 and "households" in refused.text


def test_a_secretary_named_by_member_code_is_masked_below_the_right(client: TestClient) -> None:
    version = {
        "name": "第1网格党支部",
        "kind": "grid_branch",
        "area_kind": "grid",
        "area_code": "G1",
        "parent_code": "PC1",
        "secretary_code": "M1",
        "valid_from": "2025-07-01",
    }
    wrong = client.put("/party/orgs/PG1", json={**version, "secretary_code": "M3"}, headers=_as(ADMIN))
    assert wrong.status_code == 422 and "secretary_code" in wrong.text and "PB3" in wrong.text
    done = client.put("/party/orgs/PG1", json=version, headers=_as(SECRETARY_PG1))
    assert done.status_code == 200, done.text
    assert (done.json()["secretary"], done.json()["secretary_phone"]) == (NAMES[0], PHONES[0])
    for token in (VIEWER, SECRETARY_PG2):
        newest = client.get("/party/orgs/PG1", headers=_as(token)).json()["versions"][-1]
        assert newest["secretary_code"] == "M1" and newest["secretary"] == "王**"
        assert newest["secretary_phone"] == "139****5678"
    whole = client.get("/party/orgs/PG1", headers=_as(ADMIN)).json()["versions"][-1]
    assert (whole["secretary"], whole["secretary_phone"]) == (NAMES[0], PHONES[0])


def test_the_meeting_report_carries_the_party_findings(client: TestClient) -> None:
    html = client.get("/reports/street/S1.pdf?html=true", headers=_as(VIEWER)).text
    section = html.split('id="party"', 1)[1]
    assert "大党委无共建单位" in section and "PC2组织" in section and "两个覆盖" in section
    assert "33.3%" in section and "12.5" in section and not any(s in html for s in SECRETS)


def test_the_dedicated_grids_as_geojson(client: TestClient) -> None:
    assert client.get("/party/dedicated").status_code == 403  # anonymous
    assert client.get("/party/dedicated", headers=_as(VIEWER)).json()["features"] == []
    shape = "POLYGON ((114.314 30.504, 114.317 30.504, 114.317 30.507, 114.314 30.507, 114.314 30.504))"
    version = {
        "name": "和平商圈党支部",
        "kind": "building_org",
        "area_kind": "dedicated",
        "area_code": "C2",
        "parent_code": "PC2",
        "area_wkt": shape,
        "valid_from": "2025-01-01",
    }
    assert client.put("/party/orgs/PD1", json=version, headers=_as(ADMIN)).status_code == 200
    body = client.get("/party/dedicated", headers=_as(VIEWER)).json()
    assert body["label"] == "专属网格" and body["kinds"]["building_org"] == "商圈楼宇党组织"
    (feature,) = body["features"]
    assert feature["properties"] == {
        "code": "PD1",
        "name": "和平商圈党支部",
        "kind": "building_org",
        "community_code": "C2",
    }
    assert feature["geometry"]["type"] == "Polygon" and feature["geometry"]["coordinates"][0][2] == [
        114.317,
        30.507,
    ]
    before = client.get("/party/dedicated?on=2024-06-01", headers=_as(VIEWER)).json()
    assert before["features"] == []  # not in force yet


def test_a_rows_history_and_its_revert_follow_the_rights(client: TestClient) -> None:
    member = {"name": NAMES[0], "org_code": "PB1", "phone": "13700001111", "household_code": "H1"}
    assert client.put("/party/members/M1", json=member, headers=_as(SECRETARY_PG1)).status_code == 200
    changes = client.get("/party/history/members/M1", headers=_as(SECRETARY_PG1)).json()["changes"]
    assert [(c["author"], c["changes"][0]["op"]) for c in changes][1:] == [("第1网格书记", "updated")]
    update = changes[-1]["changes"][0]
    assert (update["before"]["phone"], update["after"]["phone"]) == (PHONES[0], "13700001111")
    masked = client.get("/party/history/members/M1", headers=_as(SECRETARY_PG2)).text
    assert "13700001111" not in masked and PHONES[0] not in masked and NAMES[0] not in masked
    path = "/party/history/members/M1/revert"
    assert client.post(path, headers=_as(SECRETARY_PG2)).status_code == 403
    assert client.post(path, headers=_as(VIEWER)).status_code == 403
    done = client.post(path, headers=_as(SECRETARY_PG1))
    assert done.status_code == 200 and done.json()["undone"] == "updated"
    assert client.get("/party/members?org=PB1", headers=_as(ADMIN)).json()["members"][0]["phone"] == PHONES[0]
    assert client.post("/party/history/units/U2/revert", headers=_as(SECRETARY_PG1)).status_code == 403
    assert client.get("/party/history/members/M404", headers=_as(VIEWER)).status_code == 404
    assert client.get("/party/history/budgets/1", headers=_as(VIEWER)).status_code == 404
