"""Token configuration: never defaulted, placeholders and malformed grants refused at start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.auth import ANONYMOUS, principal_for
from api.errors import AuthenticationError
from api.main import create_app
from api.settings import ApiSettings
from gridmap.errors import ConfigError
from gridmap.privacy import Role


def test_no_tokens_means_everyone_is_anonymous(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDMAP_TOKENS", raising=False)
    monkeypatch.delenv("GRIDMAP_TOKENS_FILE", raising=False)
    grants = ApiSettings().grants()  # type: ignore[call-arg]
    assert grants == {}
    assert principal_for(None, grants) is ANONYMOUS
    with pytest.raises(AuthenticationError):
        principal_for("some-token-that-is-long", grants)


@pytest.mark.parametrize(
    "tokens",
    [
        '{"changeme": {"role": "admin"}}',
        '{"short": {"role": "viewer"}}',
        '{"a-long-enough-token-000": {"role": "root"}}',
        '{"a-long-enough-token-000": {"role": "editor"}}',
        '["a-long-enough-token-000"]',
        "not json",
    ],
)
def test_bad_token_configuration_is_refused_at_start(tokens: str) -> None:
    with pytest.raises(ConfigError):
        create_app(ApiSettings(tokens=tokens))  # type: ignore[call-arg]


def test_tokens_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"editor-token-for-c1-0000": {"role": "editor", "communities": ["C1", " "]}}))
    monkeypatch.setenv("GRIDMAP_TOKENS_FILE", str(path))
    grants = ApiSettings().grants()  # type: ignore[call-arg]
    principal = principal_for("editor-token-for-c1-0000", grants)
    assert principal.role is Role.EDITOR
    assert principal.communities == frozenset({"C1"})
    monkeypatch.setenv("GRIDMAP_TOKENS_FILE", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError):
        ApiSettings().grants()  # type: ignore[call-arg]
