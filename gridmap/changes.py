"""The change set of one write: which features it inserts, updates and deletes, computed from frames.

Both stores record every write as a revision (see `gridmap.history`); this is
the one place that decides what changed, column by column over whole
columns (no Python per row), so both stores record the same revisions.
Stored rows carry the revision that wrote them (`REVISION`); a row that a
write replaces or deletes moves to the layer's history table, stamped with
the superseding revision and, for a boundary whose area changed, the date its
version closed (`closed_on`). Boundary layers (`Layer.versioned`) get their
validity dates here too (`gridmap.versions`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap import sameness
from gridmap.catalogue import Field, Layer, get_layer

REVISION = "revision"
"""Column of every stored row: the revision that wrote this version of the feature."""

REVISION_FIELD = Field(REVISION, "integer", "版本", "Revision")
OPS = ("inserted", "updated", "deleted")


def versioned_spec(layer: str | Layer) -> Layer:
    """The layer's catalogue entry plus the `revision` column, as stored rows hold it."""
    spec = get_layer(layer) if isinstance(layer, str) else layer
    return dataclasses.replace(spec, fields=(*spec.fields, REVISION_FIELD))


@dataclass
class LayerChange:
    """What one write does to one layer.

    `rows` are the features to write (inserted or updated), `deleted` the codes
    removed, `superseded` the stored rows that move to history (code, closed_on).
    For a whole-layer replace, `whole` is the layer's complete new content, with
    the revision of unchanged rows kept and NA where this write sets it.
    """

    layer: str
    rows: gpd.GeoDataFrame
    deleted: list[str]
    superseded: pd.DataFrame
    inserted: int
    updated: int
    whole: gpd.GeoDataFrame | None = None

    @property
    def empty(self) -> bool:
        return len(self.rows) == 0 and not self.deleted

    @property
    def counts(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "deleted": len(self.deleted)}


def same_rows(spec: Layer, a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> np.ndarray:
    """Row-wise sameness of two aligned canonical frames: every field and the geometry, as
    `gridmap.sameness` defines it."""
    return sameness.same_rows(spec.field_names, a, b)


def change_set(
    layer: str,
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    whole: bool,
    closed_on: pd.Series | None = None,
    drop: list[str] | None = None,
) -> LayerChange:
    """Compare the stored rows `before` (with `revision`) with the prepared incoming rows `after`.

    With `whole`, `after` is the layer's entire new content and codes missing
    from it are deleted; otherwise `after` updates or inserts only its codes
    and the stored codes in `drop` are deleted. `closed_on` (indexed by code)
    dates the closing of boundary versions.
    """
    spec = get_layer(layer)
    # Plain object arrays: pandas' isin on Arrow strings loops in Python.
    before_codes = pd.Index(before["code"].to_numpy(dtype=object))
    after_codes = pd.Index(after["code"].to_numpy(dtype=object))
    position = before_codes.get_indexer(after_codes)
    common = position >= 0
    unchanged = np.zeros(len(after), dtype=bool)
    if common.any():
        old = before.iloc[position[common]].reset_index(drop=True)
        new = after[common].reset_index(drop=True)
        unchanged[np.flatnonzero(common)] = same_rows(spec, new, old)
    write = ~unchanged
    updated_codes = after_codes[common & write].tolist()
    if whole:
        deleted = before_codes[after_codes.get_indexer(before_codes) < 0].tolist()
    else:
        deleted = before_codes[pd.Index([str(c) for c in drop or []]).get_indexer(before_codes) >= 0].tolist()
    rows = after[write].reset_index(drop=True)
    superseded = pd.DataFrame({"code": pd.array([*updated_codes, *deleted], dtype="string")})
    superseded["closed_on"] = pd.array(
        [None] * len(superseded) if closed_on is None else closed_on.reindex(superseded["code"]).tolist(),
        dtype="string",
    )
    content = None
    if whole:
        revisions = pd.array([pd.NA] * len(after), dtype="Int64")
        if unchanged.any():
            kept = before[REVISION].to_numpy(dtype=object, na_value=None)[position[unchanged]]
            revisions[np.flatnonzero(unchanged)] = pd.array(list(kept), dtype="Int64")
        content = _keeping(after, before, np.flatnonzero(unchanged), position[unchanged])
        content[REVISION] = revisions
    return LayerChange(
        layer=spec.name,
        rows=rows,
        deleted=deleted,
        superseded=superseded,
        inserted=int((~common).sum()),
        updated=len(updated_codes),
        whole=content,
    )


def _keeping(
    after: gpd.GeoDataFrame, before: gpd.GeoDataFrame, rows: np.ndarray, stored: np.ndarray
) -> gpd.GeoDataFrame:
    """`after` with its unchanged `rows` as stored (at `stored` in `before`): a difference within the
    tolerance of `gridmap.sameness` is no edit, so it is neither recorded nor written."""
    content = after.copy()
    if not rows.size:
        return content
    for name in after.columns:
        if name in before.columns:
            column = content[name].array.copy()
            column[rows] = before[name].array[stored]
            content[name] = column
    return content


def closing_groups(change: LayerChange) -> list[tuple[str | None, list[str]]]:
    """The superseded codes grouped by the date their version closes (None: not a closing)."""
    table = change.superseded
    if not len(table):
        return []
    dates = table["closed_on"].astype(object).where(table["closed_on"].notna(), None)
    groups: dict[str | None, list[str]] = {}
    for date in pd.unique(dates.to_numpy(dtype=object)):
        chosen = (dates == date) if date is not None else dates.isna()
        groups[date] = table.loc[chosen.to_numpy(dtype=bool), "code"].astype(str).tolist()
    return list(groups.items())


def stamped(frame: gpd.GeoDataFrame, revision: int) -> gpd.GeoDataFrame:
    """`frame` with the NA revisions (rows this write sets) filled with `revision`."""
    out = frame.copy()
    if REVISION not in out.columns:
        out[REVISION] = pd.array([revision] * len(out), dtype="Int64")
    else:
        out[REVISION] = out[REVISION].astype("Int64").fillna(revision)
    return out
