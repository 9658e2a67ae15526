"""Session cookies: issued by `POST /login` (api/session.py), read by `api.auth` on every request.

A browser cannot send an `Authorization` header with a link, so after signing
in every page, map, export and report opens as a plain link with the caller's
role. The cookie holds no token: it names the grant by a hash of its token,
carries an expiry and a CSRF nonce, and is signed with a key derived from the
configured tokens, so every worker accepts it and revoking any token ends all
sessions. It is HttpOnly and SameSite=Strict; a write made with the cookie
must also send the nonce back in the `X-CSRF-Token` header (double submit),
which a cross-site page cannot read.

Signing out ends the session on the server too: its id goes into a small
file beside the published analyses (`EndedSessions`), which every worker of
the machine reads, so a copy of the cookie taken before stops working.
Sign-in and sign-out refuse a request a browser marks as cross-site.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from api.errors import AuthenticationError
from api.settings import TokenGrant
from gridmap.errors import PermissionDeniedError
from gridmap.texts import Message

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

    @property
    def id(self) -> str:
        """Names the session in the ended-sessions file (the nonce itself is not written down)."""
        return hashlib.sha256(b"gridmap-session-id\0" + self.csrf.encode()).hexdigest()[:32]


class EndedSessions:
    """Sessions signed out before they expired, shared by the workers through one append-only file.

    Each line is `id expiry`; a worker reads the file again when its size or
    modification time changed (one stat a request), and lines past their
    expiry are dropped when the file is rewritten.
    """

    _REWRITE_BYTES = 256 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._ended: dict[str, int] = {}

    def end(self, session: Session) -> None:
        """Record `session` as ended (every worker refuses it from now on)."""
        line = f"{session.id} {session.expires}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            if os.fstat(fd).st_size > self._REWRITE_BYTES:
                self._rewrite()
        finally:
            os.close(fd)

    def ended(self, session: Session) -> bool:
        return session.id in self._current()

    def _current(self) -> dict[str, int]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        with self._lock:
            if self._seen != (stat.st_size, stat.st_mtime_ns):
                self._ended = self._read()
                self._seen = (stat.st_size, stat.st_mtime_ns)
            return self._ended

    def _read(self) -> dict[str, int]:
        ended: dict[str, int] = {}
        for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
            sid, _, expires = line.partition(" ")
            if expires.isdigit():
                ended[sid] = int(expires)
        return ended

    def _rewrite(self) -> None:
        """Keep only the sessions not yet expired (called holding the file's lock)."""
        now = time.time()
        keep = "".join(f"{sid} {exp}\n" for sid, exp in self._read().items() if exp >= now)
        staging = self.path.with_name(self.path.name + ".new")
        staging.write_text(keep, encoding="ascii")
        os.replace(staging, self.path)


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


def verify(value: str, grants: Mapping[str, TokenGrant], ended: EndedSessions | None = None) -> Session:
    """The session of a cookie value; a forged, expired, ended or revoked one is an AuthenticationError."""
    payload, _, signature = value.partition(".")
    expected = _b64(hmac.new(_key(grants), payload.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(expected, signature):
        raise AuthenticationError(Message("api.session_invalid"))
    try:
        data = json.loads(_unb64(payload))
        session = Session(str(data["g"]), int(data["e"]), str(data["c"]))
    except (ValueError, KeyError, TypeError):
        raise AuthenticationError(Message("api.session_invalid")) from None
    if session.expires < time.time():
        raise AuthenticationError(Message("api.session_expired"))
    if ended is not None and ended.ended(session):
        raise AuthenticationError(Message("api.session_ended"))
    return session


def token_of(session: Session, grants: Mapping[str, TokenGrant]) -> str:
    """The configured token a session was issued for (revoked tokens are gone from `grants`)."""
    for token in grants:
        if hmac.compare_digest(_fingerprint(token), session.grant):
            return token
    raise AuthenticationError(Message("api.session_revoked"))


def check_csrf(request: Request, session: Session) -> None:
    """A write made with the session cookie must echo its CSRF nonce in the X-CSRF-Token header."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise PermissionDeniedError(Message("api.csrf"))


def session_token(request: Request) -> str | None:
    """The token behind the request's session cookie (CSRF-checked for writes), or None without one."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    grants = request.app.state.grants
    session = verify(value, grants, request.app.state.ended_sessions)
    check_csrf(request, session)
    return token_of(session, grants)


def refuse_cross_site(request: Request, action: str) -> None:
    """Refuse a request a browser says comes from another site (Sec-Fetch-Site, or a foreign Origin).

    Clients that are not browsers send neither header and pass.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if fetch_site not in (None, "same-origin", "none") or (origin is not None and origin != own):
        raise PermissionDeniedError(Message("api.cross_site", action=action))
