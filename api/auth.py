"""Who is calling: bearer tokens → roles, and what each role may read and write.

Tokens come only from the settings (`GRIDMAP_TOKENS` / `GRIDMAP_TOKENS_FILE`);
a request without a token is anonymous, a request with an unknown token is
refused rather than silently treated as anonymous. A token comes as
`Authorization: Bearer <token>`, or as the password of HTTP Basic (QGIS's
built-in method; the user name is not checked), or from a session cookie.
A client address that presented too many unknown tokens is refused (429)
until its moving window frees up, whatever token it sends meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from dataclasses import dataclass
from typing import Annotated

import geopandas as gpd
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.cookies import session_token
from api.errors import AuthenticationError, RateLimitedError
from api.settings import TokenGrant
from gridmap.authorisation import authorise_layer, authorise_write
from gridmap.errors import PermissionDeniedError
from gridmap.history import Author, set_author
from gridmap.privacy import Role
from gridmap.stores import Store
from gridmap.texts import Message

# Layers an anonymous caller may read; households (where people live) need a token.
PUBLIC_LAYERS = frozenset(
    {"streets", "communities", "grids", "buildings", "service_points", "speakers", "roads"}
)

_bearer = HTTPBearer(auto_error=False, description="A token configured in GRIDMAP_TOKENS")
_basic = HTTPBasic(auto_error=False, description="Any user name, a configured token as the password (QGIS)")


@dataclass(frozen=True)
class Principal:
    """The caller: a role, for an editor the communities they may change, for a department its codes."""

    role: Role
    communities: frozenset[str] = frozenset()
    name: str | None = None
    departments: frozenset[str] = frozenset()
    party_orgs: frozenset[str] = frozenset()

    def require(self, role: Role, action: str) -> None:
        """Raise PermissionDeniedError unless the caller has at least `role`."""
        if not self.role.allows(role):
            raise PermissionDeniedError(
                Message("api.needs_role", action=action, role=role.value, you=self.role.value)
            )

    def can_read(self, layer: str) -> bool:
        return layer in PUBLIC_LAYERS or self.role.allows(Role.VIEWER)

    def require_read(self, layer: str) -> None:
        if not self.can_read(layer):
            raise PermissionDeniedError(Message("api.needs_viewer", layer=layer))

    def require_writer(self, layer: str, action: str) -> None:
        """May this caller write `layer` at all? (before the request is even validated)"""
        authorise_layer(self.role, layer, action)

    def authorise(
        self, store: Store, layer: str, *, after: gpd.GeoDataFrame, before: gpd.GeoDataFrame, action: str
    ) -> None:
        """May this caller turn `before` into `after`? (`gridmap.authorisation.authorise_write` decides.)"""
        authorise_write(store, self.role, self.communities, layer, after=after, before=before, action=action)


ANONYMOUS = Principal(Role.ANONYMOUS)


def principal_for(token: str | None, grants: dict[str, TokenGrant]) -> Principal:
    """The principal a token stands for; an unknown token is an AuthenticationError."""
    if token is None:
        return ANONYMOUS
    for known, grant in grants.items():
        # Constant-time comparison so response timing does not reveal a token's prefix.
        if hmac.compare_digest(known.encode(), token.encode()):
            return Principal(
                Role(grant.role),
                frozenset(grant.communities),
                grant.name,
                frozenset(grant.departments),
                frozenset(grant.party_orgs) if grant.role == "editor" else frozenset(),
            )
    raise AuthenticationError(Message("api.unknown_token"))


class TokenGuard:
    """Unknown tokens a client address may present in a minute (moving window, per worker).

    Only failures count, so a client using its right token is never slowed;
    once the allowance is spent every token from that address is refused,
    the right one too, until the oldest failure is a minute old.
    """

    def __init__(self, failures: int, window_seconds: int = 60) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._item = RateLimitItemPerSecond(failures, window_seconds)

    def admit(self, client: str) -> None:
        if not self._limiter.test(self._item, "tokens", client):
            reset, _left = self._limiter.get_window_stats(self._item, "tokens", client)
            wait = max(1, int(reset - time.time()) + 1)
            raise RateLimitedError(Message("api.too_many_tokens", client=client, wait=wait), retry_after=wait)

    def failed(self, client: str) -> None:
        self._limiter.hit(self._item, "tokens", client)


def authenticate(request: Request, token: str) -> Principal:
    """The principal of a presented token, counting an unknown one against the client's allowance."""
    guard: TokenGuard = request.app.state.token_guard
    client = request.client.host if request.client else "unknown"
    guard.admit(client)
    try:
        return principal_for(token, request.app.state.grants)
    except AuthenticationError:
        guard.failed(client)
        raise


def _basic_token(credentials: str) -> str:
    """The token of HTTP Basic credentials: the password (QGIS's Basic method), else the user name."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationError(Message("api.basic_not_base64")) from None
    user, _, password = decoded.partition(":")
    token = (password or user).strip()
    if not token:
        raise AuthenticationError(Message("api.basic_no_token"))
    return token


def principal_of(request: Request) -> Principal:
    """The caller of `request`: its Authorization header, else its session cookie, else anonymous."""
    header = request.headers.get("authorization")
    if not header:
        return principal_for(session_token(request), request.app.state.grants)
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic" and credentials.strip():
        return authenticate(request, _basic_token(credentials.strip()))
    if scheme.lower() != "bearer" or not credentials.strip():
        raise AuthenticationError(Message("api.bad_authorization"))
    return authenticate(request, credentials.strip())


async def current_principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _basic_credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Principal:
    """FastAPI dependency: the caller (the security schemes are declared so /docs offers them).

    The caller is also recorded as the author of whatever this request writes
    (the request runs in a context of its own, so this never leaks to another).
    """
    caller = principal_of(request)
    name = caller.name or f"{caller.role.value} token"
    set_author(Author(name, caller.role.value, f"{request.method} {request.url.path}"))
    return caller


Caller = Annotated[Principal, Depends(current_principal)]
