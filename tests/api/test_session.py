"""Sign-in cookies: every page opens as a link with the caller's role; cookie writes need the CSRF nonce.

Signing in and out writes nothing to the store: those tests share the session's read-only district
(`reader`, its cookies cleared after each); the tests that write start apps of their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.cookies import COOKIE, CSRF_COOKIE, issue, verify
from api.errors import AuthenticationError
from api.settings import TokenGrant
from tests.api.conftest import EDITOR_C1, PHONE, VIEWER

SPEAKER = {
    "type": "Feature",
    "properties": {"code": "K1", "name": "1号喇叭", "status": "working"},
    "geometry": {"type": "Point", "coordinates": [114.3046, 30.5051]},
}


def _login(client: TestClient, token: str) -> dict:
    response = client.post("/login", json={"token": token})
    assert response.status_code == 200, response.text
    return response.json()


def test_login_sets_a_strict_httponly_expiring_cookie(reader: TestClient) -> None:
    response = reader.post("/login", data={"token": VIEWER}, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["role"] == "viewer"
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(f"{COOKIE}="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Max-Age=28800" in session
    assert VIEWER not in session  # the token itself never travels in the cookie
    csrf = next(c for c in cookies if c.startswith(f"{CSRF_COOKIE}="))
    assert "HttpOnly" not in csrf and response.json()["csrf_token"] in csrf
    reader.cookies.clear()


def test_a_signed_in_browser_opens_coverage_and_maps_as_links(reader: TestClient) -> None:
    assert reader.get("/coverage").status_code == 403
    _login(reader, VIEWER)
    try:
        assert reader.get("/session").json()["role"] == "viewer"
        assert reader.get("/coverage").status_code == 200
        assert reader.get("/maps/coverage").status_code == 200
        households = reader.get("/collections/households/items").json()["features"]
        assert {f["properties"]["contact_phone"] for f in households} >= {"138****1234"}
        assert PHONE not in reader.get("/collections/households/items").text
        out = reader.post("/logout", headers={"X-CSRF-Token": reader.cookies[CSRF_COOKIE]})
        assert out.status_code == 200
        assert reader.get("/session").json()["role"] == "anonymous"
        assert reader.get("/coverage").status_code == 403
    finally:
        reader.cookies.clear()


def test_bad_logins_change_nothing(reader: TestClient) -> None:
    assert reader.post("/login", json={"token": "not-a-configured-token"}).status_code == 401
    assert reader.post("/login", json={}).status_code == 422
    assert reader.post("/login", content=b"token", headers={"Content-Type": "text/plain"}).status_code == 422
    assert COOKIE not in reader.cookies


def test_forged_expired_and_revoked_cookies_are_refused() -> None:
    grants = {VIEWER: TokenGrant(role="viewer")}
    value, session = issue(VIEWER, grants, 60)
    assert verify(value, grants) == session and time.time() < session.expires
    payload, _, signature = value.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    for bad in (forged, value + "x", "garbage"):
        with pytest.raises(AuthenticationError, match="not valid"):
            verify(bad, grants)
    expired, _ = issue(VIEWER, grants, -1)
    with pytest.raises(AuthenticationError, match="expired"):
        verify(expired, grants)
    # Revoking or adding a token changes the signing key: every session ends.
    with pytest.raises(AuthenticationError, match="not valid"):
        verify(value, {**grants, "another-token-0123456789": TokenGrant(role="admin")})


def test_cookie_writes_need_the_csrf_header(client: TestClient) -> None:
    csrf = _login(client, EDITOR_C1)["csrf_token"]
    url = "/collections/speakers/items/K1"
    refused = client.put(url, json=SPEAKER)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    assert client.get(url).json()["geometry"]["coordinates"] == [114.3045, 30.505]
    wrong = client.put(url, json=SPEAKER, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    done = client.put(url, json=SPEAKER, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.text
    assert client.get(url).json()["geometry"]["coordinates"] == [114.3046, 30.5051]


def test_bearer_header_keeps_working_without_csrf(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    response = client.put(
        "/collections/speakers/items/K1", json=SPEAKER, headers={"Authorization": f"Bearer {EDITOR_C1}"}
    )
    assert response.status_code == 200, response.text


def test_signing_out_ends_the_session_for_every_worker(make_client: Callable[..., TestClient]) -> None:
    """A cookie copied before sign-out kept admin reads and writes working for its 8 hours."""
    first, second = make_client(), make_client()  # two workers sharing one serving folder
    nonce = _login(first, VIEWER)["csrf_token"]
    copied = first.cookies[COOKIE]
    assert second.get("/coverage", cookies={COOKIE: copied}).status_code == 200
    assert first.post("/logout", headers={"X-CSRF-Token": nonce}).status_code == 200
    for client in (first, second):
        client.cookies.clear()
        reply = client.get("/coverage", cookies={COOKIE: copied})
        assert reply.status_code == 401 and "signed out" in reply.json()["detail"]
    assert _login(second, VIEWER)["role"] == "viewer"  # signing in again works
    assert second.get("/coverage").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {},
    ],
)
def test_sign_out_refuses_cross_site_and_nonce_less_requests(
    reader: TestClient, headers: dict[str, str]
) -> None:
    _login(reader, VIEWER)
    try:
        reply = reader.post("/logout", headers=headers)
        assert reply.status_code == 403, reply.text
        assert reader.get("/coverage").status_code == 200  # still signed in
        refused = reader.post("/login", json={"token": VIEWER}, headers=headers)
        assert refused.status_code == (403 if headers else 200)
        same_origin = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
        assert reader.post(
            "/logout", headers={**same_origin, "X-CSRF-Token": reader.cookies[CSRF_COOKIE]}
        ).is_success
    finally:
        reader.cookies.clear()
