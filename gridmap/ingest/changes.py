"""The change set of an import: what it would add, change, remove and leave as it is, before it writes.

A grid administrator sees this before anything is written (and `--dry-run`
stops there), so a file that would remove 47 of 50 speakers cannot do so
unnoticed. Features are matched by `code`; a feature is changed when any
input field or its geometry differs. Derived fields (`grid_code`) are left
out: they follow from the geometry. Values and geometries are compared as
`gridmap.sameness` defines it (the store records the same), so a file that
went out to GCJ-02 and came back (a sub-millimetre round trip) counts as
unchanged.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridmap.catalogue import get_layer
from gridmap.sameness import same_geometries, same_values
from gridmap.texts import say

ChangeKind = Literal["added", "changed", "removed", "unchanged"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("added", "changed", "removed", "unchanged")

SAMPLE_SIZE = 5


@dataclass
class ChangeSet:
    """Counts per kind of change for one layer, a few codes of each, and the changed fields."""

    layer: str
    mode: str
    counts: dict[ChangeKind, int]
    samples: dict[ChangeKind, list[str]]
    changed_fields: dict[str, int] = field(default_factory=dict)
    cleared: dict[str, int] = field(default_factory=dict)
    """Fields the file has no column for, and how many features would lose their value."""

    @property
    def added(self) -> int:
        return self.counts["added"]

    @property
    def changed(self) -> int:
        return self.counts["changed"]

    @property
    def removed(self) -> int:
        return self.counts["removed"]

    @property
    def unchanged(self) -> int:
        return self.counts["unchanged"]

    @property
    def touches_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    @property
    def loses_data(self) -> bool:
        """Whether writing would remove features or wipe values the file does not mention."""
        return bool((self.mode == "replace" and self.removed) or self.cleared)

    def loss_text(self) -> str:
        """What would be lost, in one line in the reader's language."""
        parts: list[str] = []
        if self.mode == "replace" and self.removed:
            parts.append(say("changes.remove", n=self.removed, layer=self.layer))
        parts += [
            say("changes.clear", field=name, n=count, layer=self.layer)
            for name, count in self.cleared.items()
        ]
        return say("list.separator").join(parts)


def change_set(
    layer: str,
    current: gpd.GeoDataFrame,
    incoming: gpd.GeoDataFrame,
    mode: str,
    provided: Collection[str] | None = None,
) -> ChangeSet:
    """What writing `incoming` into `layer` (now holding `current`) in `mode` would do.

    `replace` removes the codes the file does not hold; `append` keeps them.
    `provided` names the fields the file had a column for; a field it lacks
    whose stored values would change is reported as cleared.
    """
    spec = get_layer(layer)
    # Plain object arrays: pandas' Arrow-backed strings fall back to Python loops for lookups.
    old_codes = pd.Index(current["code"].astype(str).to_numpy(dtype=object))
    new_codes = pd.Index(incoming["code"].astype(str).to_numpy(dtype=object))
    position = old_codes.get_indexer(new_codes)
    known = position >= 0
    differs = np.zeros(len(incoming), dtype=bool)
    changed_fields: dict[str, int] = {}
    cleared: dict[str, int] = {}
    rows_new = np.flatnonzero(known)
    rows_old = position[known]
    for f in spec.input_fields:
        if f.name not in incoming.columns or f.name not in current.columns:
            continue
        unequal = ~same_values(current[f.name].iloc[rows_old], incoming[f.name].iloc[rows_new])
        differs[rows_new[unequal]] = True
        if unequal.any():
            changed_fields[f.name] = int(unequal.sum())
            if provided is not None and f.name not in provided:
                cleared[f.name] = int(unequal.sum())
    moved = ~same_geometries(
        np.asarray(current.geometry.values, dtype=object)[rows_old],
        np.asarray(incoming.geometry.values, dtype=object)[rows_new],
    )
    differs[rows_new[moved]] = True
    if moved.any():
        changed_fields["geometry"] = int(moved.sum())

    kept = new_codes.get_indexer(old_codes) >= 0
    removed = ~kept if mode == "replace" else np.zeros(len(old_codes), dtype=bool)
    old_array, new_array = pa.array(old_codes.to_numpy()), pa.array(new_codes.to_numpy())
    by_kind: dict[ChangeKind, tuple[pa.Array, npt.NDArray[np.bool_]]] = {
        "added": (new_array, ~known),
        "changed": (new_array, known & differs),
        "removed": (old_array, removed),
        "unchanged": (new_array, known & ~differs),
    }
    return ChangeSet(
        layer=spec.name,
        mode=mode,
        counts={kind: int(mask.sum()) for kind, (_, mask) in by_kind.items()},
        samples={kind: _smallest(codes, mask) for kind, (codes, mask) in by_kind.items()},
        changed_fields=changed_fields,
        cleared=cleared,
    )


def _smallest(codes: pa.Array, mask: npt.NDArray[np.bool_]) -> list[str]:
    """The first `SAMPLE_SIZE` codes in sort order where `mask` holds, picked by Arrow without a full sort."""
    chosen = pc.filter(codes, pa.array(mask))
    if len(chosen) == 0:
        return []
    first = pc.take(chosen, pc.bottom_k_unstable(chosen, SAMPLE_SIZE))  # bottom_k gives positions
    return sorted(str(c) for c in first.to_pylist())


def merged_change_sets(
    layer: str, mode: str, parts: list[ChangeSet], stored: pa.Array, incoming: pa.Array
) -> ChangeSet:
    """One import's change set from those of its chunks (each compared with the stored rows of its
    codes) and the codes stored and incoming: a replace removes the stored codes no chunk holds."""
    counts: dict[ChangeKind, int] = dict.fromkeys(CHANGE_KINDS, 0)
    samples: dict[ChangeKind, list[str]] = {kind: [] for kind in CHANGE_KINDS}
    changed_fields: dict[str, int] = {}
    cleared: dict[str, int] = {}
    for part in parts:
        for kind in ("added", "changed", "unchanged"):
            counts[kind] += part.counts[kind]
            samples[kind] = sorted([*samples[kind], *part.samples[kind]])[:SAMPLE_SIZE]
        for name, n in part.changed_fields.items():
            changed_fields[name] = changed_fields.get(name, 0) + n
        for name, n in part.cleared.items():
            cleared[name] = cleared.get(name, 0) + n
    if mode == "replace" and len(stored):
        held = pc.is_in(stored, value_set=incoming.combine_chunks())
        gone = ~np.asarray(held.to_numpy(zero_copy_only=False), dtype=bool)
        counts["removed"] = int(gone.sum())
        samples["removed"] = _smallest(stored, gone)
    return ChangeSet(layer, mode, counts, samples, changed_fields, cleared)
