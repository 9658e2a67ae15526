"""Who may call: HTTP Basic with the token as the password (QGIS), and a bound on guessing tokens."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from api.auth import TokenGuard
from tests.api.conftest import PHONE, VIEWER, bearer


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_with_the_token_as_password_reads_as_its_role(reader: TestClient) -> None:
    """QGIS has no method sending a fixed Bearer header; its Basic method sends user:password."""
    reply = reader.get("/collections/households/items", headers=basic("qgis", VIEWER))
    assert reply.status_code == 200, reply.text
    assert PHONE not in reply.text and "138****1234" in reply.text


def test_a_refusal_offers_basic_to_clients_and_not_to_browser_pages(reader: TestClient) -> None:
    wrong = reader.get("/collections", headers=basic("qgis", "not-a-configured-token-at-all"))
    assert wrong.status_code == 401
    challenge = wrong.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="gridmap"') and 'Basic realm="gridmap"' in challenge
    page = reader.get(
        "/collections", headers={**bearer("not-a-configured-token-at-all"), "Sec-Fetch-Site": "same-origin"}
    )
    assert page.status_code == 401 and "Basic" not in page.headers["www-authenticate"]
    garbled = reader.get("/collections", headers={"Authorization": "Basic %%%"})
    assert garbled.status_code == 401


def test_guessing_tokens_is_refused_for_a_while_not_for_ever(make_client: Callable[..., TestClient]) -> None:
    """300 wrong tokens in 4.1 s were all answered 401, and then the right one worked."""
    client = make_client()
    client.app.state.token_guard = TokenGuard(3, window_seconds=3)  # type: ignore[attr-defined]
    assert client.get("/collections", headers=bearer(VIEWER)).status_code == 200  # successes do not count
    for guess in ("guess-0123456789a", "guess-0123456789b"):
        assert client.get("/collections", headers=bearer(guess)).status_code == 401
    assert client.post("/login", json={"token": "guess-0123456789c"}).status_code == 401
    refused = client.get("/collections", headers=basic("qgis", "guess-0123456789d"))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert client.get("/collections", headers=bearer(VIEWER)).status_code == 429  # the right one too
    assert client.get("/collections").status_code == 200  # anonymous reads go on
    time.sleep(3.2)
    assert client.get("/collections/households/items", headers=bearer(VIEWER)).status_code == 200
