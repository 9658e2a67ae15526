"""`GET /tiles/{layer}/{z}/{x}/{y}.mvt`: vector tiles for web maps (public fields only), and their style.

`GET /tiles/style.json` is a MapLibre GL style over the public layers' tiles:
a web page on any allowed origin (CORS, `GRIDMAP_CORS_ORIGINS`) draws
gridmap's map with `new maplibregl.Map({style: "<gridmap>/tiles/style.json"})`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from api.auth import PUBLIC_LAYERS, Caller
from api.features import LayerParam
from gridmap.catalogue import LAYER_NAMES, get_layer
from gridmap.maps import maplibre
from gridmap.stores import Store
from gridmap.tiles import LABELLED, MAX_ZOOM, tile

router = APIRouter(tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"


_ZOOMS: dict[int, tuple[str, dict[str, int]]] = {}


def _label_zooms(store: Store) -> dict[str, int]:
    """The style's label zooms, worked out from the areas again only when the store has changed."""
    revision = store.revision()
    known = _ZOOMS.get(id(store))
    if known is None or known[0] != revision:
        known = (revision, maplibre.label_zooms({layer: store.read(layer) for layer in LABELLED}))
        _ZOOMS[id(store)] = known
    return known[1]


@router.get("/tiles/style.json", summary="A MapLibre GL style drawing the public layers' tiles")
def style(request: Request) -> JSONResponse:
    store: Store = request.app.state.store
    public = tuple(name for name in LAYER_NAMES if name in PUBLIC_LAYERS)
    base = str(request.base_url).rstrip("/")
    document = maplibre.style(base, _label_zooms(store), layers=public)
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=60"})


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "No feature in this tile"}},
    summary="A Mapbox vector tile of a layer (XYZ scheme)",
)
def vector_tile(
    request: Request,
    caller: Caller,
    layer: LayerParam,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
) -> Response:
    """Tiles never carry personal fields or worker names; households still need a viewer token."""
    spec = get_layer(layer)
    caller.require_read(spec.name)
    store: Store = request.app.state.store
    data = tile(store, spec.name, z, x, y)
    # A tile that needs a token (or a session cookie) must not be kept by a shared cache and handed
    # to the next caller.
    headers = (
        {"Cache-Control": "public, max-age=60"}
        if spec.name in PUBLIC_LAYERS
        else {"Cache-Control": "private, max-age=60", "Vary": "Authorization, Cookie"}
    )
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)
