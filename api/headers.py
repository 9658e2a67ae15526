"""Security headers on every response: what a page may load and run, who may frame it, what it sniffs.

Pure ASGI middleware, so errors, static files and streamed exports get them
too. The console runs only its own scripts; the pages that carry their code
inline (Swagger UI at /docs, the folium maps, the meeting report's HTML) may
run inline scripts and nothing from elsewhere. Images may come from any
https origin: the maps' basemap tiles (OpenStreetMap, Tianditu, Amap).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

INLINE_SCRIPT_PATHS = ("/docs", "/maps/", "/reports/")
"""Pages whose scripts are inline (Swagger UI's start-up, folium's map code, the report)."""


def _policy(scripts: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",  # Leaflet and folium style elements inline
            "img-src 'self' data: blob: https:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        )
    )


STRICT = _policy("'self'")
INLINE = _policy("'self' 'unsafe-inline'")
FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def policy_for(path: str) -> str:
    """The Content-Security-Policy of the response to `path`."""
    return INLINE if path.startswith(INLINE_SCRIPT_PATHS) else STRICT


class SecurityHeaders:
    """Adds the headers above to every HTTP response (a route's own value of one is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = policy_for(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in FIXED.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
