"""`/maps/coverage` and `/maps/grid/{code}`: the planners' HTML maps, self-contained (assets inlined)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.coverage import cached_analysis
from gridmap.maps import coverage_map, grid_map, render_html
from gridmap.maps.labels import Lang
from gridmap.stores import Store
from gridmap.vocabulary import MEASURES

router = APIRouter(tags=["maps"])

Measure = StrEnum("Measure", {code: code for code in MEASURES})  # type: ignore[misc]
DEFAULT_MEASURE = Measure("speaker")
Cached = Annotated[tuple[Any, Any], Depends(cached_analysis)]


def data_date(request: Request) -> dt.date:
    """The day the data last changed, printed on the map (today when the store cannot tell)."""
    store: Store = request.app.state.store
    changed = [t for t in store.last_modified().values() if t is not None]
    return max(changed).date() if changed else dt.date.today()


@router.get("/maps/coverage", response_class=HTMLResponse, summary="District coverage map (viewer)")
def coverage(
    request: Request,
    cached: Cached,
    measure: Annotated[Measure, Query(description="What colours the grids")] = DEFAULT_MEASURE,
    lang: Annotated[Lang, Query()] = "zh",
) -> HTMLResponse:
    """Grids coloured by `measure`, with speakers, service points and gaps; opens with no network."""
    frames, analysis = cached
    m = coverage_map(analysis, frames=frames, measure=str(measure), lang=lang, data_date=data_date(request))
    return HTMLResponse(render_html(m))


@router.get("/maps/grid/{code}", response_class=HTMLResponse, summary="One grid in detail (viewer)")
def grid(request: Request, cached: Cached, code: str, lang: Annotated[Lang, Query()] = "zh") -> HTMLResponse:
    """Who in the grid is covered and who is linked to whom."""
    frames, analysis = cached
    return HTMLResponse(
        render_html(grid_map(analysis, frames, code, lang=lang, data_date=data_date(request)))
    )
