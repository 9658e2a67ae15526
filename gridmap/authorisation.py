"""Who may make a write, judged on what the store would hold afterwards, before anything is written.

The one rule, for every route that writes (the API's POST, PUT and DELETE):

- an admin may write anything; any role but editor and admin may write nothing;
- streets and communities are admin-only layers;
- for an editor, every feature the write would leave behind (`after`) and
  every feature it replaces or deletes (`before`) must lie in the editor's
  communities: its whole geometry inside their union (up to EDGE_TOLERANCE_M,
  so a feature drawn along a shared edge is not refused for rounding; a
  feature without a geometry lies in no community), its
  derived `grid_code` naming a grid of those communities, and its parent code
  (a grid's `community_code`, a household's `building_code`) naming a feature
  of those communities (a parent building judged by these same rules).

A null derived `grid_code` (a feature in no grid) is allowed when the geometry
is inside: it belongs to no one else's community. The check needs the layer
as the write would leave it, so it runs on the validated frame with grid codes
derived (see `gridmap.ingest.import_file(check=...)`).
"""

from __future__ import annotations

from collections.abc import Collection

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.catalogue import get_layer
from gridmap.crs import metric_crs
from gridmap.errors import PermissionDeniedError
from gridmap.privacy import Role
from gridmap.stores.base import Store
from gridmap.texts import Message, joined

EDGE_TOLERANCE_M = 0.5
ADMIN_ONLY = frozenset({"streets", "communities"})
_SHOWN = 10  # reasons named in one refusal


def authorise_write(
    store: Store,
    role: Role,
    communities: Collection[str],
    layer: str,
    *,
    after: gpd.GeoDataFrame,
    before: gpd.GeoDataFrame,
    action: str,
) -> None:
    """Raise PermissionDeniedError unless `role` bound to `communities` may turn `before` into `after`.

    `after` holds the features as they would be stored (empty for a delete),
    `before` the stored features they replace or delete (empty for a create).
    """
    spec = get_layer(layer)
    authorise_layer(role, spec.name, action)
    if role is Role.ADMIN:
        return
    own = frozenset(communities)
    area = _area(store, own)
    reasons: list[Message] = []
    for label, frame in ((Message("write.new"), after), (Message("write.old"), before)):
        if len(frame):
            reasons += _reasons(store, own, area, spec.name, frame, label)
    if reasons:
        shown = joined(reasons[:_SHOWN])
        if len(reasons) > _SHOWN:
            shown = Message("write.more", shown=shown, n=len(reasons) - _SHOWN)
        raise PermissionDeniedError(
            Message("write.outside", action=action, own=", ".join(sorted(own)), reasons=shown)
        )


def authorise_layer(role: Role, layer: str, action: str) -> None:
    """The part of the rule that needs no data: may `role` write `layer` at all?

    Callers run it first so a refusal comes before the request is validated.
    """
    if role is Role.ADMIN:
        return
    if role is not Role.EDITOR:
        raise PermissionDeniedError(Message("api.needs_role", action=action, role="editor", you=role.value))
    if layer in ADMIN_ONLY:
        raise PermissionDeniedError(Message("write.admin_only", action=action, layer=layer))


def _area(store: Store, own: frozenset[str]) -> gpd.GeoSeries:
    """The union of the editor's communities, in a metric CRS, grown by the edge tolerance."""
    found = store.read("communities", codes=sorted(own))
    if found.empty:
        return gpd.GeoSeries([], crs="EPSG:4326")
    metric = found.to_crs(metric_crs(found))
    union = shapely.union_all(np.asarray(metric.geometry.values, dtype=object))
    return gpd.GeoSeries([union.buffer(EDGE_TOLERANCE_M)], crs=metric.crs)


def _reasons(
    store: Store,
    own: frozenset[str],
    area: gpd.GeoSeries,
    layer: str,
    frame: gpd.GeoDataFrame,
    label: Message,
) -> list[Message]:
    """Why each feature of `frame` is not the editor's (empty when all are)."""
    codes = frame["code"].astype(str).to_numpy(dtype=object)
    out = [
        Message("write.outside_geometry", label=label, layer=layer, code=codes[i])
        for i in np.flatnonzero(_outside(area, frame))
    ]
    if layer == "grids":
        parents = frame["community_code"]
        foreign = parents.isna() | ~parents.isin(own)
        out += [
            Message("write.foreign_community", label=label, code=codes[i], community=_shown(parents.iat[i]))
            for i in np.flatnonzero(foreign.to_numpy(dtype=bool))
        ]
    if "grid_code" in frame:
        out += [
            Message(
                "write.foreign_grid", label=label, layer=layer, code=codes[i], grid=grid, community=community
            )
            for i, grid, community in _foreign_grids(store, own, frame["grid_code"])
        ]
    if layer == "households":
        out += _foreign_buildings(store, own, area, frame, codes, label)
    return out


def _outside(area: gpd.GeoSeries, frame: gpd.GeoDataFrame) -> np.ndarray:
    """Which features are not wholly inside `area` (one without a geometry is inside nothing)."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    outside = ~present
    if area.empty or not present.any():
        return np.ones(len(frame), dtype=bool)
    metric = gpd.GeoSeries(geoms[present], crs=frame.crs).to_crs(area.crs)
    outside[present] = ~shapely.covered_by(np.asarray(metric.values, dtype=object), area.iloc[0])
    return outside


def _foreign_grids(store: Store, own: frozenset[str], grid_codes: pd.Series) -> list[tuple[int, str, str]]:
    """(row, grid, its community) for each non-null grid code whose grid is not in `own`."""
    given = grid_codes.notna().to_numpy(dtype=bool)
    if not given.any():
        return []
    codes = grid_codes.astype(object).where(given, None)
    grids = store.read("grids", codes=sorted(set(codes[given].astype(str))))
    parents = codes.map(dict(zip(grids["code"].astype(str), grids["community_code"], strict=True)))
    foreign = given & ~parents.isin(own).to_numpy(dtype=bool)
    return [(i, str(codes.iat[i]), _shown(parents.iat[i])) for i in np.flatnonzero(foreign).tolist()]


def _foreign_buildings(
    store: Store,
    own: frozenset[str],
    area: gpd.GeoSeries,
    frame: gpd.GeoDataFrame,
    codes: np.ndarray,
    label: Message,
) -> list[Message]:
    """A household's building must be the editor's: inside their area and in one of their grids."""
    refs = frame["building_code"]
    given = refs.notna().to_numpy(dtype=bool)
    if not given.any():
        return []
    buildings = store.read("buildings", codes=sorted(set(refs[given].astype(str))))
    foreign = set(buildings["code"].astype(str)[_outside(area, buildings)])
    foreign |= {
        str(buildings["code"].iat[i]) for i, _, _ in _foreign_grids(store, own, buildings["grid_code"])
    }
    out = []
    for i in np.flatnonzero(given).tolist():
        ref = str(refs.iat[i])
        if ref in foreign:
            out.append(Message("write.foreign_building", label=label, code=codes[i], building=ref))
    return out


def _shown(value: object) -> str:
    missing = value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
    return "(none)" if missing else str(value)
