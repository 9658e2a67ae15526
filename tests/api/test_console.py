"""The console's page and assets, the OGC landing page kept for JSON clients, offline /docs,
and the endpoints the console reads (search, grid actions, topology check, vocabulary)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN, EDITOR_C1, PHONE, VIEWER, bearer


def test_browsers_get_the_console_and_ogc_clients_the_landing_page(reader: TestClient) -> None:
    page = reader.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and "网格治理工作台" in page.text
    for accept in ("application/json", "application/json, text/html;q=0.5", "*/*"):
        landing = reader.get("/", headers={"Accept": accept})
        assert landing.json()["title"] == "gridmap", accept
    assert reader.get("/?f=json", headers={"Accept": "text/html"}).json()["title"] == "gridmap"
    assert "网格治理工作台" in reader.get("/?f=html").text


def test_every_asset_comes_from_this_server(reader: TestClient) -> None:
    for path in ("/", "/docs"):
        html = reader.get(path, headers={"Accept": "text/html"}).text
        urls = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert urls and all(u.startswith(("/", "data:")) for u in urls), urls
        for url in urls:
            if url.startswith("/"):
                assert reader.get(url).status_code == 200, url
    assert "SwaggerUIBundle" in reader.get("/static/swagger/swagger-ui-bundle.js").text
    assert "VectorGrid" in reader.get("/static/vendor/vectorgrid.js").text


def test_search_finds_grids_communities_addresses_and_points(reader: TestClient) -> None:
    grid = reader.get("/search", params={"q": "幸福二网格"}).json()["results"][0]
    assert grid["kind"] == "grid" and grid["code"] == "G2" and grid["grid_code"] == "G2"
    assert grid["bbox"] == [114.3, 30.51, 114.31, 30.52]
    community = reader.get("/search", params={"q": "和平社区"}).json()["results"][0]
    assert community["kind"] == "community" and community["code"] == "C2"
    address = reader.get("/search", params={"q": "武汉市武昌区幸福路88号8栋"}).json()["results"][0]
    assert address["kind"] == "address" and address["grid_code"] == "G2"
    point = reader.get("/search", params={"q": "114.315, 30.505"}).json()["results"][0]
    assert point["grid_code"] == "G3"
    missing = reader.get("/search", params={"q": "火星路1号"})
    assert missing.status_code == 404 and "suggestions" in missing.json()


def test_search_places_a_number_the_register_lacks(reader: TestClient) -> None:
    found = reader.get("/search", params={"q": "和平大道12号3栋"}).json()  # building 3 is not registered
    assert found["results"][0]["grid_code"] == "G3" and found["match"]["method"] == "interpolated"
    between = reader.get("/search", params={"q": "幸福路88号5栋"})  # buildings of 88号 lie in G1 and G2
    assert between.status_code == 404 and between.json()["candidates"] == ["G1", "G2"]


def test_grid_actions_say_why_and_what_to_do(reader: TestClient) -> None:
    assert reader.get("/grids/G1/actions").status_code == 403  # anonymous: no figures
    body = reader.get("/grids/G3/actions", headers=bearer(VIEWER)).json()
    assert body["grid"]["code"] == "G3" and body["grid"]["grade"] == "D"
    rules = {r["rule"] for r in body["reasons"]}
    assert {"speaker", "no_party_branch"} <= rules
    # K2 is broken and 1.1 km from H2: repairing it reaches nobody, and it is listed all the same.
    assert [(r["code"], r["would_cover"]) for r in body["repair"]] == [("K2", 0)]
    assert body["uncovered"]["total"] == 1
    h2 = body["uncovered"]["households"][0]
    assert h2["address"] == "武汉市武昌区和平大道12号2单元301室" and h2["contact_phone"] == "137****4321"
    assert body["sites"][0]["rank"] == 1 and body["sites"][0]["gain"] == 1
    admin = reader.get("/grids/G1/actions", headers=bearer(ADMIN)).json()
    assert admin["uncovered"]["total"] == 0 and admin["grid"]["worker_phone"] == "13900001111"
    assert PHONE not in reader.get("/grids/G1/actions", headers=bearer(VIEWER)).text
    assert reader.get("/grids/G9/actions", headers=bearer(VIEWER)).status_code == 404


def test_topology_check_before_saving_a_boundary(reader: TestClient) -> None:
    def square(x0: float, y0: float, x1: float, y1: float) -> dict:
        return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}

    same = reader.post(
        "/grids/G1/check", json=square(114.30, 30.50, 114.31, 30.51), headers=bearer(EDITOR_C1)
    )
    assert same.json() == {"ok": True, "findings": []}
    shrunk = reader.post(
        "/grids/G1/check", json=square(114.30, 30.50, 114.31, 30.508), headers=bearer(EDITOR_C1)
    ).json()
    assert shrunk["ok"] is False and [f["kind"] for f in shrunk["findings"]] == ["gap"]
    assert shrunk["findings"][0]["label"] == "覆盖缝隙"
    outside = reader.post(
        "/grids/G3/check", json=square(114.31, 30.50, 114.32, 30.52), headers=bearer(EDITOR_C1)
    )
    assert outside.status_code == 403  # G3 is in C2, not the editor's community
    assert (
        reader.post(
            "/grids/G1/check", json={"type": "Point", "coordinates": [1, 2]}, headers=bearer(ADMIN)
        ).status_code
        == 422
    )


def test_a_shared_edge_is_checked_for_both_grids_at_once(reader: TestClient) -> None:
    def grid(code: str, y0: float, y1: float) -> dict:
        ring = [[114.30, y0], [114.31, y0], [114.31, y1], [114.30, y1], [114.30, y0]]
        return {
            "type": "Feature",
            "properties": {"code": code},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }

    # G1 and G2 share the edge y = 30.51; moving it for G1 alone overlaps G2 ...
    alone = reader.post(
        "/grids/G1/check", json=grid("G1", 30.50, 30.512)["geometry"], headers=bearer(EDITOR_C1)
    )
    assert alone.json()["ok"] is False and "overlap" in {f["kind"] for f in alone.json()["findings"]}
    # ... moving it for both is sound.
    both = {"type": "FeatureCollection", "features": [grid("G1", 30.50, 30.512), grid("G2", 30.512, 30.52)]}
    assert reader.post("/grids/check", json=both, headers=bearer(EDITOR_C1)).json() == {
        "ok": True,
        "findings": [],
    }
    assert (
        reader.post(
            "/grids/check", json={"type": "FeatureCollection", "features": []}, headers=bearer(ADMIN)
        ).status_code
        == 422
    )
    unknown = {"type": "FeatureCollection", "features": [grid("G9", 30.50, 30.51)]}
    assert reader.post("/grids/check", json=unknown, headers=bearer(ADMIN)).status_code == 404
    other = {"type": "FeatureCollection", "features": [grid("G1", 30.50, 30.512), grid("G3", 30.50, 30.51)]}
    assert (
        reader.post("/grids/check", json=other, headers=bearer(EDITOR_C1)).status_code == 403
    )  # G3 is in C2


def test_vocabulary_is_the_registry(reader: TestClient) -> None:
    body = reader.get("/vocabulary").json()
    assert body["measures"]["linkage"]["thresholds"] == [0.9, 0.75, 0.5]
    assert body["finding_kinds"]["too_few_households"]["zh"] == "户数过少"
    assert body["gap_kinds"]["no_worker"]["en"] == "no grid worker"


def test_meeting_reports_open_as_links(reader: TestClient) -> None:
    assert reader.get("/reports/grid/G1.pdf").status_code == 403  # anonymous
    html = reader.get("/reports/community/C1.pdf", params={"html": True}, headers=bearer(VIEWER))
    assert html.status_code == 200 and "幸福社区网格治理会议报告" in html.text
    assert "幸福一网格" in html.text and "幸福二网格" in html.text and "和平网格" not in html.text
    assert PHONE not in html.text and "13900001111" not in html.text
    pdf = reader.get("/reports/grid/G3.pdf", headers=bearer(VIEWER))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert reader.get("/reports/street/S9.pdf", headers=bearer(VIEWER)).status_code == 404
    assert reader.get("/reports/city/S1.pdf", headers=bearer(VIEWER)).status_code == 422
