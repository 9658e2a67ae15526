"""What browsers and HTTP clients need of every route: HEAD beside GET, and CORS for web maps.

HEAD is answered as the GET would be, without the body (RFC 9110), for every
GET route. CORS lets a web map on another origin (MapLibre, Leaflet) read
the layers, items and tiles: the allowed origins are configured
(`GRIDMAP_CORS_ORIGINS`, comma-separated, `*` for any); only reads are shared,
and credentials (the session cookie) never with a wildcard, so another site
can never act with a signed-in user's cookie.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridmap.errors import ConfigError

CORS_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_HEADERS = ["Authorization", "Accept", "Accept-Language", "If-None-Match", "Content-Type"]
EXPOSED = ["ETag", "Content-Crs", "Link", "Location"]


class HeadAsGet:
    """Serve HEAD by running GET and dropping the body (headers, Content-Length included, kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def bodiless(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, bodiless)


def origins(setting: str) -> list[str]:
    """The allowed origins of a comma-separated setting (`*` alone: any origin)."""
    return [o.strip().rstrip("/") for o in setting.split(",") if o.strip()]


def install(app: FastAPI, cors_origins: str, cors_credentials: bool) -> None:
    """Add HEAD and (when origins are configured) CORS to `app`; a wildcard with credentials is refused."""
    allowed = origins(cors_origins)
    if allowed:
        if "*" in allowed and cors_credentials:
            raise ConfigError(
                "GRIDMAP_CORS_CREDENTIALS cannot be set with GRIDMAP_CORS_ORIGINS=*: name the origins"
            )
        app.add_middleware(
            CORSMiddleware,
            allow_origins=allowed,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            expose_headers=EXPOSED,
            allow_credentials=cors_credentials and "*" not in allowed,
            max_age=600,
        )
    app.add_middleware(HeadAsGet)
