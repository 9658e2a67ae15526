"""API settings, read once from the environment (prefix GRIDMAP_).

Tokens are never defaulted: with none configured, every caller is anonymous.
They come from GRIDMAP_TOKENS (JSON) or GRIDMAP_TOKENS_FILE (a JSON file),
each mapping a token to `{"role": ..., "communities": [...]}`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridmap.errors import ConfigError
from gridmap.settings import DEFAULT_STORE

RoleName = Literal["viewer", "editor", "admin"]

# Tokens that look like a copied example are refused so a deployment never runs on one.
_PLACEHOLDERS = {"changeme", "changethis", "secret", "token", "password", "admin", "test"}
MIN_TOKEN_LENGTH = 16


class TokenGrant(BaseModel):
    """What one bearer token may do."""

    role: RoleName
    communities: tuple[str, ...] = ()
    name: str | None = None

    @field_validator("communities")
    @classmethod
    def _strip(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c.strip() for c in value if c.strip())


class ApiSettings(BaseSettings):
    """Settings of the HTTP API."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    store: str = DEFAULT_STORE
    tokens: str | None = None
    tokens_file: Path | None = None
    refresh_seconds: float = Field(0.5, ge=0.0, le=1.0)
    # Where the analysis built once per revision is shared by the workers (default: a folder per store
    # under the system's temporary directory); `thread` builds inside the process instead of in a
    # builder process of its own (one-process servers and tests).
    serving_dir: Path | None = None
    builder: Literal["process", "thread"] = "process"
    startup_wait_seconds: float = Field(900.0, ge=0.0)

    def grants(self) -> dict[str, TokenGrant]:
        """The configured tokens; a malformed or placeholder token is a ConfigError."""
        raw: object = {}
        if self.tokens_file is not None:
            try:
                raw = json.loads(self.tokens_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"GRIDMAP_TOKENS_FILE {self.tokens_file}: {exc}") from None
        elif self.tokens:
            try:
                raw = json.loads(self.tokens)
            except ValueError as exc:
                raise ConfigError(f"GRIDMAP_TOKENS is not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError("tokens must be a JSON object mapping token to {role, communities}")
        grants: dict[str, TokenGrant] = {}
        for token, spec in raw.items():
            shown = f"{token[:4]}…"
            if len(token) < MIN_TOKEN_LENGTH or token.lower() in _PLACEHOLDERS:
                raise ConfigError(f"token {shown} is too short or a placeholder (≥ {MIN_TOKEN_LENGTH} chars)")
            try:
                grant = TokenGrant.model_validate(spec)
            except ValidationError as exc:
                raise ConfigError(f"token {shown}: {exc.errors()[0]['msg']}") from None
            if grant.role == "editor" and not grant.communities:
                raise ConfigError(f"token {shown}: an editor must be bound to at least one community")
            grants[token] = grant
        return grants
