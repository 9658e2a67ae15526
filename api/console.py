"""The web console at `/` and every browser asset, served from installed packages (nothing from a CDN).

`/` is also the OGC API landing page: a client asking for JSON (`Accept:
application/json`, or `?f=json`) gets the landing document, a browser asking
for HTML gets the console. `/docs` is Swagger UI from the `swagger-ui-bundle`
package; Leaflet comes from `xstatic-leaflet`, Leaflet.VectorGrid from npm
(`web/package.json`, installed by `make`).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import features
from gridmap.errors import ConfigError, NotFoundError

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).with_name("static")
WEB_MODULES = Path(__file__).resolve().parents[1] / "web" / "node_modules"
# Browser libraries installed from npm at build time (web/package.json), served by name.
VENDOR = {
    "vectorgrid.js": WEB_MODULES / "leaflet.vectorgrid" / "dist" / "Leaflet.VectorGrid.bundled.min.js",
    "heat.js": WEB_MODULES / "leaflet.heat" / "dist" / "leaflet-heat.js",
}


def _package_dir(module: str, attribute: str) -> Path:
    return Path(getattr(importlib.import_module(module), attribute))


def wants_html(request: Request) -> bool:
    """A browser's navigation asks for text/html first; OGC clients ask for JSON (or say ?f=json)."""
    f = request.query_params.get("f")
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    if not accept:
        return False
    html = accept.find("text/html")
    json_at = min(
        (i for i in (accept.find("application/json"), accept.find("application/geo+json")) if i >= 0),
        default=-1,
    )
    return html >= 0 and (json_at < 0 or html < json_at)


@router.get("/")
async def home(request: Request) -> Response:
    """The console for browsers, the OGC landing document for everyone else."""
    if wants_html(request):
        return FileResponse(STATIC / "console.html", media_type="text/html; charset=utf-8")
    return await features.landing(request)


@router.get("/field")
async def field() -> FileResponse:
    """The grid worker's phone page (today's visits, patrols, case reports; works offline)."""
    return FileResponse(STATIC / "field.html", media_type="text/html; charset=utf-8")


@router.get("/field-sw.js")
async def field_worker() -> FileResponse:
    """The phone page's service worker: keeps the page and its last answers, so it opens offline."""
    return FileResponse(
        STATIC / "field-sw.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )


@router.get("/docs")
async def docs() -> HTMLResponse:
    """Swagger UI with its script and stylesheet from the installed swagger-ui-bundle package."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="gridmap API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon-32x32.png",
    )


@router.get("/static/vendor/{name}")
async def vendor(name: str) -> FileResponse:
    """Leaflet.VectorGrid (draws the MVT tiles) and Leaflet.heat (the case heat map), from npm."""
    path = VENDOR.get(name)
    if path is None:
        raise NotFoundError(f"no browser library {name!r}")
    if not path.exists():
        raise ConfigError(f"{path} is missing: run `make` (npm ci --prefix web) to install it")
    return FileResponse(path, media_type="text/javascript")


def install(app: FastAPI) -> None:
    """Mount the static folders (console files, Leaflet, Swagger UI) and the routes above."""
    app.mount("/static/console", StaticFiles(directory=STATIC), name="console-static")
    app.mount(
        "/static/leaflet",
        StaticFiles(directory=_package_dir("xstatic.pkg.leaflet", "BASE_DIR")),
        name="leaflet",
    )
    app.mount(
        "/static/swagger",
        StaticFiles(directory=_package_dir("swagger_ui_bundle", "swagger_ui_path")),
        name="swagger",
    )
    app.include_router(router)
