"""`/coverage` (figures per grid, community and street) and `/coverage/gaps` (GeoJSON).

Both serve the documents `documents` renders once per store revision, which
one builder publishes for every worker (`gridmap.serving`). The maps still
take the whole analysis, computed once per revision in each process
(`AnalysisCache`).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from api.auth import Caller
from gridmap.analysis import Analysis
from gridmap.errors import UnavailableError
from gridmap.privacy import Role, protect, sight
from gridmap.serving import Edition, LiveAnalysis, Shelf
from gridmap.stores import Store
from gridmap.texts import Message

router = APIRouter(tags=["coverage"])

GEOJSON = "application/geo+json"
Level = Literal["grids", "communities", "streets"]


@dataclass
class AnalysisCache:
    """The store's whole frames and their analysis for maps and action lists, kept at its revision.

    An edit redoes only the communities it reaches, as the builder does
    (`gridmap.serving.LiveAnalysis`).
    """

    store: Store
    _live: LiveAnalysis = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._live = LiveAnalysis(self.store, narrow=False)

    def get(self) -> tuple[dict[str, gpd.GeoDataFrame], Analysis]:
        """The current frames and analysis (one caller computes; the others wait for it)."""
        with self._lock:
            self._live.refresh()
            assert self._live.analysis is not None
            return self._live.frames, self._live.analysis


def for_role(
    frames: dict[str, gpd.GeoDataFrame], analysis: Analysis, role: Role
) -> tuple[dict[str, gpd.GeoDataFrame], Analysis]:
    """The frames and analysis with personal fields masked as `role` may read them."""
    shown = {name: protect(name, frame, role) for name, frame in frames.items()}
    return shown, dataclasses.replace(analysis, grids=protect("grids", analysis.grids, role))


def cached_analysis(request: Request, caller: Caller) -> tuple[dict[str, gpd.GeoDataFrame], Analysis]:
    """The analysis as this caller may see it; coverage needs at least a viewer token."""
    caller.require(Role.VIEWER, Message("api.action.coverage"))
    cache: AnalysisCache = request.app.state.analysis
    return for_role(*cache.get(), caller.role)


def records_json(frame: pd.DataFrame) -> str:
    """Rows without geometry as a JSON array of objects (NaN and NA become null), written by pandas in C."""
    plain = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns]))
    return plain.to_json(orient="records", force_ascii=False)


_LEVEL_DOCS: dict[str, Callable[[Analysis, Role], pd.DataFrame]] = {
    "grids": lambda analysis, role: protect("grids", analysis.grids, role),
    "communities": lambda analysis, _role: analysis.communities,
    "streets": lambda analysis, _role: analysis.streets,
}
_READERS = [role for role in Role if role.allows(Role.VIEWER)]
_GAP_COLUMNS = ["kind", "grid_code", "description_zh", "description_en"]


class _WkbMemo:
    """WKB of the geometries last encoded, reused by object: after a street's refresh most gaps
    are the very objects of the previous revision (a city's hold millions of household points)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._geoms = np.empty(0, dtype=object)  # held, so no id below is reused by a new object
        self._wkb = np.empty(0, dtype=object)

    def encode(self, geoms: np.ndarray) -> np.ndarray:
        with self._lock:
            known = {id(g): i for i, g in enumerate(self._geoms)}
            at = np.fromiter((known.get(id(g), -1) for g in geoms), dtype=np.intp, count=len(geoms))
            out = np.empty(len(geoms), dtype=object)
            out[at >= 0] = self._wkb[at[at >= 0]]
            out[at < 0] = shapely.to_wkb(geoms[at < 0])
            self._geoms, self._wkb = geoms, out
            return out


_GAP_WKB = _WkbMemo()


def documents(analysis: Analysis) -> dict[str, bytes]:
    """What the builder publishes per revision: each level's rows as each reader role sees them, the gaps.

    The grids differ by role (personal fields are masked below admin); the
    other levels carry no personal data. Gaps go as Parquet with WKB
    geometry (written in bulk: a city's gaps hold a million household
    points), so a worker reads only the rows a request asks for and turns
    just those into GeoJSON.
    """
    totals = {k: (None if pd.isna(v) else v) for k, v in analysis.totals().items()}
    out = {"totals.json": json.dumps(totals, ensure_ascii=False).encode()}
    for level, shown in _LEVEL_DOCS.items():
        written: dict[str, bytes] = {}  # roles of one sight see the very same rows
        for role in _READERS:
            seen = sight(role)
            if seen not in written:
                written[seen] = records_json(shown(analysis, role)).encode()
            out[f"{level}-{role.value}.json"] = written[seen]
    gaps = analysis.gaps
    columns = {
        c: pa.array(gaps[c].astype("string").to_numpy(dtype=object, na_value=None), pa.string())
        for c in _GAP_COLUMNS
    }
    wkb = pa.array(_GAP_WKB.encode(np.asarray(gaps.geometry.values, dtype=object)), pa.binary())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({**columns, "wkb": wkb}), sink)
    out["gaps.parquet"] = sink.getvalue().to_pybytes()
    return out


def _edition(request: Request) -> Edition:
    """The newest published analysis; 503 while the first one is still being built."""
    shelf: Shelf = request.app.state.shelf
    edition = shelf.newest()
    if edition is None:
        raise UnavailableError("the coverage figures are still being computed; retry in a moment")
    return edition


def _published(edition: Edition, body: bytes, media_type: str = "application/json") -> Response:
    """A published document, labelled with the store revision it was computed from."""
    return Response(body, media_type=media_type, headers={"X-Gridmap-Revision": edition.revision})


@router.get("/coverage", summary="Coverage figures per grid, community and street (viewer)")
def coverage(
    request: Request,
    caller: Caller,
    level: Annotated[Level | None, Query(description="Only this level (default: all three)")] = None,
) -> Response:
    """Shares of households covered by speakers, service points and linkage, with grades and gaps.

    Served from the newest published analysis (the `X-Gridmap-Revision`
    header names its store revision): never computed while the caller waits.
    """
    caller.require(Role.VIEWER, Message("api.action.coverage"))
    edition = _edition(request)
    levels: tuple[Level, ...] = (level,) if level else ("grids", "communities", "streets")
    parts = [b'{"totals":', edition.read("totals.json")]
    for name in levels:
        parts += [f',"{name}":'.encode(), edition.read(f"{name}-{caller.role.value}.json")]
    return _published(edition, b"".join([*parts, b"}"]))


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
) -> Response:
    """Uncovered households per grid, grids without party branch or worker, topology errors."""
    caller.require(Role.VIEWER, Message("api.action.coverage"))
    edition = _edition(request)
    wanted = [(name, "=", value) for name, value in (("grid_code", grid_code), ("kind", kind)) if value]
    table = pq.read_table(pa.BufferReader(edition.read("gaps.parquet")), filters=wanted or None)
    found = gpd.GeoDataFrame(
        table.select(_GAP_COLUMNS).to_pandas(),
        geometry=shapely.from_wkb(table.column("wkb").to_numpy(zero_copy_only=False)),
        crs="EPSG:4326",
    )
    collection = (
        found.to_geo_dict(na="null", drop_id=True)
        if len(found)
        else {"type": "FeatureCollection", "features": []}
    )
    return _published(edition, json.dumps(collection, ensure_ascii=False).encode(), GEOJSON)
