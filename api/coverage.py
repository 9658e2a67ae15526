"""`/coverage` (figures per grid, community and street) and `/coverage/gaps` (GeoJSON).

The analysis runs over the whole store, so it is computed once per store
revision and shared by the coverage and map endpoints of this process.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.auth import Caller
from gridmap.analysis import Analysis, analyze
from gridmap.catalogue import LAYER_NAMES
from gridmap.privacy import Role, protect
from gridmap.stores import Store

router = APIRouter(tags=["coverage"])

GEOJSON = "application/geo+json"
Level = Literal["grids", "communities", "streets"]


@dataclass
class AnalysisCache:
    """The store's frames and their analysis, recomputed only when the store's revision changes."""

    store: Store
    _revision: str | None = field(default=None, init=False)
    _frames: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, init=False)
    _analysis: Analysis | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def get(self) -> tuple[dict[str, gpd.GeoDataFrame], Analysis]:
        """The current frames and analysis (one caller computes; the others wait for it)."""
        with self._lock:
            revision = self.store.revision()
            if self._analysis is None or revision != self._revision:
                self._frames = {name: self.store.read(name) for name in LAYER_NAMES}
                self._analysis = analyze(self._frames)
                self._revision = revision
            return self._frames, self._analysis


def for_role(
    frames: dict[str, gpd.GeoDataFrame], analysis: Analysis, role: Role
) -> tuple[dict[str, gpd.GeoDataFrame], Analysis]:
    """The frames and analysis with personal fields masked as `role` may read them."""
    shown = {name: protect(name, frame, role) for name, frame in frames.items()}
    return shown, dataclasses.replace(analysis, grids=protect("grids", analysis.grids, role))


def cached_analysis(request: Request, caller: Caller) -> tuple[dict[str, gpd.GeoDataFrame], Analysis]:
    """The analysis as this caller may see it; coverage needs at least a viewer token."""
    caller.require(Role.VIEWER, "coverage figures")
    cache: AnalysisCache = request.app.state.analysis
    return for_role(*cache.get(), caller.role)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows without geometry as JSON-ready dicts (NaN and NA become null)."""
    plain = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns]))
    result: list[dict[str, Any]] = json.loads(plain.to_json(orient="records", force_ascii=False))
    return result


@router.get("/coverage", summary="Coverage figures per grid, community and street (viewer)")
def coverage(
    request: Request,
    caller: Caller,
    level: Annotated[Level | None, Query(description="Only this level (default: all three)")] = None,
) -> JSONResponse:
    """Shares of households covered by speakers, service points and linkage, with grades and gaps."""
    _frames, analysis = cached_analysis(request, caller)
    totals = {k: (None if pd.isna(v) else v) for k, v in analysis.totals().items()}
    levels: tuple[Level, ...] = (level,) if level else ("grids", "communities", "streets")
    body: dict[str, Any] = {"totals": totals}
    for name in levels:
        body[name] = records(getattr(analysis, name))
    return JSONResponse(body)


@router.get(
    "/coverage/gaps",
    summary="Everything a planner must act on, as GeoJSON (viewer)",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def gaps(
    request: Request,
    caller: Caller,
    grid_code: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=100)] = None,
) -> JSONResponse:
    """Uncovered households per grid, grids without party branch or worker, topology errors."""
    _frames, analysis = cached_analysis(request, caller)
    found = analysis.gaps
    if grid_code is not None:
        found = found[(found["grid_code"] == grid_code).fillna(False)]
    if kind is not None:
        found = found[(found["kind"] == kind).fillna(False)]
    collection = (
        found.to_geo_dict(na="null", drop_id=True)
        if len(found)
        else {"type": "FeatureCollection", "features": []}
    )
    return JSONResponse(collection, media_type=GEOJSON)
