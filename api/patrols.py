"""`/patrols`: grid workers' patrols (巡查) over HTTP.

A worker (an editor of the grid's community) records a patrol from the phone
page: the fixes the browser's geolocation gave, each `[lon, lat, epoch ms]`,
with an idempotency key (sent again, it returns the patrol already stored, 200
instead of 201). A week's figures per grid are open to viewers; a track (where a
person walked, when) is shown to its worker and to admins alone, and left out
of every other caller's reply.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, Principal
from api.visits import _editor_grids, _json, _own_grid, _store
from gridmap.errors import PermissionDeniedError
from gridmap.localtime import BEIJING
from gridmap.privacy import Role, may_see_track
from gridmap.texts import Message
from gridmap.visits.patrols import Patrol, record_patrol, week_of, week_stats
from gridmap.visits.tracks import MAX_POINTS, check_track

router = APIRouter(tags=["visits"])


class PatrolIn(BaseModel):
    """One patrol as the phone recorded it; `key` is chosen by the phone and sent again on a retry."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=100, description="Idempotency key (e.g. a UUID)")
    grid_code: str = Field(min_length=1, max_length=40)
    fixes: list[tuple[float, float, float]] = Field(
        min_length=1, max_length=MAX_POINTS, description="[lon, lat, time in epoch milliseconds], in order"
    )


def worker_name(caller: Principal) -> str:
    """Who the caller is as a worker: the token's name, or its role."""
    return caller.name or f"{caller.role.value} token"


@router.post("/patrols", status_code=201, summary="Record a patrol (idempotent on `key`)")
def post_patrol(request: Request, response: Response, caller: Caller, body: PatrolIn) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.record_patrols"))
    store = _store(request)
    if not _own_grid(caller, store, body.grid_code):
        raise PermissionDeniedError(
            Message("error.not_yours", what=Message("error.grid", code=body.grid_code))
        )
    lon, lat, ms = zip(*body.fixes, strict=True)
    track = check_track(lon, lat, [t / 1000 for t in ms], source="patrol")
    started = dt.datetime.fromtimestamp(ms[0] / 1000, dt.UTC)
    patrol = Patrol(body.key, worker_name(caller), body.grid_code, started, track, source="phone")
    row, created = record_patrol(store, patrol)
    if not created:
        response.status_code = 200
    return _shown(row, caller) | {"created": created}


@router.get("/patrols", summary="Patrols with their figures; tracks for their worker and admins alone")
def list_patrols(
    request: Request,
    caller: Caller,
    grid: Annotated[str | None, Query(max_length=40)] = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.patrols"))
    store = _store(request)
    mine = _editor_grids(caller, store)
    if grid is not None:
        if mine is not None and grid not in mine:
            raise PermissionDeniedError(Message("error.not_yours", what=Message("error.grid", code=grid)))
        mine = [grid]
    rows = store.visit_book().patrols(grids=mine, since=since, until=until, tracks=True)
    shown = [_shown(row, caller) for row in rows]
    return {"count": len(shown), "patrols": shown}


@router.get("/patrols/week", summary="Per grid, one week: patrols, km and minutes inside, roads walked")
def get_week(
    request: Request,
    caller: Caller,
    on: Annotated[dt.date | None, Query(description="A day of the week (Beijing); default: today")] = None,
    grid: Annotated[list[str] | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.patrol_figures"))
    day = on or dt.datetime.now(BEIJING).date()
    table = week_stats(_store(request), day, grid)
    monday, sunday = week_of(day)
    rows = [{str(k): _json(v) for k, v in r.items()} for r in table.astype(object).to_dict("records")]
    return {"since": monday.isoformat(), "until": sunday.isoformat(), "grids": rows}


def _shown(row: dict[str, Any], caller: Principal) -> dict[str, Any]:
    """A stored patrol as `caller` may read it: the track (GeoJSON, fix times in seconds) or nothing."""
    shown = {k: _json(v) for k, v in row.items() if k not in ("id", "track", "seconds")}
    if "track" in row and may_see_track(caller.role, caller.name, str(row["worker"])):
        line = shapely.from_wkb(row["track"])
        shown["track"] = shapely.geometry.mapping(line)
        shown["seconds"] = [float(s) for s in str(row["seconds"]).split(",")]
    return shown
