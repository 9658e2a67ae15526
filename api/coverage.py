"""`/coverage` (figures per grid, community and street) and `/coverage/gaps` (GeoJSON).

Both serve the documents `documents` renders once per store revision, which
one builder publishes for every worker (`gridmap.serving`). The grid and
community rows and the gaps are kept per street, and an edit renders only the
streets it changed; a reply joins one edition's parts in a stable order (bytes
joined, nothing parsed again). The maps still take the whole analysis,
computed once per revision in each process (`AnalysisCache`).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Collection
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
from gridmap.analysis import GAP_TEXT, Analysis
from gridmap.errors import UnavailableError
from gridmap.privacy import Role, protect, sight
from gridmap.serving import Documents, Edition, LiveAnalysis, Shelf
from gridmap.stores import Store
from gridmap.texts import Message

router = APIRouter(tags=["coverage"])

GEOJSON = "application/geo+json"
JSON = "application/json"
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


_READERS = [role for role in Role if role.allows(Role.VIEWER)]
_SIGHTS = {sight(role): role for role in reversed(_READERS)}  # each sight's least trusted reader
_GAP_COLUMNS = ["kind", "grid_code", "description_zh", "description_en"]
_GAP_SCHEMA = pa.schema([*((name, pa.string()) for name in _GAP_COLUMNS), ("wkb", pa.binary())])
_GAP_KINDS = list(GAP_TEXT)  # the kinds of gap a grid has; their rows are kept with the grid's street
NO_STREET = ""
"""The part of rows in no street (a grid without community): no refresh names it, so it is rendered
every time."""


def _grids_doc(role: Role) -> str:
    return f"grids-{sight(role)}"


def _street_keys(codes: pd.Series) -> np.ndarray:
    """Each row's part: its street's code, or `NO_STREET`."""
    return codes.astype("string").fillna(NO_STREET).to_numpy(dtype=object)


def _json_parts(frame: pd.DataFrame, keys: np.ndarray) -> dict[str, bytes]:
    """The rows of `frame` as JSON per street (`keys`): the records of a JSON array, without brackets."""
    rows = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns]))
    return {str(key): records_json(group)[1:-1].encode() for key, group in rows.groupby(keys, sort=False)}


def _gap_parquet(gaps: pd.DataFrame) -> bytes:
    """Gap rows as Parquet with WKB geometry (b"" for none), which a worker filters without GeoJSON."""
    if not len(gaps):
        return b""
    columns = [pa.array(gaps[c].astype("string"), pa.string()) for c in _GAP_COLUMNS]
    wkb = pa.array(shapely.to_wkb(np.asarray(gaps.geometry.values, dtype=object)), pa.binary())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays([*columns, wkb], schema=_GAP_SCHEMA), sink)
    return bytes(sink.getvalue().to_pybytes())


def documents(analysis: Analysis, streets: Collection[str] | None = None) -> Documents:
    """What the builder publishes per revision; the per-street parts of `streets` only (None: all).

    Whole: the totals, the street rows, and the gaps no grid's street holds
    (topology findings, features in no grid). In parts, one per street in
    the order each table first meets it: the grid rows as each sight of
    reader roles may read them (personal fields masked below admin), the
    community rows, and each grid's gaps (Parquet, WKB geometry: a city's
    gaps hold a million household points, so a worker reads only the rows a
    request asks for and turns just those into GeoJSON).
    """
    totals = {k: (None if pd.isna(v) else v) for k, v in analysis.totals().items()}
    grids, communities, gaps = analysis.grids, analysis.communities, analysis.gaps
    per_grid = gaps["kind"].isin(_GAP_KINDS).to_numpy(dtype=bool)
    whole = {
        "totals.json": json.dumps(totals, ensure_ascii=False).encode(),
        "streets.json": records_json(analysis.streets).encode(),
        "gaps-rest.parquet": _gap_parquet(gaps[~per_grid]),
    }
    grid_keys = _street_keys(grids["street_code"])
    community_keys = _street_keys(communities["street_code"])
    street_of = pd.Series(grid_keys, index=grids["code"].astype(object).to_numpy())
    gap_rows = gaps[per_grid]
    gap_keys = street_of.reindex(gap_rows["grid_code"].astype(object).to_numpy()).fillna(NO_STREET).to_numpy()
    redo = None if streets is None else pd.Index([*streets, NO_STREET])

    def chosen(keys: np.ndarray) -> np.ndarray:
        return np.ones(len(keys), dtype=bool) if redo is None else redo.get_indexer(pd.Index(keys)) >= 0

    grid_order = list(pd.unique(grid_keys))
    order: dict[str, list[str]] = {_grids_doc(role): grid_order for role in _SIGHTS.values()}
    order["communities"] = list(pd.unique(community_keys))
    order["gaps"] = [*grid_order, *([] if NO_STREET in grid_order else [NO_STREET])]
    at = chosen(grid_keys)  # masked after the choice: an edit masks its streets' rows only
    parts = {
        _grids_doc(role): _json_parts(protect("grids", grids[at], role), grid_keys[at])
        for role in _SIGHTS.values()
    }
    at = chosen(community_keys)
    parts["communities"] = _json_parts(communities[at], community_keys[at])
    at = chosen(gap_keys)
    fresh = {key: _gap_parquet(rows) for key, rows in gap_rows[at].groupby(gap_keys[at], sort=False)}
    redone = order["gaps"] if redo is None else [key for key in order["gaps"] if key in redo]
    parts["gaps"] = {key: fresh.get(key, b"") for key in redone}  # a street without gaps: an empty part
    return Documents(whole=whole, order=order, parts=parts)


def coverage_body(edition: Edition, levels: Collection[str], role: Role) -> bytes:
    """The /coverage reply from one edition: the levels' rows as `role` may read them, parts joined.

    Rows come street by street, each street where its table first meets it,
    in the table's order within a street: the table's order itself wherever
    a street's rows lie together (codes that begin with their street's).
    """
    out = [b'{"totals":', edition.read("totals.json")]
    for name in levels:
        if name == "streets":
            rows = edition.read("streets.json")
        else:
            doc = _grids_doc(role) if name == "grids" else name
            rows = b"[" + b",".join(part for part in edition.parts(doc) if part) + b"]"
        out += [f',"{name}":'.encode(), rows]
    return b"".join([*out, b"}"])


def gap_table(edition: Edition, wanted: list[tuple[str, str, str]]) -> pa.Table:
    """The gaps `wanted` filters keep, in the order `analyze` gives them: each grid's by kind, then grid."""
    filters = wanted or None
    tables = [pq.read_table(pa.BufferReader(part), filters=filters) for part in edition.parts("gaps") if part]
    per_grid = pa.concat_tables(tables) if tables else _GAP_SCHEMA.empty_table()
    kinds = pd.Index(_GAP_KINDS).get_indexer(per_grid.column("kind").to_numpy(zero_copy_only=False))
    per_grid = per_grid.take(pa.array(np.argsort(kinds, kind="stable")))
    rest = edition.read("gaps-rest.parquet")
    if not rest:
        return per_grid
    return pa.concat_tables([per_grid, pq.read_table(pa.BufferReader(rest), filters=filters)])


def _published(edition: Edition, body: bytes, media_type: str = JSON) -> Response:
    """A published document, labelled with the store revision it was computed from."""
    return Response(body, media_type=media_type, headers={"X-Gridmap-Revision": edition.revision})


def _reply(request: Request, use: Callable[[Edition], bytes], media_type: str = JSON) -> Response:
    """`use` of the newest edition; 503 while the first one is still being built."""
    shelf: Shelf = request.app.state.shelf
    try:
        edition, body = shelf.reading(use)
    except (LookupError, FileNotFoundError):
        raise UnavailableError(Message("api.coverage.not_ready")) from None
    return _published(edition, body, media_type)


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
    levels: tuple[Level, ...] = (level,) if level else ("grids", "communities", "streets")
    return _reply(request, lambda edition: coverage_body(edition, levels, caller.role))


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
    wanted = [(name, "=", value) for name, value in (("grid_code", grid_code), ("kind", kind)) if value]
    return _reply(request, lambda edition: gaps_geojson(gap_table(edition, wanted)), GEOJSON)


def gaps_geojson(table: pa.Table) -> bytes:
    """Gap rows as a GeoJSON FeatureCollection."""
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
    return json.dumps(collection, ensure_ascii=False).encode()
