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

from api.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH
from gridmap.errors import ConfigError
from gridmap.settings import DEFAULT_STORE

RoleName = Literal["integrator", "viewer", "department", "reviewer", "editor", "admin"]

# Tokens that look like a copied example are refused so a deployment never runs on one.
_PLACEHOLDERS = {"changeme", "changethis", "secret", "token", "password", "admin", "test"}
# Words that mark a token as an example when found anywhere in it (letters and digits only, lower case).
_PLACEHOLDER_WORDS = ("changeme", "changethis", "placeholder", "example", "replaceme", "yourtoken", "xxxx")
MIN_TOKEN_LENGTH = 16
MIN_DISTINCT_CHARACTERS = 6  # "aaaaaaaaaaaaaaaa" or "1234123412341234" is not a secret


class TokenGrant(BaseModel):
    """What one bearer token may do."""

    role: RoleName
    communities: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    party_orgs: tuple[str, ...] = ()
    """Party organisations the token's holder answers for (a branch secretary's branch)."""
    name: str | None = None

    @field_validator("communities", "departments", "party_orgs")
    @classmethod
    def _strip(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c.strip() for c in value if c.strip())


def token_problem(token: str) -> str | None:
    """Why `token` may not be used (None when it may): short, blank, spaced, or an obvious placeholder."""
    if not token.strip():
        return "is blank"
    if any(c.isspace() for c in token):
        return "holds whitespace (a bearer token is sent as one word)"
    if len(token) < MIN_TOKEN_LENGTH:
        return f"is too short (at least {MIN_TOKEN_LENGTH} characters)"
    letters = "".join(c for c in token.lower() if c.isalnum())
    if token.lower() in _PLACEHOLDERS or any(word in letters for word in _PLACEHOLDER_WORDS):
        return "looks like a placeholder; use a random one, e.g. from secrets.token_urlsafe()"
    if len(set(token)) < MIN_DISTINCT_CHARACTERS:
        return f"repeats too few characters (at least {MIN_DISTINCT_CHARACTERS} different ones)"
    return None


def unknown_communities(grants: dict[str, TokenGrant], known: set[str]) -> list[str]:
    """A warning for each editor token bound to a community code the store does not hold."""
    return [
        f"token {token[:4]!r}…: editor bound to community {code!r}, which is not in the store"
        for token, grant in grants.items()
        if grant.role == "editor"
        for code in grant.communities
        if code not in known
    ]


def load_settings() -> ApiSettings:
    """The settings from the environment; an unreadable value is one ConfigError line naming the variable."""
    try:
        return ApiSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "GRIDMAP_" + str(first["loc"][0]).upper() if first.get("loc") else "a GRIDMAP_ setting"
        raise ConfigError(f"{name}: {first['msg']} (got {first.get('input')!r})") from None


class ApiSettings(BaseSettings):
    """Settings of the HTTP API."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    store: str = DEFAULT_STORE
    tokens: str | None = None
    tokens_file: Path | None = None
    refresh_seconds: float = Field(0.5, ge=0.0, le=1.0)
    case_intake_per_minute: int = Field(20, ge=1, description="Cases one address may report without a token")
    token_failures_per_minute: int = Field(
        20, ge=1, description="Unknown tokens one address may present a minute before it is refused (429)"
    )
    case_categories: Path | None = None
    case_calendar: Path | None = None
    # Where the analysis built once per revision is shared by the workers (default: a folder per store
    # under the system's temporary directory); `thread` builds inside the process instead of in a
    # builder process of its own (one-process servers and tests).
    serving_dir: Path | None = None
    builder: Literal["process", "thread"] = "process"
    # How long a worker waits, starting, for the first published analysis before taking requests. By
    # default none: lookups, pages and /health are served at once, and the few routes that read the
    # analysis (/coverage, /coverage/gaps) answer 503 with Retry-After until it is published.
    startup_wait_seconds: float = Field(0.0, ge=0.0)
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, ge=1024)
    max_json_depth: int = Field(DEFAULT_MAX_JSON_DEPTH, ge=8)
    session_hours: float = Field(8.0, gt=0.0, le=24.0 * 30)
    # Origins of web pages allowed to read (CORS): comma-separated, `*` for any, empty for none.
    cors_origins: str = ""
    # Whether those pages may send the session cookie (never with `*`).
    cors_credentials: bool = False

    def grants(self) -> dict[str, TokenGrant]:
        """The configured tokens; a malformed or placeholder token is a ConfigError."""
        raw: object = {}
        if self.tokens_file is not None and self.tokens:
            raise ConfigError("GRIDMAP_TOKENS and GRIDMAP_TOKENS_FILE are both set: keep one")
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
            problem = token_problem(token)
            if problem:
                raise ConfigError(f"token {shown!r} {problem}")
            try:
                grant = TokenGrant.model_validate(spec)
            except ValidationError as exc:
                raise ConfigError(f"token {shown}: {exc.errors()[0]['msg']}") from None
            if grant.role == "editor" and not grant.communities:
                raise ConfigError(f"token {shown}: an editor must be bound to at least one community")
            if grant.role == "department" and not grant.departments:
                raise ConfigError(
                    f"token {shown}: a department token must be bound to at least one department"
                )
            grants[token] = grant
        return grants
