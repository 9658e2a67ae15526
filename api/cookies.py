"""Session cookies: issued by `POST /login` (api/session.py), read by `api.auth` on every request.

A browser cannot send an `Authorization` header with a link, so after signing
in every page, map, export and report opens as a plain link with the caller's
role. The cookie holds no token: it names the grant by a hash of its token,
carries an expiry and a CSRF nonce, and is signed with a key derived from the
configured tokens, so every worker accepts it and revoking any token ends all
sessions. It is HttpOnly and SameSite=Strict; a write made with the cookie
must also send the nonce back in the `X-CSRF-Token` header (double submit),
which a cross-site page cannot read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request

from api.errors import AuthenticationError
from api.settings import TokenGrant
from gridmap.errors import PermissionDeniedError

COOKIE = "gridmap_session"
CSRF_COOKIE = "gridmap_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Session:
    """A verified session cookie: whose grant, until when, and its CSRF nonce."""

    grant: str
    expires: int
    csrf: str


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _key(grants: Mapping[str, TokenGrant]) -> bytes:
    """The signing key: the configured tokens themselves, so no extra secret is needed or defaulted."""
    material = json.dumps(sorted(grants), ensure_ascii=True).encode()
    return hashlib.sha256(b"gridmap-session\0" + material).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(token: str, grants: Mapping[str, TokenGrant], lifetime_s: int) -> tuple[str, Session]:
    """A signed cookie value for a known `token`, and the session it stands for."""
    session = Session(_fingerprint(token), int(time.time()) + lifetime_s, secrets.token_urlsafe(24))
    payload = _b64(json.dumps({"g": session.grant, "e": session.expires, "c": session.csrf}).encode())
    signature = _b64(hmac.new(_key(grants), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}", session


def verify(value: str, grants: Mapping[str, TokenGrant]) -> Session:
    """The session of a cookie value; a forged, expired or revoked one is an AuthenticationError."""
    payload, _, signature = value.partition(".")
    expected = _b64(hmac.new(_key(grants), payload.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(expected, signature):
        raise AuthenticationError("the session cookie is not valid: sign in again")
    try:
        data = json.loads(_unb64(payload))
        session = Session(str(data["g"]), int(data["e"]), str(data["c"]))
    except (ValueError, KeyError, TypeError):
        raise AuthenticationError("the session cookie is not valid: sign in again") from None
    if session.expires < time.time():
        raise AuthenticationError("the session has expired: sign in again")
    return session


def token_of(session: Session, grants: Mapping[str, TokenGrant]) -> str:
    """The configured token a session was issued for (revoked tokens are gone from `grants`)."""
    for token in grants:
        if hmac.compare_digest(_fingerprint(token), session.grant):
            return token
    raise AuthenticationError("the token of this session was revoked: sign in again")


def check_csrf(request: Request, session: Session) -> None:
    """A write made with the session cookie must echo its CSRF nonce in the X-CSRF-Token header."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise PermissionDeniedError("a write with the session cookie needs the X-CSRF-Token header")


def session_token(request: Request) -> str | None:
    """The token behind the request's session cookie (CSRF-checked for writes), or None without one."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    grants = request.app.state.grants
    session = verify(value, grants)
    check_csrf(request, session)
    return token_of(session, grants)
