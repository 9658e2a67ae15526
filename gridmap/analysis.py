"""The whole analysis a planner reads: assignment, topology, coverage, linkage, governance, grades.

`analyze(frames)` is pure: canonical frames in (as a store returns them), an
`Analysis` out. Maps, the API, reports and exports read its fields, whose
names are fixed in docs/ARCHITECTURE.md.

Measures are the entries of `gridmap.vocabulary.MEASURES`, each computed by
its `gridmap.measures` computation: this module runs them, sums their counts
per grid, community and street and divides them into shares; nothing here
names a measure.

Grades (A–D, `GradeRule`): each graded share (`Measure.graded`: households
covered by a working speaker, by a service point, and linked (一户十联)) earns
a grade by its own thresholds (`gridmap.vocabulary.grade_levels`; speaker A ≥
0.95, B ≥ 0.85, C ≥ 0.70; service 0.90 / 0.75 / 0.50; linkage 0.90 / 0.75 /
0.50, as 一户十联 aims to link every household; D below; the thresholds and
their source are in gridmap/vocabulary.py), and the worst of them starts the
unit's grade. A share is undefined for a unit without
households and is then left out. Each governance
or topology problem lowers the grade one step (D at worst): no party branch,
no grid worker, an error-level topology finding. For a community or a street
the shares are weighted by households, and a problem counts when any of its
grids has it (or the community itself has a topology error).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from gridmap.arrays import FloatArray, IntArray
from gridmap.assignment import DERIVED_LAYERS, assign_positions, layer_of, unassigned
from gridmap.catalogue import LAYER_NAMES
from gridmap.coverage import CoverageOptions, metric_xy, speaker_ranges
from gridmap.crs import metric_crs
from gridmap.frames import WGS84, compacted
from gridmap.linkage import DEFAULT_QUOTA, link_households
from gridmap.measures import Figures, Inputs, computations, per_grid
from gridmap.stores.base import Store
from gridmap.stores.wkb import multipoints
from gridmap.topology import TopologyOptions, check_grids
from gridmap.vocabulary import (
    GAP_KINDS,
    HOUSEHOLD_GAPS,
    grade_letters,
    grade_levels,
    graded_measures,
    share_measures,
)
from gridmap.walking import WalkingOptions

GeomArray = npt.NDArray[np.object_]

GAP_TEXT: dict[str, tuple[str, str]] = {
    code: (kind.text_zh, kind.text_en) for code, kind in GAP_KINDS.items() if kind.text_zh
}
"""Descriptions of the per-grid gap kinds ({code}: the grid, {n}: how many), from `gridmap.vocabulary`."""

GAP_KINDS_ZH: dict[str, str] = {code: kind.zh for code, kind in GAP_KINDS.items()}
"""Chinese labels of the gap kinds not coming from topology (those are `topology_<kind>`)."""

BASE_COUNTS: tuple[str, ...] = ("households", "party_members", "center_households")
"""Per-unit counts of households themselves, before any measure."""

COUNT_COLUMNS: tuple[str, ...] = (
    *BASE_COUNTS,
    *dict.fromkeys(name for c in computations().values() for name in c.counts),
    "centers_under_quota",
)
"""Per-unit counts that add up from grids to communities to streets (a measure's may be absent)."""

WHOLE_LAYERS: tuple[str, ...] = ("roads",)
"""Layers some measure reads besides the derived ones, passed through as given and always whole:
the walking network is the whole city's, whatever part is analysed (`gridmap.incremental.region`
and the distributed engine hand them whole to every part)."""

WHOLE_INPUTS: tuple[str, ...] = (*WHOLE_LAYERS, "visit_status", "party_orgs", "party_links")
"""`WHOLE_LAYERS` and the inputs that are no layer, keyed by household code and handed whole to
every part as well: `visit_status`, the visit coverage input (`gridmap.visits.service.coverage_input`;
the distributed engine reads layers only, so its analyses leave visit coverage out); `party_orgs`,
the party organisations in force, and `party_links`, the confirmed 一户十联 register
(`gridmap.party.register`)."""

INPUT_FIELDS: dict[str, tuple[str, ...]] = {
    "households": ("code", "building_code", "party_member", "center_household"),
}
"""The only fields `analyze` reads of its largest layers: a reader may fetch just these
(`Store.read_columns`), which at city scale saves most of the reading time and memory."""


def read_inputs(
    store: Store,
    *,
    narrow: bool = True,
    on_layer: Callable[[str], None] | None = None,
    on: dt.date | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Every layer as `analyze` reads it: with `narrow`, the largest only with `INPUT_FIELDS` (Arrow).

    `on_layer` is called with each layer's name before it is read (for progress bars). The books'
    inputs are as of the Beijing day `on` (default: today): visits due, organisations in force.
    """
    frames = {}
    for name in LAYER_NAMES:
        if on_layer is not None:
            on_layer(name)
        frames[name] = read_input(store, name, narrow=narrow)
    frames.update(book_inputs(store, frames["households"]["code"], on))
    return frames


def book_inputs(store: Store, households: pd.Series, on: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """The inputs the books give (`WHOLE_INPUTS` but the roads) on the Beijing day `on`: the visit
    status of `households` and the party chain, each only when the store holds it."""
    from gridmap.visits.service import coverage_input  # SQLAlchemy: only when visits are read

    status = coverage_input(store, households, on)
    found = {} if status is None else {"visit_status": status}
    return found | party_inputs(store, on)


def party_inputs(store: Store, on: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """The party chain's inputs (`WHOLE_INPUTS`) the store holds: organisations in force on `on`
    (default: today), confirmed links."""
    from gridmap.party.register import link_register, orgs_in_force  # SQLAlchemy: only when read

    found = {"party_orgs": orgs_in_force(store, on), "party_links": link_register(store)}
    return {name: frame for name, frame in found.items() if frame is not None}


def read_input(store: Store, layer: str, *, narrow: bool = True) -> gpd.GeoDataFrame:
    """One layer as `read_inputs` reads it, each text column in one piece (`compacted`)."""
    wanted = INPUT_FIELDS.get(layer) if narrow else None
    return compacted(store.read(layer) if wanted is None else store.read_columns(layer, wanted))


_LAYER_ZH = {"buildings": "栋楼栋", "households": "户", "service_points": "个服务点", "speakers": "个广播"}


def _graded_thresholds() -> dict[str, tuple[float, float, float]]:
    return {m.code: m.thresholds for m in graded_measures() if m.thresholds is not None}


@dataclass(frozen=True)
class GradeRule:
    """Lowest share for grades A, B and C, per graded measure code (see the module docstring).

    Every default is the registry's (`gridmap.vocabulary.MEASURES`, which
    states each source). Linkage is held to the policy's goal, every
    household linked: with N = 10 links per center household that takes one
    center per 11 households; a grid with one per 30 (a share near 0.35)
    has most of its households unlinked and grades D, not A.
    """

    thresholds: Mapping[str, tuple[float, float, float]] = field(default_factory=_graded_thresholds)

    def shares(self, table: pd.DataFrame) -> FloatArray:
        """The graded shares of a unit table, one column per measure in `thresholds` order."""
        columns = [m.column for m in graded_measures() if m.code in self.thresholds]
        return table[columns].to_numpy(dtype=np.float64)

    def levels(self, shares: FloatArray) -> npt.NDArray[np.intp]:
        """Per unit and graded measure (n × k, `thresholds` order), its level 0 (A) to 3 (D)."""
        return np.column_stack(
            [grade_levels(shares[:, i], t) for i, t in enumerate(self.thresholds.values())]
            or [np.zeros(len(shares), dtype=np.intp)]
        )

    def grade(self, shares: FloatArray, problems: npt.NDArray[np.integer]) -> npt.NDArray[np.object_]:
        """Letter of each unit from its shares (n × k in `thresholds` order; NaN: undefined)."""
        return grade_letters(self.levels(shares).max(axis=1) + problems)


@dataclass(frozen=True)
class AnalysisOptions:
    """Everything `analyze` can be told: coverage ranges, linkage quota, topology tolerances, grades."""

    coverage: CoverageOptions = field(default_factory=CoverageOptions)
    quota: int = DEFAULT_QUOTA
    topology: TopologyOptions = field(default_factory=TopologyOptions)
    grades: GradeRule = field(default_factory=GradeRule)
    walking: WalkingOptions = field(default_factory=WalkingOptions)


@dataclass(frozen=True)
class Projections:
    """The metric CRSs an analysis measures in: distances and areas (`analysis`), topology's.

    Chosen from the data's extent (`projections`); an analysis of a part of a
    larger whole (a street redone after an edit) is given the whole's, so it
    measures every distance exactly as the whole analysis does.
    """

    analysis: pyproj.CRS
    topology: pyproj.CRS


def projections(frames: Mapping[str, gpd.GeoDataFrame]) -> Projections:
    """The CRSs `analyze(frames)` measures in."""
    grids, communities = layer_of(frames, "grids"), layer_of(frames, "communities")
    return Projections(
        analysis=metric_crs(grids if len(grids) else layer_of(frames, "households")),
        topology=metric_crs(communities if len(communities) else grids),
    )


@dataclass
class Analysis:
    """The result; field names are a contract (docs/ARCHITECTURE.md).

    Besides the contract fields: `centers` (one row per center household:
    code, grid_code, linked, quota, missing), `frames` (the input layers with
    `grid_code` derived, for `gridmap.assignment.write_assignment`), and
    `timings` (seconds per step).
    """

    households: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    uncovered_areas: gpd.GeoDataFrame
    findings: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    unassigned: gpd.GeoDataFrame
    centers: pd.DataFrame
    frames: dict[str, gpd.GeoDataFrame]
    timings: dict[str, float]
    notes: tuple[tuple[str, str], ...] = ()
    """What people should know about how the figures were taken (Chinese, English), e.g. no roads."""

    def totals(self) -> dict[str, int | float]:
        """Headline figures for the whole area: counts as integers, households-weighted shares."""
        g = self.grids
        out: dict[str, int | float] = {name: int(g[name].sum()) for name in COUNT_COLUMNS if name in g}
        for m in share_measures():
            if m.count in out and m.base in out:
                out[m.column] = out[m.count] / out[m.base] if out[m.base] else float("nan")
        out["grids"] = len(g)
        out["grids_without_party_branch"] = int((~g["has_party_branch"]).sum())
        out["grids_without_worker"] = int((~g["has_worker"]).sum())
        out["topology_errors"] = int((self.findings["severity"] == "error").sum())
        out["unassigned"] = len(self.unassigned)
        out["uncovered_area_m2"] = float(g["uncovered_area_m2"].sum())
        return out


def analyze(
    frames: Mapping[str, gpd.GeoDataFrame],
    options: AnalysisOptions | None = None,
    *,
    on_step: Callable[[str], None] | None = None,
    measure: Projections | None = None,
) -> Analysis:
    """Run the analysis on canonical frames (`{layer: frame}`; missing layers count as empty).

    `on_step` is called with the name of each step as it starts (for progress bars);
    `measure` overrides the CRSs chosen from the frames (`projections`).
    """
    opts = options or AnalysisOptions()
    timings: dict[str, float] = {}
    clock = _Clock(timings, on_step)

    clock.step("assign")
    measure = measure or projections(frames)
    metric = measure.analysis
    assigned, positions = assign_positions(frames, metric)
    layers = {name: layer_of(assigned, name) for name in LAYER_NAMES}
    grids, households = layers["grids"], layers["households"]
    g_code = grids["code"].astype(str).to_numpy(dtype=object)
    h_grid = positions["households"]
    lost = unassigned(assigned)

    clock.step("coverage")
    h_xy = metric_xy(households, metric)
    center = households["center_household"].fillna(False).to_numpy(dtype=bool)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="linkage") as pool:
        # Linkage is KD-trees and numpy, which let go of the interpreter: it runs on the
        # second core while coverage, topology and the uncovered areas run on this one.
        linking = pool.submit(
            link_households, households["code"], households["grid_code"], h_xy, center, opts.quota
        )
        inputs = Inputs(
            layers={**layers, **{name: frames[name] for name in WHOLE_INPUTS if name in frames}},
            households_xy=h_xy,
            metric=metric,
            grids=len(g_code),
            household_grid=h_grid,
            building_grid=positions["buildings"],
            links=lambda: linking.result().linked_to,
            coverage=opts.coverage,
            walking=opts.walking,
        )
        # Computations waiting for the linkage run last, so the linkage overlaps the others.
        figures = {path: c.run(inputs) for path, c in computations().items() if not c.waits}

        clock.step("topology")
        household_counts = pd.Series(_per_grid(h_grid, len(g_code)), index=g_code)
        findings = check_grids(
            grids, layers["communities"], household_counts, opts.topology, metric=measure.topology
        )

        clock.step("uncovered areas")
        uncovered = _uncovered_areas(grids, layers["speakers"], metric, opts.coverage)

        clock.step("linkage")
        links = linking.result()
        figures.update({path: c.run(inputs) for path, c in computations().items() if c.waits})
    figures = {path: figures[path] for path in computations()}
    below_quota = np.zeros(len(households), dtype=bool)
    below_quota[links.center_rows[links.centers["missing"].to_numpy() > 0]] = True
    counts = _grid_counts(households, h_grid, len(g_code), center, figures)
    counts["centers_under_quota"] = _per_grid(np.where(below_quota, h_grid, -1), len(g_code))

    clock.step("summaries")
    h_out = _households(households, figures)
    grid_table = _grid_table(grids, layers["communities"], counts, uncovered, findings)
    gaps = _gaps(grid_table, h_out, h_grid, below_quota, households, findings, lost)
    grid_table["gap_count"] = _per_grid(
        pd.Index(g_code).get_indexer(gaps["grid_code"].astype(object).to_numpy()), len(g_code)
    )
    grid_table["grade"] = grid_grades(grid_table, opts.grades)
    community_table = _community_table(grid_table, layers["communities"], findings, opts.grades)
    street_table = street_table_of(community_table, layers["streets"], opts.grades)
    clock.stop()
    return Analysis(
        households=h_out,
        grids=grid_table,
        communities=community_table,
        streets=street_table,
        uncovered_areas=uncovered,
        findings=findings,
        gaps=gaps,
        unassigned=lost,
        centers=links.centers,
        frames={name: assigned[name] for name in DERIVED_LAYERS},
        timings=timings,
        notes=tuple(f.note for f in figures.values() if f.note is not None),
    )


class _Clock:
    """Times each step and reports it to the progress callback."""

    def __init__(self, timings: dict[str, float], on_step: Callable[[str], None] | None) -> None:
        self.timings, self.on_step = timings, on_step
        self.name: str | None = None
        self.start = 0.0

    def step(self, name: str) -> None:
        self.stop()
        if self.on_step:
            self.on_step(name)
        self.name, self.start = name, time.perf_counter()

    def stop(self) -> None:
        if self.name is not None:
            self.timings[self.name] = time.perf_counter() - self.start
            self.name = None


def _per_grid(pos: IntArray, n: int, weights: npt.ArrayLike | None = None) -> IntArray:
    """Count (or weighted sum) per grid position, ignoring -1."""
    return per_grid(pos, n, weights)


def _grid_counts(
    households: gpd.GeoDataFrame,
    h_grid: IntArray,
    n: int,
    center: npt.NDArray[np.bool_],
    figures: Mapping[str, Figures],
) -> dict[str, IntArray]:
    """Counts of each of the `n` grids: households themselves, then every measure's in registry order."""
    party = households["party_member"].fillna(False).to_numpy(dtype=bool)
    out = {
        "households": _per_grid(h_grid, n),
        "party_members": _per_grid(h_grid, n, party),
        "center_households": _per_grid(h_grid, n, center),
    }
    for found in figures.values():
        out.update(found.counts)
    return out


def _households(households: gpd.GeoDataFrame, figures: Mapping[str, Figures]) -> gpd.GeoDataFrame:
    """The contract's household table (columns taken over as they are: no per-row conversion)."""
    columns = ("code", "grid_code", "building_code", "party_member", "center_household")
    out = pd.DataFrame({name: households[name].array for name in columns})
    for found in figures.values():
        for name, values in found.households.items():
            out[name] = values
    return gpd.GeoDataFrame(out, geometry=households.geometry.array, crs=WGS84)


def _uncovered_areas(
    grids: gpd.GeoDataFrame, speakers: gpd.GeoDataFrame, metric: pyproj.CRS, options: CoverageOptions
) -> gpd.GeoDataFrame:
    """Each grid minus the union of working speaker ranges, with its area in m²."""
    g_geom = np.asarray(grids.geometry.to_crs(metric).values, dtype=object)
    g_geom = np.where(shapely.is_valid(g_geom), g_geom, shapely.make_valid(g_geom))
    ranges = speaker_ranges(speakers, metric, options)
    left = g_geom.copy()
    if len(ranges) and len(g_geom):
        grid_pos, range_pos = shapely.STRtree(ranges).query(g_geom, predicate="intersects")
        left = _subtract_ranges(g_geom, ranges, grid_pos, range_pos)
    area = shapely.area(left)
    return gpd.GeoDataFrame(
        {"grid_code": grids["code"].astype("string").to_numpy(), "area_m2": area},
        geometry=gpd.GeoSeries(left, crs=metric).to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )


def _subtract_ranges(
    grids: GeomArray, ranges: GeomArray, grid_pos: IntArray, range_pos: IntArray
) -> GeomArray:
    """Each grid minus the ranges paired with it.

    A grid inside one range is empty at once; the others lose their ranges
    one round at a time, each round one vectorised difference over every grid
    still having a range to subtract. Remainders shrink as they go, which
    makes this several times faster than a union of the ranges per grid.
    """
    left = grids.copy()
    shapely.prepare(ranges)
    inside = shapely.contains(ranges[range_pos], grids[grid_pos])
    covered = np.zeros(len(grids), dtype=bool)
    covered[grid_pos[inside]] = True
    left[covered] = shapely.from_wkt("POLYGON EMPTY")
    keep = ~covered[grid_pos]
    grid_pos, range_pos = grid_pos[keep], range_pos[keep]
    # Ranges in input order within each grid (not the tree's): the same speakers give the same shape
    # whatever else the tree holds, so a county analysed alone matches the whole run exactly.
    order = np.lexsort((range_pos, grid_pos))
    grid_pos, range_pos = grid_pos[order], range_pos[order]
    _, starts, sizes = np.unique(grid_pos, return_index=True, return_counts=True)
    turn = np.arange(len(grid_pos)) - np.repeat(starts, sizes)  # 0, 1, 2 … within each grid
    for j in range(int(turn.max(initial=-1)) + 1):
        now = turn == j
        g, r = grid_pos[now], range_pos[now]
        alive = ~shapely.is_empty(left[g])
        left[g[alive]] = shapely.difference(left[g[alive]], ranges[r[alive]])
    return left


def _text_present(series: pd.Series) -> npt.NDArray[np.bool_]:
    """Whether a text column holds something other than blanks."""
    return series.astype("string").fillna("").str.strip().ne("").to_numpy(dtype=bool)


def _findings_per_grid(findings: gpd.GeoDataFrame, codes: npt.NDArray[np.object_]) -> IntArray:
    """Error-level topology findings naming each grid."""
    errors = findings[findings["severity"] == "error"]
    named = errors["codes"].astype("string").fillna("").str.split(",").explode()
    return _per_grid(pd.Index(codes).get_indexer(named.astype(object).to_numpy()), len(codes))


def _grid_table(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    counts: dict[str, IntArray],
    uncovered: gpd.GeoDataFrame,
    findings: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Grids with the contract's figures (gap_count and grade are added once gaps are known)."""
    out = pd.DataFrame(grids.drop(columns="geometry"))
    streets = pd.Series(communities["street_code"].to_numpy(), index=communities["code"].to_numpy())
    street_code = pd.array(grids["community_code"].map(streets).astype(object).to_numpy(), dtype="string")
    out = _with_columns(
        out, {"street_code": street_code, **{name: counts[name] for name in COUNT_COLUMNS if name in counts}}
    )
    # With a party register the branches in force say it, else the grids' branch names.
    branches = counts.get("party_branches")
    g_code = grids["code"].astype(str).to_numpy(dtype=object)
    flags = {
        "has_party_branch": _text_present(grids["party_branch"]) if branches is None else branches > 0,
        "has_worker": _text_present(grids["worker_name"]),
        "topology_errors": _findings_per_grid(findings, g_code),
        "uncovered_area_m2": uncovered["area_m2"].to_numpy(),
    }
    out = _with_columns(out, {**_share_columns(out), **flags})
    return gpd.GeoDataFrame(out, geometry=grids.geometry.to_numpy(), crs=WGS84)


def _with_columns(table: pd.DataFrame, columns: Mapping[str, Any]) -> pd.DataFrame:
    """`table` with `columns` set in their order: those it holds replaced in place, the others appended
    in one concatenation (a DataFrame insert per column costs more than the figures of a community)."""
    new = {name: values for name, values in columns.items() if name not in table.columns}
    for name, values in columns.items():
        if name in table.columns:
            table[name] = values
    if not new:
        return table
    return pd.concat([table, pd.DataFrame(new, index=table.index)], axis=1)


def with_shares(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with every measure's share whose counts it holds (NaN where a unit has none to count)."""
    return _with_columns(table, _share_columns(table))


def _share_columns(table: pd.DataFrame) -> dict[str, FloatArray]:
    """Every measure's share whose counts the table holds (NaN where a unit has none to count)."""
    out: dict[str, FloatArray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for m in share_measures():
            if m.count in table and m.base in table:
                total = table[m.base].to_numpy(dtype=np.float64)
                out[m.column] = np.where(total > 0, table[m.count].to_numpy(dtype=np.float64) / total, np.nan)
    return out


def grid_grades(table: pd.DataFrame, rule: GradeRule) -> npt.NDArray[np.object_]:
    """Each grid's grade from its shares and problems (its figures otherwise complete)."""
    return rule.grade(rule.shares(table), _grid_problems(table))


def _grid_problems(table: pd.DataFrame) -> npt.NDArray[np.integer]:
    return (
        (~table["has_party_branch"]).astype(int)
        + (~table["has_worker"]).astype(int)
        + (table["topology_errors"] > 0).astype(int)
    ).to_numpy()


def _grouped_points(
    xy: FloatArray, pos: IntArray, n: int, located: npt.NDArray[np.bool_] | None = None
) -> tuple[IntArray, GeomArray]:
    """One MultiPoint per group position (0..n-1) that has any point: (positions, geometries).

    Built from coordinates (`xy`, n × 2, NaN for a missing point) through WKB,
    never a Python point per household. A group whose points all lack a
    location keeps its row, with an empty MultiPoint. `located` (which rows
    of `xy` are finite) may be given when several groupings share `xy`.
    """
    grouped = (pos >= 0) & (pos < n)
    rows = np.unique(pos[grouped])
    ok = grouped & (np.isfinite(xy).all(axis=1) if located is None else located)
    order = np.argsort(pos[ok], kind="stable")
    sizes = np.bincount(pos[ok], minlength=n)[rows]
    return rows, multipoints(xy[ok][order], sizes)


def _gap_rows(
    kind: str,
    grids: pd.DataFrame,
    rows: IntArray,
    geometry: GeomArray,
    number: IntArray | None = None,
) -> pd.DataFrame:
    """Gap rows of one kind for grid positions `rows`, described from `GAP_TEXT` with each grid's count."""
    codes = grids["code"].astype(str).to_numpy(dtype=object)[rows]
    counts = np.zeros(len(rows), dtype=np.int64) if number is None else number[rows]
    zh, en = GAP_TEXT[kind]
    return pd.DataFrame(
        {
            "kind": kind,
            "grid_code": codes,
            "description_zh": [zh.format(code=c, n=k) for c, k in zip(codes, counts, strict=True)],
            "description_en": [en.format(code=c, n=k) for c, k in zip(codes, counts, strict=True)],
            "geometry": geometry,
        }
    )


def household_gap_rows(
    kind: str,
    grids: pd.DataFrame,
    left_out: npt.NDArray[np.bool_],
    h_grid: IntArray,
    xy: FloatArray,
    located: npt.NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """Gap rows of a household gap `kind`: one per grid (positions `h_grid` among `grids`) with
    households `left_out`, their points (`xy`, lon/lat) as one MultiPoint, in grid order."""
    pos = np.where(left_out, h_grid, -1)
    rows, shapes = _grouped_points(xy, pos, len(grids), located)
    return _gap_rows(kind, grids, rows, shapes, _per_grid(pos, len(grids)))


def _gaps(
    grids: gpd.GeoDataFrame,
    h_out: gpd.GeoDataFrame,
    h_grid: IntArray,
    below_quota: npt.NDArray[np.bool_],
    households: gpd.GeoDataFrame,
    findings: gpd.GeoDataFrame,
    lost: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Everything a planner must act on, one row per (kind, grid)."""
    points = np.asarray(households.geometry.values, dtype=object)
    xy = np.column_stack([shapely.get_x(points), shapely.get_y(points)])
    located = np.isfinite(xy).all(axis=1)
    g_geom = np.asarray(grids.geometry.values, dtype=object)
    g_code = grids["code"].astype(str).to_numpy(dtype=object)
    parts: list[pd.DataFrame] = []

    # Households left out, as one MultiPoint per grid, for every measure's household gap.
    left_out: dict[str, npt.NDArray[np.bool_]] = {}
    for m in share_measures():
        gap = HOUSEHOLD_GAPS[m.gap]
        if f"{gap.code}_gap" in GAP_TEXT and gap.column in h_out:
            left_out[f"{gap.code}_gap"] = gap.left_out(h_out)
    left_out["linkage_quota"] = below_quota
    per_kind: dict[str, pd.DataFrame] = {}
    for kind, mask in left_out.items():
        per_kind[kind] = household_gap_rows(kind, grids, mask, h_grid, xy, located)

    for kind, flag in (("no_party_branch", "has_party_branch"), ("no_worker", "has_worker")):
        rows = np.flatnonzero(~grids[flag].to_numpy(dtype=bool))
        per_kind[kind] = _gap_rows(kind, grids, rows, shapely.point_on_surface(g_geom[rows]))
    for code, gap_kind in GAP_KINDS.items():  # kinds a per-grid count declares
        if gap_kind.count and gap_kind.count in grids:
            number = grids[gap_kind.count].to_numpy(dtype=np.int64)
            rows = np.flatnonzero(number > 0)
            per_kind[code] = _gap_rows(code, grids, rows, shapely.point_on_surface(g_geom[rows]), number)
    parts.extend(per_kind[kind] for kind in GAP_TEXT if kind in per_kind)  # in the registry's order

    parts.append(topology_gaps(findings, g_code))
    parts.append(unassigned_gaps(lost))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_gaps()
    table = pd.concat(parts, ignore_index=True)
    for name in ("kind", "grid_code", "description_zh", "description_en"):
        table[name] = table[name].astype("string")
    return gpd.GeoDataFrame(table, geometry="geometry", crs=WGS84)


def topology_gaps(findings: gpd.GeoDataFrame, g_code: npt.NDArray[np.object_]) -> pd.DataFrame:
    """One row per topology finding and grid it names (a finding naming no grid keeps a null grid)."""
    if len(findings) == 0:
        return pd.DataFrame()
    named = findings.assign(grid_code=findings["codes"].astype("string").fillna("").str.split(","))
    named = named.explode("grid_code")
    known = pd.Index(g_code).get_indexer(named["grid_code"].astype(object).to_numpy()) >= 0
    named["grid_code"] = named["grid_code"].where(known, None)
    named = named[~named.duplicated(subset=["kind", "codes", "grid_code", "area_m2", "location"])]
    return pd.DataFrame(
        {
            "kind": ("topology_" + named["kind"].astype(str)).to_numpy(),
            "grid_code": named["grid_code"].to_numpy(),
            "description_zh": named["message_zh"].to_numpy(),
            "description_en": named["message_en"].to_numpy(),
            "geometry": named.geometry.to_numpy(),
        }
    )


def unassigned_gaps(lost: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per layer with points in no grid."""
    rows = []
    for layer, group in lost.groupby("layer", sort=True):
        k = len(group)
        rows.append(
            {
                "kind": "unassigned",
                "grid_code": None,
                "description_zh": f"{k} {_LAYER_ZH.get(str(layer), '个要素')}不属于任何网格",
                "description_en": f"{k} {layer} lie in no grid",
                "geometry": shapely.multipoints(np.asarray(group.geometry.values, dtype=object)),
            }
        )
    return pd.DataFrame(rows)


def _empty_gaps() -> gpd.GeoDataFrame:
    columns = {
        name: pd.Series([], dtype="string")
        for name in ("kind", "grid_code", "description_zh", "description_en")
    }
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def _rollup(child: pd.DataFrame, key: str, parents: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`parents` without geometry, plus the sums of `child` columns per parent (zeros where none)."""
    sums = child.groupby(key, sort=False)[columns].sum()
    out = pd.DataFrame(parents.drop(columns="geometry")).reset_index(drop=True)
    at = pd.Index(sums.index.astype(object)).get_indexer(out["code"].astype(object).to_numpy())
    found = at >= 0
    sums_of: dict[str, object] = {}
    for name in columns:  # one lookup of the parents among the sums for every column
        column = sums[name].to_numpy()
        sums_of[name] = np.where(found, column[np.maximum(at, 0)] if len(column) else 0, 0).astype(
            column.dtype
        )
    return _with_columns(out, sums_of)


def _community_table(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    findings: gpd.GeoDataFrame,
    rule: GradeRule,
) -> gpd.GeoDataFrame:
    """Grid figures summed per community, with its own grade."""
    child = pd.DataFrame(grids.drop(columns="geometry"))
    child["grids"] = 1
    child["grids_without_party_branch"] = (~child["has_party_branch"]).astype(int)
    child["grids_without_worker"] = (~child["has_worker"]).astype(int)
    levels = ["grids", "grids_without_party_branch", "grids_without_worker", "gap_count", "uncovered_area_m2"]
    out = _rollup(child, "community_code", communities, [*_counted(child), *levels])
    codes = out["code"].astype(str).to_numpy()
    errors = findings[findings["severity"] == "error"]
    out["topology_errors"] = errors.groupby("community_code").size().reindex(codes, fill_value=0).to_numpy()
    # Findings naming no grid (a gap in the community, an invalid community) are the community's own gaps.
    g_code = grids["code"].astype(str).to_numpy(dtype=object)
    own = findings[~_names_a_grid(findings, g_code)]
    out["gap_count"] += own.groupby("community_code").size().reindex(codes, fill_value=0).to_numpy()
    return finish_level(out, communities.geometry.to_numpy(), rule)


def _counted(table: pd.DataFrame) -> list[str]:
    """The count columns a unit table holds (a measure that could not be taken has none)."""
    return [name for name in COUNT_COLUMNS if name in table]


def _names_a_grid(findings: gpd.GeoDataFrame, g_code: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """Whether each finding names at least one known grid among its codes."""
    named = findings["codes"].astype("string").fillna("").str.split(",").explode()
    known = pd.Index(g_code).get_indexer(named.astype(object).to_numpy()) >= 0
    return (
        pd.Series(known, index=named.index)
        .groupby(level=0)
        .any()
        .reindex(findings.index, fill_value=False)
        .to_numpy()
    )


def street_table_of(
    communities: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, rule: GradeRule
) -> gpd.GeoDataFrame:
    """Community figures summed per street, with its own grade."""
    child = pd.DataFrame(communities.drop(columns="geometry"))
    child["communities"] = 1
    levels = [
        "communities",
        "grids",
        "grids_without_party_branch",
        "grids_without_worker",
        "topology_errors",
        "gap_count",
        "uncovered_area_m2",
    ]
    out = _rollup(child, "street_code", streets, [*_counted(child), *levels])
    return finish_level(out, streets.geometry.to_numpy(), rule)


def finish_level(out: pd.DataFrame, geometry: GeomArray, rule: GradeRule) -> gpd.GeoDataFrame:
    """Integer counts, shares and the grade of a community or street table."""
    counted = [
        name
        for name in out.columns
        if (
            name in COUNT_COLUMNS or name.startswith(("grids", "communities", "topology_errors", "gap_count"))
        )
        and out[name].dtype != np.int64
    ]
    out = out.astype(dict.fromkeys(counted, np.int64)) if counted else out
    out = with_shares(out)
    problems = (
        (out["grids_without_party_branch"] > 0).astype(int)
        + (out["grids_without_worker"] > 0).astype(int)
        + (out["topology_errors"] > 0).astype(int)
    ).to_numpy()
    out["grade"] = rule.grade(rule.shares(out), problems)
    return gpd.GeoDataFrame(out, geometry=geometry, crs=WGS84)
