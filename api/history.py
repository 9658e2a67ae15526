"""`/history`: who changed what and when, each feature's before and after, and undo (admin).

Admins read every revision and may revert one; an editor reads the history
of one feature (`layer` and `code`) of their own communities. Personal
fields of before and after are masked exactly as in the layers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.auth import Caller, Principal
from api.errors import BadRequestError
from gridmap.frames import conform
from gridmap.history import FeatureChange, Revision, visible
from gridmap.privacy import Role
from gridmap.stores import Store
from gridmap.texts import Message
from gridmap.versions import InvalidDateError

router = APIRouter(tags=["history"])
MAX_REVISIONS = 1000
MAX_CHANGES = 10_000


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidDateError(Message("api.history.since", value=repr(value))) from None


def _shown(revision: Revision, caller: Principal, limit: int = MAX_CHANGES) -> dict[str, Any]:
    body = revision.as_dict()
    body["changes"] = [
        {"layer": c.layer, "code": c.code, "op": c.op, "before": c.before, "after": c.after}
        for c in visible(revision.changes[:limit], caller.role)
    ]
    body["changes_truncated"] = len(revision.changes) > limit
    return body


def _require_feature_access(
    store: Store, caller: Principal, layer: str, code: str, changes: list[FeatureChange]
) -> None:
    """An editor reads a feature's history only when every version of it lies in their communities.

    Judged by the write rule (`gridmap.authorisation`), as if the editor were writing each version.
    """
    if caller.role is Role.ADMIN:
        return
    rows = [side for c in changes for side in (c.before, c.after) if side is not None]
    if not rows:
        return
    table = pd.DataFrame(rows)
    geometry = shapely.from_wkt(table.pop("geometry").to_numpy(dtype=object))
    versions = conform(layer, gpd.GeoDataFrame(table, geometry=geometry, crs="EPSG:4326"))
    caller.authorise(
        store,
        layer,
        after=versions,
        before=versions.iloc[:0],
        action=f"reading the history of {layer} {code}",
    )


@router.get("/history", summary="Revisions, newest first (admin; editors: one feature of their communities)")
def history(
    request: Request,
    caller: Caller,
    layer: Annotated[str | None, Query(description="Only revisions that changed this layer")] = None,
    code: Annotated[
        str | None, Query(description="Only revisions that changed this feature (with layer)")
    ] = None,
    since: Annotated[str | None, Query(description="Only revisions since this date or time (ISO)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_REVISIONS)] = 100,
) -> JSONResponse:
    """With `layer` and `code`, each revision carries that feature's before and after."""
    store = _store(request)
    if caller.role is not Role.ADMIN:
        caller.require(Role.EDITOR, Message("api.action.history"))
        if layer is None or code is None:
            raise BadRequestError(Message("api.history.one_feature"), field="code")
    if code is not None and layer is None:
        raise BadRequestError(Message("api.history.code_layer"), field="layer")
    found = store.history(layer=layer, code=code, since=_since(since), limit=limit)
    if code is not None and layer is not None:
        found = [store.changes(r.id, layer=layer, code=code) for r in found]
        _require_feature_access(store, caller, layer, code, [c for r in found for c in r.changes])
    return JSONResponse({"revisions": [_shown(r, caller) for r in found]})


@router.get("/history/{revision}", summary="One revision with every feature it changed (admin)")
def revision_detail(
    request: Request, caller: Caller, revision: int, limit: Annotated[int, Query(ge=1, le=MAX_CHANGES)] = 1000
) -> JSONResponse:
    caller.require(Role.ADMIN, Message("api.action.revision"))
    return JSONResponse(_shown(_store(request).changes(revision), caller, limit))


@router.post(
    "/history/{revision}/revert", status_code=201, summary="Undo a revision as a new revision (admin)"
)
def revert(request: Request, caller: Caller, revision: int) -> JSONResponse:
    """409 when a feature it changed has changed since (revert the later revisions first)."""
    caller.require(Role.ADMIN, Message("api.action.revert"))
    store = _store(request)
    new = store.revert(revision)
    return JSONResponse({"revision": new, "reverts": revision}, status_code=201)
