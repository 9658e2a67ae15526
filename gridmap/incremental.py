"""The analysis after an edit, recomputed only for the communities the edit can reach.

Every figure of a grid and of a community (counts, coverage, 一户十联 links,
uncovered areas, topology findings, gaps, grades) depends only on the layers
inside that community and the sites within reach of it: topology compares
grids of one community, linkage pairs households of one grid (ties by code,
never by what else is analysed), and a distance is measured in the whole
city's CRS (`Projections`). So an edit redoes the communities it touches by
running the very same `gridmap.analysis.analyze` on them alone, splices the
result into the previous analysis, and sums the streets again from the
communities; the rest is kept. A community is touched when it is edited,
when an edited grid is in it (before or after), when a building, household
or site is assigned into or out of one of its grids, when one of its
households' visit status changes (a visit recorded), and, for speakers and
service points, when its grids lie within an edited site's reach. Edits to
households and sites keep every other feature's grid and place only the
edited features, edits to streets and communities place nothing (assignment
reads neither); edits to buildings and grids assign the whole city again
(cheap next to analysing it), which is what tells where every feature now
belongs. An edit that changes nothing a figure reads redoes nothing: a
field the builder's narrow layers do not hold (a household's phone), or a
grid's, community's or street's name, which is copied into its rows. Splicing writes
only the rows whose figures changed, so an edit costs what its communities
do, not a pass over the city's millions of rows. `update` equals `analyze`
on the edited frames (tests/test_incremental.py holds it to that).

A service point reaches on foot farther than its radius (to the walking
cut-off), but there only its walking figures can change: those grids are
not analysed again, their households walk again from the node distances the
walking network keeps and the differences are patched in (`_walk_patched`).
A road edit is patched the same way, around the segments one network has
and the other has not (`_roads_edited`): no community is analysed again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyproj
import shapely

from gridmap.analysis import (
    GAP_TEXT,
    WHOLE_INPUTS,
    Analysis,
    AnalysisOptions,
    Projections,
    analyze,
    finish_level,
    grid_grades,
    household_gap_rows,
    projections,
    street_table_of,
    topology_gaps,
    unassigned_gaps,
    with_shares,
)
from gridmap.assignment import (
    DERIVED_LAYERS,
    BuildingLocator,
    GridLocator,
    assign_positions,
    codes_at,
    household_grids,
    index_in,
    point_grids,
    point_xy,
    same_text,
    unassigned,
)
from gridmap.coderows import CodeRows
from gridmap.coverage import metric_xy, service_radii, speaker_radii
from gridmap.crs import transformer
from gridmap.frames import WGS84, compacted
from gridmap.measures import Inputs, computations, per_grid
from gridmap.measures.walking import building_xy, circle_counts, household_columns
from gridmap.sameness import same_geometries, same_values
from gridmap.topology import finding_order
from gridmap.vocabulary import HOUSEHOLD_GAPS, HouseholdGap, share_measures
from gridmap.walking import changed_segments

SITE_LAYERS = ("speakers", "service_points")
"""Layers whose features reach households around them."""

PLACED_LAYERS = ("households", *SITE_LAYERS)
"""Layers whose edited features are placed one by one (no other feature changes grid)."""

_NO_PLACING = ("streets", "communities")  # assignment reads only grids and buildings

STATUS_INPUTS = ("visit_status",)
"""Inputs keyed by household code whose rows count only in their household's grid: a change to some
redoes those households' communities (a visit logged), not the whole city."""


WHOLE_SHARE = 0.5
"""When the touched communities hold more than this share of households, the whole is analysed again."""

_METRES_PER_DEGREE = 110_574.0  # of latitude; longitude scales by cos(latitude)
_NO_COMMUNITY = ""  # the key of grids whose community is unknown


def changed_codes(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> list[str]:
    """Codes added, removed, or whose fields or geometry differ between two versions of a layer.

    Column by column over whole arrays (Arrow for text): five million rows compare in about a second.
    """
    at, gone, _ = _matched(new, old)
    both = np.flatnonzero(at >= 0)
    a = old.iloc[at[both]] if len(both) != len(old) or (at[both] != np.arange(len(old))).any() else old
    b = new.iloc[both] if len(both) != len(new) else new
    differs = ~same_geometries(a.geometry.values, b.geometry.values)
    for name in (c for c in new.columns if c != "geometry"):
        if name in old.columns:
            differs |= ~same_values(a[name], b[name])
        else:
            differs |= b[name].notna().to_numpy(dtype=bool)
    added = new["code"].iloc[np.flatnonzero(at < 0)]
    removed = old["code"].iloc[gone]
    edited = b["code"].iloc[np.flatnonzero(differs)]
    return sorted({*added.astype(str), *removed.astype(str), *edited.astype(str)})


def changed_keys(old: pd.DataFrame, new: pd.DataFrame, key: str) -> list[str]:
    """The `key` values of the rows in one table and not in the other (an input that is no layer:
    the visit status, a party register, read again whole); every key when their columns differ."""
    if list(old.columns) != list(new.columns):
        return sorted({*old[key].astype(str), *new[key].astype(str)})
    rows = pd.concat([pd.DataFrame(old), pd.DataFrame(new)], ignore_index=True)
    odd = ~rows.duplicated(keep=False).to_numpy(dtype=bool)
    return sorted(set(rows[key][odd].astype(str)))


def patched(
    frame: gpd.GeoDataFrame, fresh: gpd.GeoDataFrame, codes: Sequence[str], rows: CodeRows | None = None
) -> gpd.GeoDataFrame:
    """`frame` (a layer as read) with the features `codes` as `fresh` now holds them (absent: gone).

    What `codes` does not name stays where it was; an edited feature is replaced
    in its row, and new ones come last (a layer whose rows only changed is patched in place).
    `rows` (the index of `frame`'s codes) finds the named rows without reading every code.
    """
    fresh = gpd.GeoDataFrame(
        {name: fresh[name].astype(frame[name].dtype) for name in frame.columns if name != "geometry"},
        geometry=fresh.geometry.to_numpy(),
        crs=frame.crs,
    )[list(frame.columns)]
    named = _named(frame["code"], list(codes), rows)
    rows_at = np.flatnonzero(named)  # a few: no hash of the whole layer's codes
    found = index_in(fresh["code"], frame["code"].iloc[rows_at])
    at = np.full(len(fresh), -1, dtype=np.intp)
    at[found >= 0] = rows_at[found[found >= 0]]
    if np.count_nonzero(at >= 0) < rows_at.size:  # some are gone: the rows left close up
        kept = frame[~named]
        return gpd.GeoDataFrame(
            pd.concat([kept, fresh], ignore_index=True), geometry="geometry", crs=frame.crs
        )
    here = at >= 0
    changed = {
        name: values
        for name in frame.columns
        if (values := _put(frame[name], at[here], fresh[name][here])) is not None
    }
    if here.all():
        if not changed:
            return frame  # nothing this frame holds changed (a narrow layer's unread field): the same object
        # The columns an edit leaves shared with `frame`, not copied (a city's layer is millions of rows).
        edited = frame.copy(deep=False)
        for name, values in changed.items():
            edited[name] = values
        return edited
    columns = {name: changed.get(name, frame[name].array) for name in frame.columns}
    edited = gpd.GeoDataFrame(columns, geometry="geometry", crs=frame.crs)
    return gpd.GeoDataFrame(
        pd.concat([edited, fresh[~here]], ignore_index=True), geometry="geometry", crs=frame.crs
    )


def _named(column: pd.Series, codes: list[str], rows: CodeRows | None) -> np.ndarray:
    """Whether each row of a code `column` holds one of `codes`: looked up in `rows` (its index)
    when given, else by hashing the column."""
    if rows is None:
        return index_in(column, pd.Series(codes, dtype="string")) >= 0
    found = rows.find(codes)
    out = np.zeros(len(column), dtype=bool)
    out[found[found >= 0]] = True
    return out


def _put(column: pd.Series, rows: np.ndarray, values: pd.Series) -> pd.api.extensions.ExtensionArray | None:
    """`column`'s values with `values` at `rows`; None when they are there already.

    An edit that leaves a column as it was (most of an edit's fields) costs
    nothing; one that changes it writes only the rows that differ (`replaced`).
    """
    if column.name == "geometry":
        unchanged = bool(same_geometries(column.array[rows], values.array).all())
    else:
        unchanged = bool(same_values(column.iloc[rows], values).all())
    if unchanged:
        return None
    return replaced(column.array, rows, values.array)


MOST_RUNS = 4
"""Changed rows of an Arrow-held column in at most this many runs are spliced in as chunks (no copy)."""
MOST_SLICES = 8192
"""In more runs than `MOST_RUNS` but at most this many, the column is copied once, stretch by stretch
(a memory copy per run); in more still, one Arrow take of the column builds it. A take gathers text
value by value: up to 1.3 s for a city's five million households on a loaded machine, where copying
the stretches around a few thousand runs costs hundredths of a second."""


def replaced(
    column: pd.api.extensions.ExtensionArray, rows: np.ndarray, values: pd.api.extensions.ExtensionArray
) -> pd.api.extensions.ExtensionArray:
    """`column` with `values` at `rows`; rows from its length on are new ones, appended in order.

    Only the rows whose value differs are written, and a column none of whose
    rows differ is returned as it is. An Arrow-held column (text) cannot be
    written in place: when the differing rows form a few runs, the result is
    the column's unchanged stretches and the new runs chunked together (no
    copy; `compacted` puts the chunks together now and then); in more runs,
    those pieces copied into one array; in very many, one Arrow take from the
    column and the new values builds it (`MOST_SLICES`).
    """
    n = len(column)
    inside = rows < n
    tail = np.flatnonzero(~inside)
    if not np.array_equal(np.sort(rows[tail]), np.arange(n, n + tail.size)):
        raise AssertionError("new rows must follow the column's, each given once")
    at, fresh = rows[inside], values[np.flatnonzero(inside)]
    differs = np.flatnonzero(~_same_cells(column.take(at), fresh))
    order = np.argsort(at[differs], kind="stable")
    at, fresh = at[differs][order], fresh[differs[order]]
    appended = pd.Series(values[tail[np.argsort(rows[tail], kind="stable")]]).astype(column.dtype).array
    if not at.size and not tail.size:
        return column
    chunked = getattr(column, "_pa_array", None)
    if not isinstance(chunked, pa.ChunkedArray):  # numpy-held: a memcpy
        out = column.copy()
        out[at] = fresh
        return pd.concat([pd.Series(out), pd.Series(appended)], ignore_index=True).array if tail.size else out
    starts = np.flatnonzero(np.diff(at, prepend=-2) != 1)  # first changed row of each run
    new = _chunked(fresh, chunked.type)
    if starts.size > MOST_SLICES:
        order = np.arange(n + tail.size)
        order[at] = n + np.arange(at.size)
        order[n:] = n + at.size + np.arange(tail.size)
        parts = [*chunked.chunks, *new.chunks, *_chunked(appended, chunked.type).chunks]
        source = pa.chunked_array(parts, type=chunked.type).combine_chunks()
        return cast(Any, type(column))(pa.chunked_array([source.take(pa.array(order))]))
    pieces: list[pa.ChunkedArray] = []
    done = 0
    rows_at = at.tolist()
    ends = np.append(starts[1:], at.size) if starts.size else starts
    for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
        pieces += [chunked.slice(done, rows_at[first] - done), new.slice(first, last - first)]
        done = rows_at[last - 1] + 1
    pieces += [chunked.slice(done), _chunked(appended, chunked.type)]
    whole = pa.chunked_array([c for p in pieces for c in p.chunks if len(c)], type=chunked.type)
    if starts.size > MOST_RUNS:  # one copy now, rather than thousands of chunks for every later step
        whole = pa.chunked_array([whole.combine_chunks()], type=chunked.type)
    return cast(Any, type(column))(whole)  # the same Arrow-held array type, around the new chunks


def _chunked(values: pd.api.extensions.ExtensionArray, kind: pa.DataType) -> pa.ChunkedArray:
    """An Arrow-held pandas array as a chunked array of type `kind`."""
    found = pa.array(values)
    chunks = found.chunks if isinstance(found, pa.ChunkedArray) else [found]
    return pa.chunked_array([c.cast(kind) for c in chunks], type=kind)


def _same_cells(a: pd.api.extensions.ExtensionArray, b: pd.api.extensions.ExtensionArray) -> np.ndarray:
    """Cell by cell, whether two arrays hold the same value exactly (two missing are the same)."""
    x, y = pd.Series(a), pd.Series(b)
    missing_x, missing_y = x.isna().to_numpy(dtype=bool), y.isna().to_numpy(dtype=bool)
    # Missing cells become None: pd.NA compares as NA, not as False.
    xs = x.astype(object).to_numpy(copy=True)
    ys = y.astype(object).to_numpy(copy=True)
    xs[missing_x], ys[missing_y] = None, None
    equal = np.asarray(xs == ys, dtype=bool) if len(xs) else np.zeros(0, dtype=bool)
    return (missing_x & missing_y) | (~missing_x & ~missing_y & equal)


def _appended(at: np.ndarray, before: int) -> bool:
    """Whether rows matched to a previous table (`at`, `_matched`) are its `before` rows in place,
    then new ones only."""
    return (
        len(at) >= before and bool((at[:before] == np.arange(before)).all()) and bool((at[before:] < 0).all())
    )


def reach(
    layer: str, sites: gpd.GeoDataFrame, options: AnalysisOptions, *, walking: bool = False
) -> np.ndarray:
    """Boxes (lon/lat, n × 4) around each site holding every point it can reach (`walking`: on foot
    too, within the walking cut-off, never farther than as the crow flies)."""
    radii = speaker_radii(sites, options.coverage) if layer == "speakers" else service_radii(sites)
    if walking and layer == "service_points":
        radii = np.maximum(radii, options.walking.cutoff_m)
    geoms = np.asarray(sites.geometry.values, dtype=object)
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    dy = radii / _METRES_PER_DEGREE * 1.01  # a margin for the metric projection's scale
    dx = dy / np.maximum(np.cos(np.radians(y)), 0.01)
    boxes = np.column_stack([x - dx, y - dy, x + dx, y + dy])
    return boxes[np.isfinite(boxes).all(axis=1)]


def reached(grids: gpd.GeoDataFrame, units: pd.Series, boxes: np.ndarray) -> set[str]:
    """Community keys (`units`, aligned with `grids`) of the grids meeting any of `boxes`."""
    if not len(boxes) or not len(grids):
        return set()
    tree = shapely.STRtree(np.asarray(grids.geometry.values, dtype=object))
    _, hit = tree.query(shapely.box(*boxes.T), predicate="intersects")
    return set(units.iloc[np.unique(hit)])


def grid_units(grids: pd.DataFrame) -> pd.Series:
    """The community key of each grid (aligned with `grids`): its community's code, "" when unknown."""
    keys = grids["community_code"].astype(object)
    return pd.Series(keys.where(keys.notna(), _NO_COMMUNITY).to_numpy(dtype=object))


def update(
    frames: dict[str, gpd.GeoDataFrame],
    analysis: Analysis,
    edited: Mapping[str, gpd.GeoDataFrame],
    options: AnalysisOptions | None = None,
    *,
    locator: GridLocator | None = None,
    buildings: BuildingLocator | None = None,
    whole_share: float = WHOLE_SHARE,
    codes: Mapping[str, Sequence[str]] | None = None,
    rows: Mapping[str, CodeRows] | None = None,
) -> tuple[Analysis, list[str] | None]:
    """The analysis with the `edited` layers (whole new versions), and the streets whose figures may
    have changed (None: any); the communities the edit reaches are analysed again.

    `frames` (what `analysis` was computed from) is updated in place. With
    `locator` (of the grids) and `buildings` (of `analysis.frames["buildings"]`),
    an edit to households and sites alone places just the edited features.
    When the communities to redo hold more than `whole_share` of the
    households, the whole is analysed.
    `codes` names, per edited layer, every feature the edit may have changed
    (from the store's log), which spares comparing the two versions whole;
    `rows` indexes the codes of edited layers (as `edited` holds them), which
    spares hashing them to find the edited features.
    """
    analysis, streets = _update(
        frames, analysis, edited, options, locator, buildings, whole_share, codes, rows or {}
    )
    return compacted_all(frames, analysis), streets


def compacted_all(frames: dict[str, gpd.GeoDataFrame], analysis: Analysis) -> Analysis:
    """Every frame (in place) and every table of `analysis` `compacted`: after an update, and after a
    whole analysis of layers read in batches (else the first edit pays for putting them together)."""
    for name, frame in frames.items():
        frames[name] = compacted(frame)
    return _compacted_analysis(analysis)


def _update(
    frames: dict[str, gpd.GeoDataFrame],
    analysis: Analysis,
    edited: Mapping[str, gpd.GeoDataFrame],
    options: AnalysisOptions | None,
    locator: GridLocator | None,
    buildings: BuildingLocator | None,
    whole_share: float,
    codes: Mapping[str, Sequence[str]] | None,
    indexes: Mapping[str, CodeRows],
) -> tuple[Analysis, list[str] | None]:
    """`update` before the tables are compacted."""
    opts = options or AnalysisOptions()
    old = dict(frames)
    frames.update(edited)
    measure = projections(frames)
    known = codes or {}
    changed = {
        layer: list(known[layer]) if layer in known else changed_codes(old[layer], new)
        for layer, new in edited.items()
    }
    # A layer patched to the very frame it was changed nothing the analysis reads (`patched`).
    changed = {layer: names for layer, names in changed.items() if names and edited[layer] is not old[layer]}
    if not changed:  # written again as it was
        return dataclasses.replace(analysis, timings={}), []
    if measure != projections(old):  # the city's extent moved into another zone: all is measured anew
        return analyze(frames, opts, measure=measure), None
    if set(changed) & (set(WHOLE_INPUTS) - set(STATUS_INPUTS)):
        roads = _roads_edited(analysis, frames, old, opts, measure) if set(changed) == {"roads"} else None
        return roads or (analyze(frames, opts, measure=measure), None)
    described = _described(analysis, old, frames, changed)
    if described is not None:  # names and the like: copied into the tables, no figure redone
        renamed = frames["grids"]["code"].isin(changed.get("grids", [])).to_numpy(dtype=bool)
        owners = {*changed.get("communities", []), *grid_units(frames["grids"])[renamed]}
        return described, _streets_redone(old, frames, owners, changed.get("streets", []))
    moves: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # per layer placed alone, its rows `_moved`
    if set(changed) <= set(STATUS_INPUTS):  # visits recorded: nothing moved, nothing to place
        derived = dict(analysis.frames)
    elif (
        set(changed) <= {*PLACED_LAYERS, *_NO_PLACING, *_in_place(old, frames, changed)}
        and locator is not None
    ):
        place = _placer(analysis, locator, buildings)
        derived = dict(analysis.frames)
        for layer, names in changed.items():
            if layer in PLACED_LAYERS:
                derived[layer], moves[layer] = _placed(
                    layer, frames[layer], analysis.frames[layer], names, place, indexes.get(layer)
                )
    else:
        assigned, _ = assign_positions(frames)
        derived = {name: assigned[name] for name in DERIVED_LAYERS}
    units = grid_units(frames["grids"])
    touched = _touched(frames, old, analysis, derived, changed, units, opts, moves)
    streets = _streets_redone(old, frames, touched, changed.get("streets", []))
    region_grids = frames["grids"]["code"][units.isin(touched).to_numpy()]
    inside, rows = region(frames, derived, touched, region_grids, _widest_reach(frames, opts))
    if len(rows) > whole_share * max(len(frames["households"]), 1):  # the same figures, sooner
        return analyze(frames, opts, measure=measure), streets
    # The part's households walk to every service point, from the distances the whole analysis keeps.
    walks = dataclasses.replace(opts.walking, sites=frames.get("service_points"))
    part = analyze(inside, dataclasses.replace(opts, walking=walks), measure=measure) if touched else None
    out, writes = _splice(analysis, part, frames, derived, touched, rows, opts, measure)
    out, writes, walked = _walk_patched(
        out, writes, frames, derived, touched, _walk_reach(frames, old, changed, opts), opts, measure
    )
    out.households = _written(out.households, writes)
    return out, sorted({*streets, *walked})


Writes = dict[str, tuple[np.ndarray, pd.api.extensions.ExtensionArray]]
"""Per column of the household table, rows to write and their values. An edit's steps gather them
and the table is written once at the end: a five-million-row text column is built anew on any write."""


def _also(writes: Writes, name: str, rows: np.ndarray, values: pd.api.extensions.ExtensionArray) -> Writes:
    """`writes` and `values` at `rows` of column `name` (rows no earlier write names)."""
    if name in writes:
        before, was = writes[name]
        rows = np.concatenate([before, rows])
        values = pd.concat([pd.Series(was), pd.Series(values)], ignore_index=True).array
    return {**writes, name: (rows, values)}


def _written(table: gpd.GeoDataFrame, writes: Writes) -> gpd.GeoDataFrame:
    """`table` with `writes` done, each column once (`replaced`: only the rows that differ)."""
    if not writes:
        return table
    out = table.copy(deep=False)
    for name, (rows, values) in writes.items():
        column = replaced(out[name].array, rows, values)
        if column is not out[name].array:  # set as a Series: setting an array would copy it again
            out[name] = pd.Series(column, index=out.index, name=name, copy=False)
    return out


FIGURE_FIELDS: dict[str, tuple[str, ...]] = {
    "grids": ("code", "community_code", "party_branch", "worker_name", "geometry"),
    "communities": ("code", "street_code", "kind", "geometry"),
    "streets": ("code", "geometry"),
}
"""Of the units' own layers, the fields some figure reads (roll-ups, topology); the others (a name)
are only copied into the unit's row of the tables."""


def _described(
    analysis: Analysis,
    old: Mapping[str, gpd.GeoDataFrame],
    new: Mapping[str, gpd.GeoDataFrame],
    changed: Mapping[str, list[str]],
) -> Analysis | None:
    """The analysis with the edited grids', communities' and streets' fields copied into their rows,
    when the edit changed only fields no figure reads (`FIGURE_FIELDS`); else None."""
    if not changed or not set(changed) <= set(FIGURE_FIELDS):
        return None
    tables: dict[str, Any] = {}
    for layer, codes in changed.items():
        was, now = old[layer], new[layer]
        if len(was) != len(now) or list(was.columns) != list(now.columns):
            return None
        wanted = pd.Series(codes, dtype="string")
        rows = np.flatnonzero(index_in(now["code"], wanted) >= 0)
        if (
            rows.size != len(set(codes))
            or not same_text(was["code"].iloc[rows], now["code"].iloc[rows]).all()
        ):
            return None
        before, after = was.iloc[rows], now.iloc[rows]
        if not shapely.equals_exact(
            np.asarray(before.geometry.values, dtype=object),
            np.asarray(after.geometry.values, dtype=object),
            0.0,
        ).all():
            return None
        read = [name for name in FIGURE_FIELDS[layer] if name != "geometry"]
        if not all(_same_cells(before[name].array, after[name].array).all() for name in read):
            return None
        table = getattr(analysis, layer).copy(deep=False)
        at = index_in(after["code"], table["code"])
        if (at < 0).any():
            return None
        copied = [name for name in now.columns if name != "geometry" and name not in read and name in table]
        for name in copied:
            table[name] = replaced(table[name].array, at, after[name].array.astype(table[name].dtype))
        tables[layer] = table
    return dataclasses.replace(analysis, timings={}, **tables)


def _in_place(
    old: Mapping[str, gpd.GeoDataFrame], new: Mapping[str, gpd.GeoDataFrame], changed: Mapping[str, list[str]]
) -> set[str]:
    """Of the grids, the layer itself when its edited features keep their code and shape (a grid renamed,
    its party branch or worker changed): assignment reads only grids' codes and shapes, so no feature
    changes grid and the whole city need not be assigned again."""
    codes = changed.get("grids")
    if not codes:
        return set()
    wanted = pd.Series(codes, dtype="string")
    was, now = index_in(wanted, old["grids"]["code"]), index_in(wanted, new["grids"]["code"])
    if (was < 0).any() or (now < 0).any() or len(old["grids"]) != len(new["grids"]):
        return set()
    before = np.asarray(old["grids"].geometry.values, dtype=object)[was]
    after = np.asarray(new["grids"].geometry.values, dtype=object)[now]
    exact = shapely.equals_exact(before, after, tolerance=0.0)  # a shape moved a hair may move a point
    return {"grids"} if bool(np.all(exact)) else set()


def _compacted_analysis(analysis: Analysis) -> Analysis:
    """Every table and derived layer of `analysis` `compacted` (the analysis itself when none needs it)."""
    tables: dict[str, Any] = {name: compacted(getattr(analysis, name)) for name in (*_TABLES, "unassigned")}
    derived = {name: compacted(frame) for name, frame in analysis.frames.items()}
    if all(tables[n] is getattr(analysis, n) for n in tables) and all(
        derived[n] is analysis.frames[n] for n in derived
    ):
        return analysis
    return dataclasses.replace(analysis, frames=derived, **tables)


def _touched(
    frames: Mapping[str, gpd.GeoDataFrame],
    old: Mapping[str, gpd.GeoDataFrame],
    analysis: Analysis,
    derived: Mapping[str, gpd.GeoDataFrame],
    changed: Mapping[str, list[str]],
    units: pd.Series,
    options: AnalysisOptions,
    moves: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> set[str]:
    """The community keys an edit reaches (see the module docstring); `moves` holds, for layers
    whose edited features alone were placed, their rows `_moved` (known without comparing layers)."""
    was_units = grid_units(analysis.grids)
    was = pd.Series(was_units.to_numpy(), index=analysis.grids["code"].astype(object).to_numpy())
    now = pd.Series(units.to_numpy(), index=frames["grids"]["code"].astype(object).to_numpy())
    out: set[str] = set(changed.get("communities", []))
    for name in (n for n in STATUS_INPUTS if changed.get(n)):  # a status counts in its grid alone
        households = derived["households"]
        mine = index_in(households["code"], pd.Series(changed[name], dtype="string")) >= 0
        out |= _units_of(was, households["grid_code"][mine])
    if "grids" in changed:
        out |= _units_of(was, changed["grids"]) | _units_of(now, changed["grids"])
    for layer in DERIVED_LAYERS:
        before, after = analysis.frames[layer], derived[layer]
        if after is before:  # kept as it was: nothing in it moved
            continue
        gone, came = (moves or {}).get(layer) or _moved(before, after, changed.get(layer, []))
        out |= _units_of(was, before["grid_code"].iloc[gone]) | _units_of(now, after["grid_code"].iloc[came])
    boxes = [np.empty((0, 4))]
    for layer in SITE_LAYERS:  # as the crow flies: the walks farther off are patched (`_walk_patched`)
        codes = changed.get(layer, [])
        for version in (old[layer], frames[layer]):
            boxes.append(reach(layer, version[version["code"].isin(codes)], options))
    hits = np.concatenate(boxes)
    return out | reached(analysis.grids, was_units, hits) | reached(frames["grids"], units, hits)


def _streets_redone(
    old: Mapping[str, gpd.GeoDataFrame],
    frames: Mapping[str, gpd.GeoDataFrame],
    units: set[str],
    edited: list[str],
) -> list[str]:
    """The streets whose figures the redone communities (their street before and after) and the
    edited streets change."""
    out = set(edited)
    for version in (old["communities"], frames["communities"]):
        mine = version["street_code"][version["code"].isin(list(units)).to_numpy(dtype=bool)]
        out |= set(mine.dropna().astype(str))
    return sorted(out)


def _units_of(units: pd.Series, grid_codes: object) -> set[str]:
    """The community keys of the (non-null) `grid_codes` that `units` knows."""
    codes = pd.Series(grid_codes).dropna().astype(object).unique()
    return set(units.reindex(codes).dropna())


def _moved(before: pd.DataFrame, after: pd.DataFrame, edited: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `before` and of `after` whose feature is edited, new, gone or in another grid now."""
    at, gone, _ = _matched(after, before)
    edits = index_in(after["code"], pd.Series(edited, dtype="string")) >= 0
    if len(after) == len(before) and not len(gone):  # the same rows: compare in place
        rows = np.flatnonzero(~same_text(before["grid_code"], after["grid_code"]) | edits)
        return rows, rows
    was = pd.Series(codes_at(before["grid_code"], at))
    differs = (at < 0) | edits | ~same_text(was, after["grid_code"])
    return np.union1d(at[differs & (at >= 0)], gone), np.flatnonzero(differs)


def _matched(new: pd.DataFrame, old: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, bool]:
    """The row of `old` holding each row of `new`'s feature (-1: new), the rows of `old` gone, and
    whether `old`'s rows are `new`'s first rows in place (the others new: `_appended`).

    Cheap when `new` is `old` with rows edited in place and new ones after them
    (as a patched layer is): codes are unique, so a tail past `old`'s rows is all new;
    and when their codes are the very same buffers, not one code is read.
    """
    n = len(old)
    if _first_rows(new, old):
        at = np.concatenate([np.arange(n), np.full(len(new) - n, -1)])
        return at, np.empty(0, dtype=np.intp), True
    at = index_in(new["code"], old["code"])
    return at, np.flatnonzero(index_in(old["code"], new["code"]) < 0), _appended(at, n)


def _first_rows(new: pd.DataFrame, old: pd.DataFrame) -> bool:
    """Whether `old`'s features are `new`'s first rows, in order (compared only when their codes are
    not the very same buffers)."""
    n = len(old)
    if len(new) < n:
        return False
    head = new["code"] if len(new) == n else new["code"].iloc[:n]
    return _shared(head, old["code"]) or bool(same_text(head, old["code"]).all())


def _shared(a: pd.Series, b: pd.Series) -> bool:
    """Whether two Arrow-held columns are views of the very same buffers: equal, without reading a row
    (a layer patched in place keeps its codes' buffers, and the household table shares them)."""
    x, y = getattr(a.array, "_pa_array", None), getattr(b.array, "_pa_array", None)
    if not isinstance(x, pa.ChunkedArray) or not isinstance(y, pa.ChunkedArray):
        return False
    if x.type != y.type or x.num_chunks != y.num_chunks:
        return False
    return all(
        p.offset == q.offset and len(p) == len(q) and _addresses(p) == _addresses(q)
        for p, q in zip(x.chunks, y.chunks, strict=True)
    )


def _addresses(chunk: pa.Array) -> list[int | None]:
    return [None if buffer is None else buffer.address for buffer in chunk.buffers()]


def region(
    frames: Mapping[str, gpd.GeoDataFrame],
    derived: Mapping[str, gpd.GeoDataFrame],
    units: set[str],
    grid_codes: pd.Series,
    margin: np.ndarray,
) -> tuple[dict[str, gpd.GeoDataFrame], np.ndarray]:
    """The layers the analysis of the communities `units` (holding `grid_codes`) reads, and its
    households' rows.

    Their areas, what is assigned inside them (`derived`), and the sites within
    `margin` (degrees) around them; the rows are positions among all households.
    """
    communities = frames["communities"][frames["communities"]["code"].isin(list(units)).to_numpy(dtype=bool)]
    inside = {
        "streets": frames["streets"][frames["streets"]["code"].isin(communities["street_code"].dropna())],
        "communities": communities,
        "grids": frames["grids"][frames["grids"]["code"].isin(grid_codes)],
    }
    rows = np.empty(0, dtype=np.intp)
    for layer in ("buildings", "households"):  # both in frame order
        rows = np.flatnonzero(derived[layer]["grid_code"].isin(grid_codes).to_numpy(dtype=bool))
        inside[layer] = frames[layer].iloc[rows]
    if len(inside["grids"]):
        x0, y0, x1, y1 = inside["grids"].total_bounds
        window = shapely.box(x0 - margin[0], y0 - margin[1], x1 + margin[0], y1 + margin[1])
    else:
        window = shapely.Polygon()
    for layer in SITE_LAYERS:
        sites = frames[layer]
        inside[layer] = sites[shapely.intersects(np.asarray(sites.geometry.values, dtype=object), window)]
    out = {name: frame.reset_index(drop=True) for name, frame in inside.items()}
    # The whole layers as they are (the same objects: the walking network built of them is reused).
    out |= {layer: frames[layer] for layer in WHOLE_INPUTS if layer in frames}
    return out, rows


def _widest_reach(frames: Mapping[str, gpd.GeoDataFrame], options: AnalysisOptions) -> np.ndarray:
    """Half the width and height (degrees) of the widest reach of any site: how far around sites matter."""
    walking = _walks(frames)
    boxes = np.concatenate([reach(layer, frames[layer], options, walking=walking) for layer in SITE_LAYERS])
    if not len(boxes):
        return np.zeros(2)
    return np.array([np.max(boxes[:, 2] - boxes[:, 0]), np.max(boxes[:, 3] - boxes[:, 1])]) / 2


def _walks(frames: Mapping[str, gpd.GeoDataFrame]) -> bool:
    """Whether the analysis walks the roads (some are loaded)."""
    return "roads" in frames and len(frames["roads"]) > 0


Placer = Callable[[str, gpd.GeoDataFrame], pd.api.extensions.ExtensionArray]
"""The grid code (null for none) `analyze` gives each feature of a layer."""


def _placer(analysis: Analysis, locator: GridLocator, buildings: BuildingLocator | None) -> Placer:
    """Where `analyze` puts a feature: a household in its registered building's grid, else (as a
    site) in the grid of the building it lies in, else in the grid around it."""
    building_codes = analysis.frames["buildings"]["code"]
    building_grid = index_in(analysis.frames["buildings"]["grid_code"], locator.codes)

    def place(layer: str, features: gpd.GeoDataFrame) -> pd.api.extensions.ExtensionArray:
        if layer == "households":
            pos = household_grids(locator, features, building_codes, building_grid, buildings)
        else:
            x, y = point_xy(features)
            if buildings is None:
                pos = locator.locate(x, y)
            else:
                pos = point_grids(locator, buildings, building_grid, x, y)[0]
        return codes_at(locator.codes, pos)

    return place


def _assigned(
    layer: str,
    features: gpd.GeoDataFrame,
    before: gpd.GeoDataFrame,
    kept: np.ndarray,
    fresh: np.ndarray,
    place: Placer,
    in_place: bool,
) -> gpd.GeoDataFrame:
    """A layer with `grid_code` derived: the `fresh` features (new or changed) placed by `place`,
    the others keeping the grid they had in `before` (the previous derived layer), at their row
    `kept` there (`_matched`; `in_place`: its rows are `before`'s, then new ones)."""
    rows = np.flatnonzero(fresh)
    placed = place(layer, features.iloc[rows])
    if in_place:  # the rows in place, new ones after: only changed grids written
        return features.assign(grid_code=replaced(before["grid_code"].array, rows, placed))
    grid_code = codes_at(before["grid_code"], np.where(fresh, -1, kept))
    grid_code[rows] = placed
    return features.assign(grid_code=grid_code)


def _placed(
    layer: str,
    features: gpd.GeoDataFrame,
    before: gpd.GeoDataFrame,
    changed: list[str],
    place: Placer,
    rows: CodeRows | None = None,
) -> tuple[gpd.GeoDataFrame, tuple[np.ndarray, np.ndarray]]:
    """`_assigned`, and the rows `_moved` would find of it, from what placing it already matched.

    Only the edited and new features are placed, the others keep their grid:
    so the features in another grid now, edited, new or gone are among the
    placed rows and the rows gone, and no layer of millions is compared again.
    """
    kept, gone, in_place = _matched(features, before)
    fresh = (kept < 0) | _named(features["code"], changed, rows)
    came = np.flatnonzero(fresh)
    was = kept[came]
    return _assigned(layer, features, before, kept, fresh, place, in_place), (
        np.union1d(was[was >= 0], gone),
        came,
    )


def _splice(
    before: Analysis,
    part: Analysis | None,
    frames: Mapping[str, gpd.GeoDataFrame],
    derived: dict[str, gpd.GeoDataFrame],
    units: set[str],
    rows: np.ndarray,
    options: AnalysisOptions,
    measure: Projections,
) -> tuple[Analysis, Writes]:
    """`before` with the figures of the communities `units` taken from `part` (their analysis
    alone), and the household figures still to write (`_written`); the street roll-ups are summed
    again from the communities.

    `rows` are the positions among all households of those `part` was given, in its order.
    """
    if part is None:
        part = dataclasses.replace(before, **{n: getattr(before, n).iloc[:0] for n in _TABLES})
    old_grids = before.grids["code"][grid_units(before.grids).isin(units).to_numpy()]
    grid_codes = {*part.grids["code"], *old_grids.astype(str)}
    community_codes = {*part.communities["code"], *(units - {_NO_COMMUNITY})}
    out = dataclasses.replace(before, frames=derived, timings={})
    out.grids = _merged(before.grids, part.grids, "code", grid_codes, frames["grids"]["code"])
    out.communities = _merged(
        before.communities, part.communities, "code", community_codes, frames["communities"]["code"]
    )
    out.streets = street_table_of(out.communities, frames["streets"], options.grades)
    out.uncovered_areas = _merged(
        before.uncovered_areas, part.uncovered_areas, "grid_code", grid_codes, frames["grids"]["code"]
    )
    out.findings = _findings(before.findings, part.findings, grid_codes, community_codes)
    out.unassigned = _unassigned(before, derived)
    out.households, writes = _households(
        before.households,
        part.households,
        frames,
        derived,
        rows,
        options,
        measure,
        before.frames["households"],
    )
    # Links depend on households and their grids alone: when neither moved, the centers stand.
    linked = derived["households"] is not before.frames["households"]
    in_place = _first_rows(out.households, before.households)  # the same codes: read by no code
    out.centers = (
        _centers(
            before.centers,
            part.centers,
            out.households,
            options.quota,
            (before.households, rows) if in_place else None,
        )
        if linked
        else before.centers
    )
    per_grid = before.gaps["kind"].isin(list(GAP_TEXT)).to_numpy(dtype=bool)
    kept = before.gaps[per_grid & ~before.gaps["grid_code"].isin(grid_codes).to_numpy(dtype=bool)]
    fresh = part.gaps[part.gaps["kind"].isin(list(GAP_TEXT)).to_numpy(dtype=bool)]
    topology = topology_gaps(out.findings, out.grids["code"].astype(str).to_numpy(dtype=object))
    out.gaps = _gap_frame(
        [kept, fresh, topology, unassigned_gaps(out.unassigned)], out.grids, before.gaps.crs
    )
    return out, writes


def _unassigned(before: Analysis, derived: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """What lies in no grid, as `unassigned(derived)` lists it: a layer kept as it was keeps its rows."""
    fresh = {layer: frame for layer, frame in derived.items() if frame is not before.frames[layer]}
    if not fresh:
        return before.unassigned
    mine = unassigned(fresh)
    layers = before.unassigned["layer"].astype(object).to_numpy()
    parts = [
        mine[mine["layer"] == layer] if layer in fresh else before.unassigned[layers == layer]
        for layer in DERIVED_LAYERS
    ]
    return gpd.GeoDataFrame(
        pd.concat(parts, ignore_index=True), geometry="geometry", crs=before.unassigned.crs
    )


_TABLES = ("households", "grids", "communities", "streets", "uncovered_areas", "findings", "gaps", "centers")


def _merged(
    whole: pd.DataFrame, part: pd.DataFrame, key: str, redone: object, order: pd.Series
) -> pd.DataFrame:
    """`whole`'s rows whose `key` is not in `redone`, and `part`'s, in the order of the codes `order`."""
    kept = whole[~whole[key].isin(list(redone)).to_numpy(dtype=bool)]  # type: ignore[call-overload]
    both = pd.concat([kept, part], ignore_index=True) if len(part) else kept.reset_index(drop=True)
    at = index_in(order, both[key])
    if (at < 0).any():
        missing = order[at < 0].tolist()[:5]
        raise AssertionError(f"incremental analysis lost rows keyed {missing}")
    out = both.iloc[at].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=whole.crs) if "geometry" in out else out


def _findings(
    whole: gpd.GeoDataFrame, part: gpd.GeoDataFrame, grids: set[str], communities: set[str]
) -> gpd.GeoDataFrame:
    """Findings of the redone grids and communities from `part`, the others kept, in report order."""
    named = whole["codes"].astype("string").fillna("").str.split(",")
    theirs = named.map(lambda codes: any(c in grids or c in communities for c in codes))
    mine = whole["community_code"].isin(list(communities)).to_numpy(dtype=bool) | theirs.to_numpy(dtype=bool)
    both = pd.concat([whole[~mine], part], ignore_index=True)
    return gpd.GeoDataFrame(
        both.iloc[finding_order(both)].reset_index(drop=True), geometry="geometry", crs=whole.crs
    )


def _households(
    whole: gpd.GeoDataFrame,
    part: gpd.GeoDataFrame,
    frames: Mapping[str, gpd.GeoDataFrame],
    derived: Mapping[str, gpd.GeoDataFrame],
    rows: np.ndarray,
    options: AnalysisOptions,
    measure: Projections,
    before_frame: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, Writes]:
    """The household table in the new frame's order: the redone `rows` from `part`, the others kept;
    when no household moved or changed, the previous table and the figures to write into it.

    The fields it takes over come from the frames as `analyze` takes them; only
    the figures are spliced. Households in no grid belong to no community: their
    coverage (sites may have moved near them) and their link (a center's to
    itself) are worked out here.
    """
    households = frames["households"]
    kept = derived["households"] is before_frame
    lost = np.flatnonzero(derived["households"]["grid_code"].isna().to_numpy(dtype=bool))
    figures = _lost_figures(households.iloc[lost], frames, derived, options, measure)
    written = np.concatenate([rows, lost])

    def fresh(name: str) -> pd.api.extensions.ExtensionArray:
        lost_values = pd.Series(figures[name], dtype=part[name].dtype)
        return pd.concat([part[name], lost_values], ignore_index=True).array

    if kept:  # nor moved nor edited: the rows, their grids and links stand; only coverage is redone
        redone = [name for c in computations().values() if c.reads for name in c.columns if name in whole]
        return whole, {name: (written, fresh(name)) for name in redone}
    at, _, same = _matched(households, whole)
    covered = np.zeros(len(households), dtype=bool)
    covered[written] = True
    if not covered[at < 0].all():
        raise AssertionError("incremental analysis met a household no community redid")
    whole_rows = np.maximum(at, 0)
    columns: dict[str, object] = {}
    current: dict[str, pd.api.extensions.ExtensionArray] = {}  # to tell a figure `replaced` left alone
    for name in whole.columns:
        if name in figures:
            current[name] = whole[name].array
            if same:  # only the rows whose figure changed are written: most of a city's stand
                values = replaced(current[name], written, fresh(name))
            else:
                values = whole[name].array.take(whole_rows)
                values[written] = fresh(name)
        elif name == "grid_code":
            values = derived["households"][name].array
        else:
            values = households[name].array if name != "geometry" else households.geometry.array
        columns[name] = values
    if same and len(households) == len(whole):
        # The same rows: the columns shared with the previous table, each one written set alone (a
        # table of millions of rows built anew copies and stacks every column).
        # A column is set only when it is not the one held already, and as a Series, which pandas does
        # not copy (an array set would be: a city's geometry column copied on every household edit).
        out = whole.copy(deep=False)
        for name, spliced in columns.items():
            if spliced is not current.get(name, out[name].array):
                out[name] = pd.Series(spliced, index=out.index, name=name, copy=False)
        return out, {}
    return gpd.GeoDataFrame(columns, geometry="geometry", crs=whole.crs), {}


def _lost_figures(
    mine: gpd.GeoDataFrame,
    frames: Mapping[str, gpd.GeoDataFrame],
    derived: Mapping[str, gpd.GeoDataFrame],
    options: AnalysisOptions,
    measure: Projections,
) -> dict[str, object]:
    """Every measure's household columns for households in no grid (a center is linked to itself)."""
    metric = measure.analysis
    center = mine["center_household"].fillna(False).to_numpy(dtype=bool)
    buildings = derived["buildings"].iloc[:0]  # their counts are per grid: none here
    inputs = Inputs(
        layers={
            **derived,
            "households": mine,  # row for row with households_xy, as in `analyze`
            "buildings": buildings,
            **{n: frames[n] for n in WHOLE_INPUTS if n in frames},
        },
        households_xy=metric_xy(mine, metric),
        metric=metric,
        grids=0,
        household_grid=np.full(len(mine), -1, dtype=np.intp),
        building_grid=np.empty(0, dtype=np.intp),
        links=lambda: mine["code"].astype("string").where(center, pd.NA),
        coverage=options.coverage,
        walking=options.walking,
    )
    out: dict[str, object] = {}
    for computation in computations().values():
        out.update(computation.run(inputs).households)
    return out


def _centers(
    whole: pd.DataFrame,
    part: pd.DataFrame,
    households: pd.DataFrame,
    quota: int,
    previous: tuple[pd.DataFrame, np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per center household in frame order: links from `part` where redone, else as they were.

    With `previous` (the household table `whole` was of, its rows the first of
    `households` in place, and the rows `part` redid), a center not redone is
    found in `whole` by its row: no code of the city's centers is matched.
    """
    rows = np.flatnonzero(_flags(households))
    codes = households["code"].iloc[rows].astype("string")
    grid = households["grid_code"].iloc[rows].astype("string")
    found = _centers_by_row(rows, codes, part, len(whole), len(households), previous)
    redone, kept = found or (index_in(codes, part["code"]), index_in(codes, whole["code"]))
    linked = np.where(
        redone >= 0,
        part["linked"].to_numpy()[np.maximum(redone, 0)] if len(part) else 0,
        whole["linked"].to_numpy()[np.maximum(kept, 0)] if len(whole) else 0,
    )
    linked = np.where(grid.isna().to_numpy(dtype=bool) | ((redone < 0) & (kept < 0)), 0, linked)
    table = pd.DataFrame(
        {  # the text columns as they are held: a city's centers made Python strings cost a tenth of a second
            "code": codes.array,
            "grid_code": grid.array,
            "linked": linked.astype(np.int64),
            "quota": np.full(rows.size, quota, dtype=np.int64),
        }
    ).astype({"code": "string", "grid_code": "string"})
    table["missing"] = table["quota"] - table["linked"]
    return table


def _flags(households: pd.DataFrame) -> np.ndarray:
    """Whether each household is a center household (missing: not)."""
    return households["center_household"].to_numpy(dtype=bool, na_value=False)


def _centers_by_row(
    rows: np.ndarray,
    codes: pd.Series,
    part: pd.DataFrame,
    was: int,
    n: int,
    previous: tuple[pd.DataFrame, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """For the centers at `rows`, their row in `part` (among those redone) and in the previous
    centers table (the others, by their row then: centers stay in frame order); None without
    `previous` or when the previous table's centers are not its rows' (then matched by code)."""
    if previous is None:
        return None
    table, redone = previous
    before = np.flatnonzero(_flags(table))
    if before.size != was:
        return None
    mine = np.zeros(n, dtype=bool)
    mine[redone] = True
    again = mine[rows]
    at = np.minimum(np.searchsorted(before, rows), max(was - 1, 0))
    kept = np.where(~again & (was > 0) & (before[at] == rows if was else False), at, -1)
    fresh = np.full(rows.size, -1, dtype=np.intp)
    fresh[again] = index_in(codes[again], part["code"])
    return fresh, kept


def _gap_frame(parts: list[pd.DataFrame], grids: pd.DataFrame, crs: object) -> gpd.GeoDataFrame:
    """Gap rows put together as `analyze` returns them: text columns as strings, in its order."""
    gaps = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    for name in ("kind", "grid_code", "description_zh", "description_en"):
        gaps[name] = gaps[name].astype("string")
    return gpd.GeoDataFrame(_in_gap_order(gaps, grids), geometry="geometry", crs=crs)


def _in_gap_order(gaps: pd.DataFrame, grids: pd.DataFrame) -> pd.DataFrame:
    """Gaps ordered as `analyze` orders them: per-grid kinds in `GAP_TEXT` order by grid, then the rest."""
    kinds = list(GAP_TEXT)
    rank = gaps["kind"].map({kind: i for i, kind in enumerate(kinds)}).fillna(len(kinds)).to_numpy()
    grid = pd.Index(grids["code"].astype(object)).get_indexer(gaps["grid_code"].astype(object))
    grid = np.where(rank < len(kinds), grid, 0)  # topology and unassigned rows keep their own order
    order = np.lexsort((grid, rank))
    return gaps.iloc[order].reset_index(drop=True)


def _roads_edited(
    analysis: Analysis,
    frames: Mapping[str, gpd.GeoDataFrame],
    old: Mapping[str, gpd.GeoDataFrame],
    options: AnalysisOptions,
    measure: Projections,
) -> tuple[Analysis, list[str]] | None:
    """The analysis after an edit of the roads alone, and the streets whose figures changed; None
    when it is to be analysed whole (no walking network before or after: the analysis' note changes).

    Only walks read the roads, and a walk within the cut-off can change only
    where it runs along (or joins) a segment one network has and the other has
    not: the households and buildings within the cut-off of those (the edited
    roads, and a piece joined to the largest or parted from it) walk again on
    the new network (`_walk_patched`); no community is analysed again.
    Households in no grid have their figures worked out again, as a splice does.
    """
    networks, metric = options.walking.networks, measure.analysis
    before = networks.network_of(old["roads"], metric)  # the one the analysis walked, kept
    after = networks.network_of(frames["roads"], metric)
    if not before.segments or not after.segments:
        return None
    boxes = _segment_boxes(changed_segments(before, after), metric, options.walking.cutoff_m)
    none = np.empty(0, dtype=np.intp)
    households = analysis.households
    _, writes = _households(
        households,
        households.iloc[:0],
        frames,
        analysis.frames,
        none,
        options,
        measure,
        analysis.frames["households"],
    )
    out, writes, streets = _walk_patched(
        dataclasses.replace(analysis, timings={}),
        writes,
        frames,
        analysis.frames,
        set(),
        boxes,
        options,
        measure,
    )
    out.households = _written(out.households, writes)
    return out, sorted(streets)


def _segment_boxes(lines: np.ndarray, metric: pyproj.CRS, cutoff_m: float) -> np.ndarray:
    """Boxes (lon/lat, m × 4) around segments (`lines`, m × 4 in `metric`) holding every point within
    `cutoff_m` of them."""
    if not len(lines):
        return np.empty((0, 4))
    to_lonlat = transformer(metric, WGS84)
    x0, y0 = to_lonlat.transform(lines[:, 0], lines[:, 1])
    x1, y1 = to_lonlat.transform(lines[:, 2], lines[:, 3])
    south, north = np.minimum(y0, y1), np.maximum(y0, y1)
    dy = cutoff_m / _METRES_PER_DEGREE * 1.01  # a margin for the metric projection's scale
    dx = dy / np.maximum(np.cos(np.radians(np.maximum(np.abs(south), np.abs(north)) + dy)), 0.01)
    return np.column_stack([np.minimum(x0, x1) - dx, south - dy, np.maximum(x0, x1) + dx, north + dy])


def _walk_reach(
    frames: Mapping[str, gpd.GeoDataFrame],
    old: Mapping[str, gpd.GeoDataFrame],
    changed: Mapping[str, list[str]],
    options: AnalysisOptions,
) -> np.ndarray:
    """Boxes (lon/lat) around the edited service points, before and after, within the walking
    cut-off: no walk changes farther off (a walk is never shorter than the straight line)."""
    codes = changed.get("service_points", [])
    if not codes or not _walks(frames):
        return np.empty((0, 4))
    versions = (old["service_points"], frames["service_points"])
    return np.concatenate(
        [reach("service_points", v[v["code"].isin(codes)], options, walking=True) for v in versions]
    )


def _walk_patched(
    analysis: Analysis,
    writes: Writes,
    frames: Mapping[str, gpd.GeoDataFrame],
    derived: Mapping[str, gpd.GeoDataFrame],
    redone: set[str],
    boxes: np.ndarray,
    options: AnalysisOptions,
    measure: Projections,
) -> tuple[Analysis, Writes, set[str]]:
    """`analysis` with the walks of the grids meeting `boxes` outside the communities `redone` taken
    again, `writes` with their households' walks added (their rows are outside those communities,
    so the household table is read as it was), and the streets whose figures that changed.

    Only the walking figures of such a grid can change (every other measure
    reaches no farther than the sites' radii, which the redone communities
    cover): its households walk again from the nodes' distances kept for the
    whole city (snaps looked up, no search), and where a walk or a count
    differs, the grid's household columns, counts, shares, walking gaps, gap
    count and grade are replaced, its community's sums moved by the
    difference and the streets summed again: as `analyze` would give them.
    """
    roads = frames.get("roads")
    if not len(boxes) or roads is None:
        return analysis, writes, set()
    metric, networks = measure.analysis, options.walking.networks
    network = networks.network_of(roads, metric)
    if not network.segments:
        return analysis, writes, set()
    grids = analysis.grids
    units = grid_units(grids)
    tree = shapely.STRtree(np.asarray(grids.geometry.values, dtype=object))
    near = np.unique(tree.query(shapely.box(*boxes.T), predicate="intersects")[1])
    near = near[~units.iloc[near].isin(redone).to_numpy(dtype=bool)]
    if not len(near):
        return analysis, writes, set()
    codes = grids["code"].iloc[near].astype("string")
    sites = frames["service_points"]
    facilities = networks.sources_of(network, metric_xy(sites, metric), options.walking.cutoff_m)
    h_pos = index_in(derived["households"]["grid_code"], codes)
    h_rows = np.flatnonzero(h_pos >= 0)
    h_pos = h_pos[h_rows]
    homes = facilities.walk(networks.snap(network, metric_xy(frames["households"].iloc[h_rows], metric)))
    b_pos = index_in(derived["buildings"]["grid_code"], codes)
    b_rows = np.flatnonzero(b_pos >= 0)
    b_pos = b_pos[b_rows]
    places = facilities.walk(networks.snap(network, building_xy(derived["buildings"].iloc[b_rows], metric)))
    columns = household_columns(homes, sites)
    counts = circle_counts(len(near), h_pos, homes, b_pos, places)
    table = analysis.households
    metres = table["service_walk_m"].iloc[h_rows].to_numpy(dtype=np.float64, na_value=np.nan)
    moved = ~((metres == homes.metres) | (np.isnan(metres) & np.isnan(homes.metres)))  # exactly
    moved |= ~same_values(table["service_walk_code"].iloc[h_rows], pd.Series(columns["service_walk_code"]))
    differs = np.zeros(len(near), dtype=bool)
    differs[h_pos[moved]] = True
    for name, values in counts.items():
        differs |= grids[name].to_numpy()[near] != values
    if not differs.any():
        return analysis, writes, set()
    for name, values in columns.items():
        writes = _also(writes, name, h_rows[moved], pd.Series(values).array[moved])
    out, streets = _walks_put(analysis, frames, near, differs, h_rows, h_pos, columns, counts, options)
    return out, writes, streets


def _walks_put(
    analysis: Analysis,
    frames: Mapping[str, gpd.GeoDataFrame],
    near: np.ndarray,
    differs: np.ndarray,
    h_rows: np.ndarray,
    h_pos: np.ndarray,
    columns: Mapping[str, Any],
    counts: Mapping[str, np.ndarray],
    options: AnalysisOptions,
) -> tuple[Analysis, set[str]]:
    """`_walk_patched`'s grid figures put into `analysis`: the grids `near[differs]` (positions among
    its grids; their households `h_rows` at `h_pos` among `near`, walking as `columns` says)."""
    grids = analysis.grids.copy(deep=False)
    rows = near[differs]
    was = grids.iloc[rows]
    for name, values in counts.items():
        column = grids[name].to_numpy(copy=True)
        column[rows] = values[differs]
        grids[name] = column
    grids = with_shares(grids)
    # The walking gaps of those grids from their households' walks (all of a grid's households are here).
    mine = differs[h_pos]
    at = np.cumsum(differs) - 1
    walked = pd.DataFrame({name: pd.Series(values).array[mine] for name, values in columns.items()})
    points = np.asarray(frames["households"].geometry.values, dtype=object)[h_rows[mine]]
    xy = np.column_stack([shapely.get_x(points), shapely.get_y(points)])
    patched_codes = grids["code"].iloc[rows].astype(str)
    kinds = [kind for kind, gap in _walk_gaps().items() if gap.column in columns]
    fresh = [
        household_gap_rows(kind, grids.iloc[rows], _walk_gaps()[kind].left_out(walked), at[h_pos[mine]], xy)
        for kind in kinds
    ]
    gaps = analysis.gaps
    stale = gaps["kind"].isin(kinds).to_numpy(dtype=bool) & gaps["grid_code"].isin(patched_codes).to_numpy(
        dtype=bool
    )
    gaps = _gap_frame([gaps[~stale], *fresh], grids, gaps.crs)
    g_code = grids["code"].astype(str).to_numpy(dtype=object)
    gap_count = per_grid(
        pd.Index(g_code).get_indexer(gaps["grid_code"].astype(object).to_numpy()), len(g_code)
    )
    column = grids["gap_count"].to_numpy(copy=True)
    column[rows] = gap_count[rows]
    grids["gap_count"] = column
    grids["grade"] = grid_grades(grids, options.grades)
    names = [*counts, "gap_count"]
    communities = _sums_moved(
        analysis.communities, was["community_code"], was, grids.iloc[rows], names, options
    )
    mine = analysis.communities["code"].isin(was["community_code"].dropna()).to_numpy(dtype=bool)
    street_codes = analysis.communities["street_code"][mine]
    streets = _sums_moved(
        analysis.streets, street_codes, analysis.communities[mine], communities[mine], names, options
    )
    touched = set(street_codes.dropna())
    out = dataclasses.replace(analysis, grids=grids, communities=communities, streets=streets, gaps=gaps)
    return out, {str(code) for code in touched}


def _walk_gaps() -> dict[str, HouseholdGap]:
    """The household gap kinds `analyze` lists, by kind (`<gap>_gap`)."""
    out: dict[str, HouseholdGap] = {}
    for m in share_measures():
        kind = f"{HOUSEHOLD_GAPS[m.gap].code}_gap" if m.gap in HOUSEHOLD_GAPS else ""
        if kind in GAP_TEXT:
            out[kind] = HOUSEHOLD_GAPS[m.gap]
    return out


def _sums_moved(
    table: gpd.GeoDataFrame,
    keys: pd.Series,
    was: pd.DataFrame,
    now: pd.DataFrame,
    names: list[str],
    options: AnalysisOptions,
) -> gpd.GeoDataFrame:
    """A community or street `table` with its sums `names` moved by the change of some of its parts
    (grids or communities, each in the row of `keys` that names its unit) from `was` to `now` (the
    same parts in the same order), its shares and grades worked out again."""
    out = pd.DataFrame(table.drop(columns="geometry"))
    at = pd.Index(out["code"].astype(object)).get_indexer(keys.astype(object).to_numpy())
    for name in names:
        if name not in out:
            continue
        delta = now[name].to_numpy(dtype=np.int64) - was[name].to_numpy(dtype=np.int64)
        column = out[name].to_numpy(dtype=np.int64, copy=True)
        np.add.at(column, at[at >= 0], delta[at >= 0])
        out[name] = column
    return finish_level(out, table.geometry.to_numpy(), options.grades)
