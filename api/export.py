"""`GET /export/{layer}`: a layer as a file in the format and CRS a GIS tool needs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api import scratch
from api.auth import Caller
from api.features import LayerParam, parse_bbox
from api.offload import Offload, helper_store
from gridmap.catalogue import get_layer
from gridmap.export import export_layer, select_features
from gridmap.formats import FORMATS, FormatKey
from gridmap.privacy import Role
from gridmap.stores import BBox, Store

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
    """Personal fields follow the caller's role, exactly as in the feature endpoints.

    The file is written in the worker's export process (`api.offload`): GDAL's
    writers hold the interpreter lock for the whole file.
    """
    spec = get_layer(layer)
    caller.require_read(spec.name)
    store: Store = request.app.state.store
    folder = scratch.make_folder("export")
    try:
        target = folder / f"{spec.name}{FORMATS[format].suffix}"
        offload: Offload = request.app.state.offload
        path = offload.run(
            write_export,
            store.url,
            spec.name,
            target,
            format,
            crs,
            caller.role,
            community,
            grid,
            parse_bbox(bbox),
        )
    except BaseException:
        scratch.remove(folder)
        raise
    return FileResponse(
        path,
        media_type=FORMATS[format].media_type,
        filename=path.name,
        background=BackgroundTask(scratch.remove, folder),
    )


def write_export(
    store_url: str,
    layer: str,
    target: Path,
    fmt: str,
    crs: str,
    role: Role,
    community: str | None,
    grid: str | None,
    bbox: BBox | None,
) -> Path:
    """In the export process: read the features and write the file (a big read holds the lock too)."""
    frame = select_features(helper_store(store_url), layer, community=community, grid=grid, bbox=bbox)
    return export_layer(frame, target, fmt, crs, layer=layer, role=role)
