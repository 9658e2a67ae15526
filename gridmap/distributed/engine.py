"""Run the analysis county by county on dask.distributed, and put the counties' results together.

`analyze_partitioned(root, client)`: (1) each county's outline and strays, one
task per county; (2) strays placed and sites lent across county lines
(`gridmap.distributed.spread`, dask-geopandas); (3) `gridmap.analysis.analyze`,
the same pure function the single-process run calls, one task per county, or,
for a county of more than `max_households` households (a city), one task to
cut it into parts of whole communities (`gridmap.distributed.parts`) and one
per part; each task writes its result under `ROOT/results/<county>[/<part>]/`
as GeoParquet and returns only its headline figures; (4) `merge` reads them
back into one `Analysis` when the caller wants one (a city; a province stays
on disk), summing streets again from their communities.

`cluster(scheduler)`: a client on the given scheduler address, or on a
LocalCluster of this machine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import dask
import geopandas as gpd
import pandas as pd
import pyproj
from distributed import Client, LocalCluster, as_completed

from gridmap.analysis import (
    WHOLE_LAYERS,
    Analysis,
    AnalysisOptions,
    GradeRule,
    Projections,
    analyze,
    street_table_of,
    unassigned_gaps,
)
from gridmap.assignment import DERIVED_LAYERS
from gridmap.distributed.partitions import MAX_HOUSEHOLDS, layer_rows, read_counties
from gridmap.distributed.parts import CountySplit, part_frames, split_county
from gridmap.distributed.spread import (
    Moves,
    county_frames,
    county_outline,
    lend_sites,
    outlines_frame,
    place_strays,
)
from gridmap.frames import WGS84
from gridmap.measures.walking import life_circle_counts

RESULTS = "results"
CIRCLES = "life_circles"
STREET_LAYER = "street_layer"  # the streets a result's table was made of, to sum them again in `merge`
_CONNECT_TIMEOUT = "120s"  # a busy machine can take long to start a cluster: wait rather than fail
TABLES = (
    "households",
    "grids",
    "communities",
    "streets",
    "uncovered_areas",
    "findings",
    "gaps",
    "unassigned",
)


@dataclass(frozen=True)
class CountyRun:
    """What a county's task sends back: its headline figures, step timings and where its result lies."""

    county: str
    totals: dict[str, int | float]
    timings: dict[str, float]
    path: str


@contextlib.contextmanager
def cluster(
    scheduler: str | None = None, *, workers: int = 2, memory_limit: str = "4GiB", processes: bool = True
) -> Iterator[Client]:
    """A dask.distributed client: on `scheduler` (tcp://host:port) or on a LocalCluster of `workers`.

    The local cluster listens on loopback only; `processes=False` runs its
    workers as threads of this process (quick to start, for tests).
    """
    if scheduler:
        with Client(scheduler, timeout=_CONNECT_TIMEOUT) as client:
            yield client
        return
    with (
        dask.config.set({"distributed.comm.timeouts.connect": _CONNECT_TIMEOUT}),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            memory_limit=memory_limit,
            host="127.0.0.1",
            protocol="tcp://",
            scheduler_port=0,
            dashboard_address=None,
            # Its HTTP routes (health, metrics) on a free port: 8787 may be another cluster's.
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            processes=processes,
        ) as local,
        Client(local) as client,
    ):
        yield client


def analyze_partitioned(
    root: str | Path,
    client: Client,
    options: AnalysisOptions | None = None,
    *,
    max_households: int = MAX_HOUSEHOLDS,
    life_circles: bool = False,
) -> list[CountyRun]:
    """Analyse every county of a partition directory on `client`'s cluster; results under ROOT/results.

    A county of more than `max_households` households is cut into parts of at
    most that many (whole communities), analysed one task each. With
    `life_circles`, each task also counts its grids' life circles (`life_circles`
    reads them back), so the driver never walks the city.
    """
    opts = options or AnalysisOptions()
    root = str(Path(root).resolve())
    counties = read_counties(root)
    moves = cross_county_moves(root, client, opts)
    shared = client.scatter(moves, broadcast=True)
    large = [c for c in counties if layer_rows(root, "households", c) > max_households]
    small = [c for c in counties if c not in large]
    futures = client.map(
        analyze_county,
        [root] * len(small),
        small,
        moves=shared,
        options=opts,
        circles=life_circles,
        pure=False,
    )
    splits = client.map(
        split_county,
        [root] * len(large),
        large,
        moves=shared,
        options=opts,
        max_households=max_households,
        pure=False,
    )
    for done in as_completed(splits):  # a county's parts start as soon as it is cut
        split: CountySplit = done.result()
        futures += client.map(
            analyze_part,
            [root] * len(split.parts),
            [split.county] * len(split.parts),
            split.parts,
            measure=split.measure,
            options=opts,
            circles=life_circles,
            pure=False,
        )
    return list(client.gather(futures))


def cross_county_moves(root: str | Path, client: Client, options: AnalysisOptions) -> Moves:
    """Settle what crosses county lines: outlines per county on the cluster, then strays and lent sites."""
    root = str(Path(root).resolve())
    counties = read_counties(root)
    outlines = client.gather(client.map(county_outline, [root] * len(counties), counties, pure=False))
    moves = Moves()
    place_strays(outlines, moves)
    walks = sum(layer_rows(root, layer, c) for layer in WHOLE_LAYERS for c in counties) > 0
    walking_m = options.walking.cutoff_m if walks else 0.0
    lend_sites(root, counties, outlines_frame(outlines), options.coverage, moves, walking_m)
    return moves


def analyze_county(
    root: str, county: str, *, moves: Moves, options: AnalysisOptions, circles: bool = False
) -> CountyRun:
    """The single-process analysis of one county (with its strays and guest sites), written to disk
    (with `circles`, its life-circle counts too)."""
    frames, guests = county_frames(root, county, moves)
    result = analyze(frames, options)
    return _finish(result, guests, frames, Path(root) / RESULTS / county, county, options, circles, None)


def analyze_part(
    root: str,
    county: str,
    part: str,
    *,
    measure: Projections,
    options: AnalysisOptions,
    circles: bool = False,
) -> CountyRun:
    """The single-process analysis of one part of a county (with its guest sites), written to disk."""
    frames, guests = part_frames(root, county, part)
    result = analyze(frames, options, measure=measure)
    path = Path(root) / RESULTS / county / part
    return _finish(result, guests, frames, path, f"{county}/{part}", options, circles, measure.analysis)


def _finish(
    result: Analysis,
    guests: dict[str, set[str]],
    frames: dict[str, gpd.GeoDataFrame],
    path: Path,
    name: str,
    options: AnalysisOptions,
    circles: bool,
    metric: pyproj.CRS | None,
) -> CountyRun:
    """Write a county's or part's result without its guests; its life circles walk to them too."""
    counts = life_circle_counts(result, frames.get("roads"), options.walking, metric) if circles else None
    result = _without_guests(result, guests)
    write_result(result, path, frames["streets"], counts)
    return CountyRun(name, result.totals(), result.timings, str(path))


def county_analysis(root: str | Path, county: str, moves: Moves, options: AnalysisOptions) -> Analysis:
    """`analyze` on one county's layers, without the guest sites in what it reports as the county's own."""
    frames, guests = county_frames(root, county, moves)
    return _without_guests(analyze(frames, options), guests)


def _without_guests(result: Analysis, guests: dict[str, set[str]]) -> Analysis:
    """Drop guest sites from the county's assigned layers and unassigned list (they are their county's)."""
    if not guests:
        return _without_unassigned_gaps(result)
    for layer, codes in guests.items():
        frame = result.frames[layer]
        result.frames[layer] = frame[~frame["code"].isin(codes)].reset_index(drop=True)
    lost = result.unassigned
    guest = pd.Series(False, index=lost.index)
    for layer, codes in guests.items():
        guest |= (lost["layer"] == layer) & lost["code"].isin(codes)
    result.unassigned = lost[~guest].reset_index(drop=True)
    return _without_unassigned_gaps(result)


def _without_unassigned_gaps(result: Analysis) -> Analysis:
    """The unassigned summary rows are made once for the whole area, by `merge`."""
    result.gaps = result.gaps[result.gaps["kind"] != "unassigned"].reset_index(drop=True)
    return result


def write_result(
    result: Analysis, path: Path, streets: gpd.GeoDataFrame, circles: pd.DataFrame | None = None
) -> None:
    """One county's (or part's) result as GeoParquet / Parquet files in `path`, with the `streets`
    layer its street table was made of and its life-circle counts (when taken)."""
    path.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        getattr(result, name).to_parquet(path / f"{name}.parquet", index=False)
    result.centers.to_parquet(path / "centers.parquet", index=False)
    for layer in DERIVED_LAYERS:
        result.frames[layer].to_parquet(path / f"frame_{layer}.parquet", index=False)
    streets.to_parquet(path / f"{STREET_LAYER}.parquet", index=False)
    if circles is not None:
        circles.to_parquet(path / f"{CIRCLES}.parquet", index=False)


def life_circles(runs: list[CountyRun]) -> pd.DataFrame:
    """The life-circle counts of every county and part (`gridmap.measures.walking.life_circles_of`
    makes the sheet of them)."""
    found = [Path(run.path) / f"{CIRCLES}.parquet" for run in runs]
    tables = [pd.read_parquet(path) for path in found if path.exists()]
    return (
        pd.concat([t for t in tables if len(t)], ignore_index=True)
        if any(len(t) for t in tables)
        else pd.DataFrame()
    )


def read_result(path: str | Path, layers: Sequence[str] = DERIVED_LAYERS) -> Analysis:
    """A county's result as `write_result` left it (gaps without the unassigned summary), with the
    derived `layers` asked for."""
    path = Path(path)
    tables = {name: gpd.read_parquet(path / f"{name}.parquet") for name in TABLES}
    frames = {layer: gpd.read_parquet(path / f"frame_{layer}.parquet") for layer in layers}
    return Analysis(**tables, centers=pd.read_parquet(path / "centers.parquet"), frames=frames, timings={})


def merge(
    runs: list[CountyRun], grades: GradeRule | None = None, layers: Sequence[str] = DERIVED_LAYERS
) -> Analysis:
    """One `Analysis` from the counties' (and parts') results: tables concatenated in code order,
    streets summed again from all communities (by `grades`: the analysis' rule), unassigned
    summarised; of the derived layers (`Analysis.frames`) only `layers`, which a caller writing
    only the outputs does without."""
    ordered = sorted(runs, key=lambda r: r.county)
    parts = [read_result(run.path, layers) for run in ordered]
    tables = {name: _concat([getattr(p, name) for p in parts]) for name in TABLES}
    for name, key in (("households", "code"), ("grids", "code"), ("communities", "code")):
        tables[name] = tables[name].sort_values(key, ignore_index=True)
    layer = _concat([gpd.read_parquet(Path(run.path) / f"{STREET_LAYER}.parquet") for run in ordered])
    layer = layer.drop_duplicates("code").sort_values("code", ignore_index=True)
    tables["streets"] = street_table_of(tables["communities"], layer, grades or GradeRule())
    summary = unassigned_gaps(tables["unassigned"])
    if len(summary):
        gaps = pd.concat([tables["gaps"], summary], ignore_index=True)
        for name in ("kind", "grid_code", "description_zh", "description_en"):
            gaps[name] = gaps[name].astype("string")
        tables["gaps"] = gpd.GeoDataFrame(gaps, geometry="geometry", crs=WGS84)
    frames = {
        layer: _concat([p.frames[layer] for p in parts]).sort_values("code", ignore_index=True)
        for layer in layers
    }
    timings: dict[str, float] = {}
    for run in runs:
        for step, seconds in run.timings.items():
            timings[step] = timings.get(step, 0.0) + seconds
    centers = pd.concat([p.centers for p in parts], ignore_index=True).sort_values("code", ignore_index=True)
    return Analysis(**tables, centers=centers, frames=frames, timings=timings)


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    kept = [f for f in frames if len(f)] or frames[:1]
    return gpd.GeoDataFrame(pd.concat(kept, ignore_index=True), geometry="geometry", crs=WGS84)
