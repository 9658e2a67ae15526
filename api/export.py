"""`GET /export/{layer}`: a layer as a file in the format and CRS a GIS tool needs."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.auth import Caller
from api.features import LayerParam, parse_bbox
from gridmap.catalogue import get_layer
from gridmap.export import export_layer, select_features
from gridmap.formats import FORMATS, FormatKey
from gridmap.stores import Store

router = APIRouter(tags=["export"])



@router.get(
    "/export/{layer}",
    response_class=FileResponse,
    summary="Download a layer (GeoJSON, GeoPackage, Shapefile, KML, CSV, XLSX, FlatGeobuf) in any CRS",
)
def export(
    request: Request,
    caller: Caller,
    layer: LayerParam,
    format: Annotated[FormatKey, Query(description=", ".join(FORMATS))] = "geojson",
    crs: Annotated[str, Query(description="wgs84, cgcs2000, gcj02, bd09 or EPSG:n", max_length=40)] = "wgs84",
    community: Annotated[str | None, Query(max_length=100, description="Only this community")] = None,
    grid: Annotated[str | None, Query(max_length=100, description="Only this grid")] = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS84)")] = None,
) -> FileResponse:
    """Personal fields follow the caller's role, exactly as in the feature endpoints."""
    spec = get_layer(layer)
    caller.require_read(spec.name)
    store: Store = request.app.state.store
    frame = select_features(store, spec.name, community=community, grid=grid, bbox=parse_bbox(bbox))
    folder = Path(tempfile.mkdtemp(prefix="gridmap-export-"))
    try:
        target = folder / f"{spec.name}{FORMATS[format].suffix}"
        path = export_layer(frame, target, format, crs, layer=spec.name, role=caller.role)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=FORMATS[format].media_type,
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
