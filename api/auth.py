"""Who is calling: bearer tokens → roles, and what each role may read and write.

Tokens come only from the settings (`GRIDMAP_TOKENS` / `GRIDMAP_TOKENS_FILE`);
a request without a token is anonymous, a request with an unknown token is
refused rather than silently treated as anonymous.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

import geopandas as gpd
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.cookies import session_token
from api.errors import AuthenticationError
from api.settings import TokenGrant
from gridmap.authorisation import authorise_layer, authorise_write
from gridmap.errors import PermissionDeniedError
from gridmap.history import Author, set_author
from gridmap.privacy import Role
from gridmap.stores import Store

# Layers an anonymous caller may read; households (where people live) need a token.
PUBLIC_LAYERS = frozenset({"streets", "communities", "grids", "buildings", "service_points", "speakers"})

_bearer = HTTPBearer(auto_error=False, description="A token configured in GRIDMAP_TOKENS")


@dataclass(frozen=True)
class Principal:
    """The caller: a role, for an editor the communities they may change, for a department its codes."""

    role: Role
    communities: frozenset[str] = frozenset()
    name: str | None = None
    departments: frozenset[str] = frozenset()

    def require(self, role: Role, action: str) -> None:
        """Raise PermissionDeniedError unless the caller has at least `role`."""
        if not self.role.allows(role):
            raise PermissionDeniedError(f"{action} needs the {role.value} role (you are {self.role.value})")

    def can_read(self, layer: str) -> bool:
        return layer in PUBLIC_LAYERS or self.role.allows(Role.VIEWER)

    def require_read(self, layer: str) -> None:
        if not self.can_read(layer):
            raise PermissionDeniedError(f"reading {layer} needs a viewer token")

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
                Role(grant.role), frozenset(grant.communities), grant.name, frozenset(grant.departments)
            )
    raise AuthenticationError("unknown or revoked token")


def principal_of(request: Request) -> Principal:
    """The caller of `request`: its bearer header, else its session cookie, else anonymous."""
    header = request.headers.get("authorization")
    if not header:
        return principal_for(session_token(request), request.app.state.grants)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the Authorization header must be `Bearer <token>`")
    return principal_for(token.strip(), request.app.state.grants)


async def current_principal(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """FastAPI dependency: the caller (the security scheme is declared so /docs offers a token field).

    The caller is also recorded as the author of whatever this request writes
    (the request runs in a context of its own, so this never leaks to another).
    """
    caller = principal_of(request)
    name = caller.name or f"{caller.role.value} token"
    set_author(Author(name, caller.role.value, f"{request.method} {request.url.path}"))
    return caller


Caller = Annotated[Principal, Depends(current_principal)]
