"""Secrets stay server-side; token settings refuse what cannot be safe; token-only tiles are private."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from api.settings import ApiSettings, load_settings
from gridmap.cli import app as cli
from gridmap.errors import ConfigError
from gridmap.stores import open_store
from tests.api.conftest import TOKENS, VIEWER, bearer, district, settings_for
from tests.api.test_export import _tile_of
from tests.conftest import ADMIN_URL, fresh_postgis_database

PASSWORD = "s3cr3t-pa55"


def test_token_only_tiles_are_private(reader: TestClient) -> None:
    x, y = _tile_of(114.305, 30.505, 14)
    households = reader.get(f"/tiles/households/14/{x}/{y}.mvt", headers=bearer(VIEWER))
    assert households.status_code == 200
    assert households.headers["cache-control"] == "private, max-age=60"
    assert households.headers["vary"] == "Authorization, Cookie"
    grids = reader.get(f"/tiles/grids/14/{x}/{y}.mvt")
    assert grids.headers["cache-control"] == "public, max-age=60"
    assert "vary" not in grids.headers


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (" " * 20, "is blank"),
        ("\t" * 20, "is blank"),
        ("good-random-part 7f3a9c", "holds whitespace"),
        ("CHANGEME-CHANGEME-1234", "looks like a placeholder"),
        ("your-token-here-please", "looks like a placeholder"),
        ("replace_me_with_a_real_one", "looks like a placeholder"),
        ("xxxxxxxxxxxxxxxxxxxxxxxx", "looks like a placeholder"),
        ("aaaaaaaaaaaaaaaaaaaa", "repeats too few characters"),
        ("1234123412341234", "repeats too few characters"),
    ],
)
def test_blank_and_placeholder_tokens_are_refused(token: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        ApiSettings(tokens=json.dumps({token: {"role": "admin"}})).grants()  # type: ignore[call-arg]


def test_tokens_and_tokens_file_together_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps(TOKENS))
    monkeypatch.setenv("GRIDMAP_TOKENS_FILE", str(path))
    monkeypatch.setenv("GRIDMAP_TOKENS", json.dumps(TOKENS))
    with pytest.raises(ConfigError, match="both set"):
        load_settings().grants()


def test_unreadable_setting_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRIDMAP_REFRESH_SECONDS", "abc")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith("GRIDMAP_REFRESH_SECONDS: ")
    assert "'abc'" in str(caught.value) and "\n" not in str(caught.value)
    env = {"GRIDMAP_REFRESH_SECONDS": "abc", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("gridmap")),
            "serve",
            "--store",
            str(tmp_path / "s.gpkg"),
            "--port",
            "8109",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    out = (done.stdout + done.stderr).strip()
    assert "GRIDMAP_REFRESH_SECONDS" in out and "Traceback" not in out
    assert len(out.splitlines()) == 1, out


def test_editor_bound_to_a_missing_community_is_reported(
    store_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(store_url) as store:
        store.replace_many(district())
    tokens = {**TOKENS, "editor-c9-token-0123456789": {"role": "editor", "communities": ["C1", "C9"]}}
    with caplog.at_level(logging.WARNING, logger="gridmap.api"):
        settings = ApiSettings(store=store_url, tokens=json.dumps(tokens))  # type: ignore[call-arg]
        with TestClient(create_app(settings)):
            pass
    assert "token 'edit'…: editor bound to community 'C9', which is not in the store" in caplog.messages
    assert not any("'C1'" in message for message in caplog.messages)

    monkeypatch.setenv("GRIDMAP_TOKENS", json.dumps(tokens))
    monkeypatch.setenv("GRIDMAP_STORE", store_url)  # serve sets it for its workers: restored after the test
    monkeypatch.setattr("uvicorn.run", lambda *_a, **_k: None)
    result = CliRunner().invoke(cli, ["serve", "--store", store_url, "--port", "8109"])
    assert result.exit_code == 0, result.output
    assert "warning: token 'edit'…: editor bound to community 'C9'" in result.output


@pytest.mark.postgis
def test_no_password_or_database_text_leaves_the_server(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The start-up line hides the password; /health and 503 bodies carry no URL or PostgreSQL text."""
    with fresh_postgis_database("gridmap_secret") as url:
        name = url.rsplit("/", 1)[1]
        with_password = url.replace("://postgres@", f"://postgres:{PASSWORD}@")
        with open_store(with_password) as store:
            store.replace_many(district())
        monkeypatch.delenv("GRIDMAP_TOKENS", raising=False)
        monkeypatch.setenv("GRIDMAP_STORE", with_password)
        monkeypatch.setattr("uvicorn.run", lambda *_a, **_k: None)
        started = CliRunner().invoke(cli, ["serve", "--store", with_password, "--port", "8109"])
        assert started.exit_code == 0, started.output
        assert PASSWORD not in started.output and "postgres:***@" in started.output

        with TestClient(create_app(settings_for(with_password)), raise_server_exceptions=False) as client:
            assert client.get("/health").status_code == 200
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            with caplog.at_level(logging.ERROR, logger="gridmap.api"):
                health = client.get("/health")
                item = client.get("/collections/grids/items/G1")
    for response in (health, item):
        assert response.status_code == 503
        text = response.text
        for secret in (PASSWORD, "postgres", "127.0.0.1", name, "FATAL", "does not exist"):
            assert secret not in text, (secret, text)
    assert health.json() == {
        "status": "unavailable",
        "detail": "the store is unavailable; the server log has the details",
    }
    assert item.json()["code"] == "store_unavailable"
    logged = "\n".join(caplog.messages)
    assert name in logged and PASSWORD not in logged
