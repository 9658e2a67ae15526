"""`/visits`: a grid worker's door-to-door visits (走访) over HTTP.

A grid worker is an editor of their community: they record visits of its
households and read its due lists and visits; an admin everything. Viewers
(and departments, reviewers) read due lists and figures with care
categories masked; anonymous callers nothing. A POST carries an idempotency
key: sent again (a phone retrying on a weak signal) it returns the visit
already stored, with 200 instead of 201, and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, Principal
from api.language import request_language
from gridmap.errors import NotFoundError, PermissionDeniedError
from gridmap.localtime import BEIJING
from gridmap.privacy import Role
from gridmap.stores import Store
from gridmap.texts import Message, say
from gridmap.visits.rules import category_label
from gridmap.visits.service import Visit, due, log_visit, stats

router = APIRouter(tags=["visits"])
MAX_TEXT = 2000

GridParam = Annotated[str, Query(max_length=40, description="Grid code")]


class VisitIn(BaseModel):
    """One visit as the worker records it; `key` is chosen by the caller and sent again on a retry."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=100, description="Idempotency key (e.g. a UUID)")
    household_code: str = Field(min_length=1, max_length=40)
    visited_at: dt.datetime | None = Field(None, description="When (ISO 8601 with zone); default: now")
    reached: bool = True
    notes: str | None = Field(None, max_length=MAX_TEXT)
    follow_up: bool = False
    case_code: str | None = Field(None, max_length=40)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _community_of(store: Store, grid: str) -> str | None:
    found = store.read("grids", codes=[grid])
    if not len(found):
        raise NotFoundError(Message("case.no_grid", grid=repr(grid)))
    value = found["community_code"].iloc[0]
    return None if value is None or value != value else str(value)


def _own_grid(caller: Principal, store: Store, grid: str) -> bool:
    """Whether the caller works this grid (an editor of its community) or is an admin; the grid must exist."""
    community = _community_of(store, grid)
    return caller.role is Role.ADMIN or (caller.role is Role.EDITOR and community in caller.communities)


def _editor_grids(caller: Principal, store: Store) -> list[str] | None:
    """The grids an editor works (None: every grid, for an admin)."""
    if caller.role is Role.ADMIN:
        return None
    grids = store.read("grids")
    mine = grids["community_code"].astype("string").isin(sorted(caller.communities)).fillna(False)
    return grids.loc[mine.to_numpy(dtype=bool), "code"].astype(str).tolist()


def _json(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(BEIJING).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


@router.get("/visits/due", summary="A grid's visit list for a day: overdue first, then due this week")
def get_due(
    request: Request,
    caller: Caller,
    grid: GridParam,
    on: Annotated[dt.date | None, Query(description="The day (Beijing); default: today")] = None,
) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.visit_lists"))
    store = _store(request)
    own = _own_grid(caller, store, grid)
    if caller.role is Role.EDITOR and not own:
        raise PermissionDeniedError(Message("error.not_yours", what=Message("error.grid", code=grid)))
    day = on or dt.datetime.now(BEIJING).date()
    table = due(store, grid, day, caller.role, for_editing=own).to_crs(4326)
    points = np.asarray(table.geometry.values, dtype=object)
    located = table.drop(columns="geometry").assign(lon=shapely.get_x(points), lat=shapely.get_y(points))
    lang = request_language(request)
    rows = []
    for record in located.astype(object).to_dict("records"):
        row = {str(k): _json(v) for k, v in record.items()}
        if "categories" in row:
            codes = [c for c in str(row["categories"] or "").split(",") if c]
            row["categories"] = codes
            row["category_labels"] = [category_label(c, lang) for c in codes]
        row["status_label"] = say(f"visit.status.{row['status']}", lang)
        rows.append(row)
    return {"grid": grid, "on": day.isoformat(), "count": len(rows), "households": rows}


@router.get("/visits", summary="Visits recorded, newest first (an editor: their communities' grids)")
def list_visits(
    request: Request,
    caller: Caller,
    grid: Annotated[str | None, Query(max_length=40)] = None,
    household: Annotated[str | None, Query(max_length=40)] = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.visits"))
    store = _store(request)
    mine = _editor_grids(caller, store)
    if grid is not None:
        if mine is not None and grid not in mine:
            raise PermissionDeniedError(Message("error.not_yours", what=Message("error.grid", code=grid)))
        mine = [grid]
    start = None if since is None else dt.datetime.combine(since, dt.time(), BEIJING)
    end = None if until is None else dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), BEIJING)
    rows = store.visit_book().visits(grids=mine, household=household, since=start, until=end, limit=limit)
    shown = [{k: _json(v) for k, v in row.items() if k != "id"} for row in rows]
    return {"count": len(shown), "visits": shown}


@router.get("/visits/stats", summary="Visits per grid and worker in a period (no personal data)")
def get_stats(
    request: Request,
    caller: Caller,
    since: dt.date,
    until: dt.date,
    grid: Annotated[list[str] | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.visit_figures"))
    table = stats(_store(request), since, until, grid)
    rows = [{str(k): _json(v) for k, v in r.items()} for r in table.astype(object).to_dict("records")]
    return {"since": since.isoformat(), "until": until.isoformat(), "rows": rows}


@router.post("/visits", status_code=201, summary="Record a visit (idempotent on `key`)")
def post_visit(request: Request, response: Response, caller: Caller, body: VisitIn) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.record_visits"))
    store = _store(request)
    found = store.read("households", codes=[body.household_code])
    if not len(found):
        raise NotFoundError(Message("visit.no_household", code=repr(body.household_code)))
    grid = found["grid_code"].iloc[0]
    if caller.role is not Role.ADMIN and (
        grid is None or grid != grid or _community_of(store, str(grid)) not in caller.communities
    ):
        raise PermissionDeniedError(
            Message("error.not_yours", what=Message("error.household", code=body.household_code))
        )
    visit = Visit(
        key=body.key,
        household_code=body.household_code,
        visitor=caller.name or f"{caller.role.value} token",
        visited_at=body.visited_at or dt.datetime.now(dt.UTC),
        reached=body.reached,
        notes=body.notes,
        follow_up=body.follow_up,
        case_code=body.case_code,
    )
    row, created = log_visit(store, visit)
    if not created:
        response.status_code = 200
    return {k: _json(v) for k, v in row.items() if k != "id"} | {"created": created}
