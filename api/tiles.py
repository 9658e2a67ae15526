"""`GET /tiles/{layer}/{z}/{x}/{y}.mvt`: vector tiles for web maps (public fields only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.auth import PUBLIC_LAYERS, Caller
from api.features import LayerParam
from gridmap.catalogue import get_layer
from gridmap.stores import Store
from gridmap.tiles import MAX_ZOOM, tile

router = APIRouter(tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"


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
