"""What the console asks besides the OGC layers: one search box, a grid's action list, a topology
check before a boundary is saved, the vocabulary and who the caller is.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from api.auth import Caller
from api.coverage import AnalysisCache
from gridmap.actions import grid_actions
from gridmap.errors import NotFoundError, Problem, ValidationError
from gridmap.lookup import LookupService
from gridmap.privacy import Role
from gridmap.stores import Store
from gridmap.texts import Message
from gridmap.topology import check_grids
from gridmap.vocabulary import (
    FINDING_KINDS,
    GAP_KINDS,
    GRADE_COLORS,
    HOUSEHOLD_GAPS,
    MEASURES,
    NO_DATA_COLOR,
    WALK_BANDS,
    Lang,
    column_terms,
    term_label,
)

router = APIRouter(tags=["console"])

_COORDINATE = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,2}(?:\.\d+)?)\s*$")
MAX_RESULTS = 10
AREA_LAYERS = ("grids", "communities", "streets")


@dataclass
class AreaIndex:
    """Codes, names and bounding boxes of grids, communities and streets, refreshed per store revision."""

    store: Store
    _revision: str | None = field(default=None, init=False)
    _table: pd.DataFrame | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def table(self) -> pd.DataFrame:
        with self._lock:
            revision = self.store.revision()
            if self._table is None or revision != self._revision:
                parts = []
                for layer in AREA_LAYERS:
                    frame = self.store.read(layer)
                    bounds = frame.geometry.bounds
                    parts.append(
                        pd.DataFrame(
                            {
                                "kind": layer[:-1] if layer != "communities" else "community",
                                "code": frame["code"].astype(str).to_numpy(),
                                "name": frame["name"].astype("string").fillna("").to_numpy(),
                                "bbox": bounds[["minx", "miny", "maxx", "maxy"]].round(6).to_numpy().tolist(),
                            }
                        )
                    )
                self._table = pd.concat(parts, ignore_index=True)
                self._revision = revision
            return self._table


def _areas(request: Request) -> AreaIndex:
    state = request.app.state
    if getattr(state, "areas", None) is None:
        state.areas = AreaIndex(state.store)
    areas: AreaIndex = state.areas
    return areas


def _result(kind: Any, code: Any, name: Any, grid_code: Any, bbox: Any) -> dict[str, Any]:
    return {"kind": kind, "code": code, "name": name, "grid_code": grid_code, "bbox": bbox}


@router.get("/search", summary="One search box: an address, a grid/community/street code or name, or lon,lat")
def search(
    request: Request, caller: Caller, q: Annotated[str, Query(min_length=1, max_length=200)]
) -> JSONResponse:
    """Results best first, each with the grid that owns it (when one does) and a bounding box to show."""
    table = _areas(request).table()
    bbox_of = dict(zip(table["code"], table["bbox"], strict=True))
    lookup: LookupService = request.app.state.lookup
    text = q.strip()
    point = _COORDINATE.match(text)
    if point:
        lon, lat = float(point.group(1)), float(point.group(2))
        found = lookup.by_point(lon, lat, "wgs84", caller.role)
        grid = found["grid"]
        return JSONResponse(
            {"results": [_result("point", f"{lon},{lat}", text, grid["code"], bbox_of.get(grid["code"], []))]}
        )
    exact = table[(table["code"] == text) | (table["name"] == text)]
    partial = table[
        table["code"].str.contains(text, regex=False) | table["name"].str.contains(text, regex=False)
    ]
    hits = pd.concat([exact, partial]).drop_duplicates("code").head(MAX_RESULTS)
    results = [
        _result(r["kind"], r["code"], r["name"], r["code"] if r["kind"] == "grid" else None, r["bbox"])
        for r in hits.to_dict(orient="records")
    ]
    if results:
        return JSONResponse({"results": results})
    found = lookup.by_address(text, caller.role)
    grid = found["grid"]
    building = found.get("building") or {}
    return JSONResponse(
        {
            "results": [
                _result(
                    "address",
                    str(building.get("code", "")),
                    str(building.get("address", text)),
                    grid["code"],
                    bbox_of.get(grid["code"], []),
                )
            ],
            "match": found.get("match"),
        }
    )


@router.get("/grids/{code}/actions", summary="A grid's figures, why its grade, and its action list (viewer)")
def actions(
    request: Request,
    caller: Caller,
    code: str,
    propose: Annotated[int, Query(ge=0, le=10, description="Proposed speaker sites to number")] = 3,
    lang: Annotated[Lang, Query()] = "zh",
) -> JSONResponse:
    """Broken speakers to repair, uncovered and unlinked households (addresses; contacts masked per role),
    proposed sites numbered with the households each would cover."""
    caller.require(Role.VIEWER, Message("api.action.action_list"))
    cache: AnalysisCache = request.app.state.analysis
    frames, analysis = cache.get()
    found = grid_actions(analysis, frames, code, role=caller.role, propose=propose)
    return JSONResponse(found.as_dict(lang))


@router.post(
    "/grids/{code}/check", summary="Topology of a redrawn grid boundary, before it is saved (editor)"
)
def check(
    request: Request,
    caller: Caller,
    code: str,
    geometry: Annotated[dict[str, Any], Body(description="The new boundary as a GeoJSON geometry")],
    lang: Annotated[Lang, Query()] = "zh",
) -> JSONResponse:
    """The findings the community would have with this boundary; nothing is written."""
    return JSONResponse(_check(request, caller, {code: _shape(geometry, "geometry")}, lang))


@router.post("/grids/check", summary="Topology of several redrawn grid boundaries at once (editor)")
def check_many(
    request: Request,
    caller: Caller,
    body: Annotated[
        dict[str, Any],
        Body(description="A GeoJSON FeatureCollection of the redrawn grids (properties.code, geometry)"),
    ],
    lang: Annotated[Lang, Query()] = "zh",
) -> JSONResponse:
    """The findings with all these boundaries redrawn together (a shared edge moved for both grids)."""
    features = body.get("features") if body.get("type") == "FeatureCollection" else None
    if not isinstance(features, list) or not features:
        raise ValidationError("body", [_problem(Message("api.planning.no_grids"))])
    redrawn: dict[str, shapely.Geometry] = {}
    for i, feature in enumerate(features):
        code = ((feature or {}).get("properties") or {}).get("code") if isinstance(feature, dict) else None
        if not isinstance(code, str) or not code:
            raise ValidationError("body", [_problem(Message("api.planning.no_code", where=f"features.{i}"))])
        redrawn[code] = _shape(feature.get("geometry"), f"features.{i}.geometry")
    return JSONResponse(_check(request, caller, redrawn, lang))


def _shape(geometry: Any, field: str) -> shapely.Geometry:
    """A redrawn boundary as a MultiPolygon; anything else is a 422 naming `field`."""
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException) as exc:
        raise ValidationError(
            field, [_problem(Message("api.planning.not_geometry", reason=str(exc)))]
        ) from None
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValidationError(field, [_problem(Message("api.planning.not_polygon", kind=shape.geom_type))])
    xy = shapely.get_coordinates(shape)
    if not (np.isfinite(xy).all() and (np.abs(xy) <= (180.0, 90.0)).all()):
        raise ValidationError(field, [_problem("coordinates must be finite lon/lat within ±180/±90")])
    return shapely.MultiPolygon([shape]) if shape.geom_type == "Polygon" else shape


def _check(
    request: Request, caller: Caller, redrawn: dict[str, shapely.Geometry], lang: Lang
) -> dict[str, Any]:
    """Findings of every community a redrawn grid belongs to, with all the grids redrawn at once."""
    store: Store = request.app.state.store
    grids = store.read("grids")
    missing = sorted(set(redrawn) - set(grids["code"].astype(str)))
    if missing:
        raise NotFoundError(Message("error.no_grid_code", codes=", ".join(map(repr, missing))))
    before = grids[grids["code"].isin(redrawn)]
    after = before.assign(geometry=[redrawn[str(c)] for c in before["code"]])
    # The same rule as the write it would become: an editor may only redraw inside their communities.
    caller.authorise(
        store, "grids", after=after, before=before, action=f"redrawing grids {', '.join(redrawn)}"
    )
    touched = sorted(set(before["community_code"].astype(str)))
    mine = grids[grids["community_code"].isin(touched)].copy()
    changed = mine["code"].isin(redrawn)
    mine.loc[changed, "geometry"] = [redrawn[str(c)] for c in mine.loc[changed, "code"]]
    communities = store.read("communities", codes=touched)
    findings = check_grids(gpd.GeoDataFrame(mine, crs=grids.crs), communities)
    rows = [
        {
            "kind": str(f.kind),
            "label": term_label(str(f.kind), lang) or str(f.kind),
            "severity": str(f.severity),
            "message": str(f.message_zh if lang == "zh" else f.message_en),
            "area_m2": round(float(f.area_m2), 1),
        }
        for f in findings.itertuples()
    ]
    return {"ok": not any(r["severity"] == "error" for r in rows), "findings": rows}


def _problem(reason: str) -> Problem:
    return Problem(row=None, field="geometry", reason=reason)


@router.get("/vocabulary", summary="Measures, grades, finding kinds and gap kinds with labels and colours")
def vocabulary() -> JSONResponse:
    """The one registry (gridmap.vocabulary), for the console and other clients."""
    return JSONResponse(
        {
            "grades": GRADE_COLORS,
            "no_data": NO_DATA_COLOR,
            "measures": {
                m.code: {
                    "zh": m.zh,
                    "en": m.en,
                    "column": m.column,
                    "count": m.count,
                    "base": m.base,
                    "thresholds": m.thresholds,
                    "graded": m.graded,
                    "gap": m.gap,
                    "classes": [{"text": t, "color": c, "low": low} for t, c, low in m.class_bounds()],
                }
                for m in MEASURES.values()
            },
            "columns": {code: {"zh": t.zh, "en": t.en} for code, t in column_terms().items()},
            "walk_bands": {
                b.code: {"zh": b.zh, "en": b.en, "minutes": b.minutes, "metres": b.metres, "color": b.color}
                for b in WALK_BANDS.values()
            },
            "household_gaps": {
                g.code: {"zh": g.zh, "en": g.en, "color": g.color} for g in HOUSEHOLD_GAPS.values()
            },
            "finding_kinds": {
                k.code: {"zh": k.zh, "en": k.en, "severity": k.severity, "color": k.color}
                for k in FINDING_KINDS.values()
            },
            "gap_kinds": {g.code: {"zh": g.zh, "en": g.en} for g in GAP_KINDS.values()},
        }
    )


@router.get("/session", summary="Who the caller is (from the bearer token or the session cookie)")
def whoami(caller: Caller) -> JSONResponse:
    return JSONResponse(
        {"role": caller.role.value, "name": caller.name, "communities": sorted(caller.communities)}
    )
