"""`gridmap assign` and `gridmap analyze`: who belongs to which grid, and where coverage has gaps."""

from __future__ import annotations

import contextlib
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import pandas as pd
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from gridmap.analysis import Analysis, AnalysisOptions, analyze, read_input, read_inputs
from gridmap.assignment import assign, unassigned, write_assignment
from gridmap.cases.desk import CaseDesk
from gridmap.catalogue import LAYER_NAMES, LAYERS
from gridmap.cli.app import StoreOption, app, console
from gridmap.coverage import CoverageOptions
from gridmap.distributed.partitions import MANIFEST, MAX_HOUSEHOLDS, write_layers
from gridmap.lookup import LookupService
from gridmap.measures.walking import life_circle_counts, life_circles_of
from gridmap.party.service import party_sheets
from gridmap.reports import write_outputs
from gridmap.stores import Store, open_store
from gridmap.texts import LANGS, language, say
from gridmap.vocabulary import share_measures


def _read_all(store: Store, progress: Progress, narrow: bool = False) -> dict[str, gpd.GeoDataFrame]:
    """Every layer; with `narrow`, the largest with only the fields the analysis reads (Arrow)."""
    task = progress.add_task(say("cli.analyze.reading"), total=len(LAYER_NAMES))

    def reading(name: str) -> None:
        progress.update(
            task, description=say("cli.export.reading", layer=name), completed=list(LAYER_NAMES).index(name)
        )

    frames = read_inputs(store, narrow=narrow, on_layer=reading)
    progress.remove_task(task)
    return frames


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@app.command("assign")
def assign_command(store: StoreOption = None) -> None:
    """Derive grid_code of buildings, households, service points and speakers, and save it in the store."""
    with open_store(store, create=False) as opened, _progress() as progress:
        frames = _read_all(opened, progress)
        progress.add_task(say("cli.assign.assigning"), total=None)
        assigned = assign(frames)
        written = write_assignment(opened, assigned)
    for layer, count in written.items():
        total = len(assigned[layer])
        console.print(
            say("cli.assign.counted", layer=layer, label=LAYERS[layer].label_zh, n=count, total=total),
            highlight=False,
        )
    lost = unassigned(assigned)
    if len(lost):
        console.print(say("cli.assign.lost", n=len(lost)))


def case_sheets(store: Store) -> list[tuple[str, pd.DataFrame]]:
    """The case statistics sheets of the workbook (none when the store holds no cases)."""
    desk = CaseDesk(store, LookupService(store))
    return desk.workbook_sheets() if desk.book.count() else []


class Engine(StrEnum):
    """Where the analysis runs: this process, or dask.distributed county by county."""

    SINGLE = "single"
    DASK = "dask"


@app.command("analyze")
def analyze_command(
    out: Annotated[
        Path | None,
        typer.Option(),
    ] = None,
    quota: Annotated[int, typer.Option()] = 10,
    ambient_db: Annotated[float, typer.Option()] = 55.0,
    engine: Annotated[
        Engine,
        typer.Option(),
    ] = Engine.SINGLE,
    scheduler: Annotated[
        str | None,
        typer.Option(),
    ] = None,
    partitions: Annotated[
        Path | None,
        typer.Option(),
    ] = None,
    part_households: Annotated[
        int,
        typer.Option(min=1),
    ] = MAX_HOUSEHOLDS,
    store: StoreOption = None,
) -> None:
    """Coverage, linkage, governance and topology of every grid, community and street."""
    options = AnalysisOptions(coverage=CoverageOptions(ambient_db=ambient_db), quota=quota)
    circles = out is not None
    if engine is Engine.DASK and partitions is not None and (partitions / MANIFEST).exists():
        with _progress() as progress:
            task = progress.add_task(say("cli.analyze.partitions", path=partitions), total=None)
            result, counts = _dask_result(partitions, options, scheduler, part_households, circles)
            if out is not None:
                progress.update(task, description=say("cli.sample.writing", out=out))
                written = _write(result, out, life_circles_of(result, counts), [])
    else:
        with open_store(store, create=False) as opened, _progress() as progress:
            if engine is Engine.DASK:
                result, counts = _analyze_on_dask(
                    opened, progress, options, scheduler, partitions, part_households, circles
                )
            else:
                frames = _read_all(opened, progress, narrow=True)
                task = progress.add_task(say("cli.analysing"), total=None)
                result = analyze(
                    frames, options, on_step=lambda name: progress.update(task, description=name)
                )
                counts = (
                    life_circle_counts(result, frames.get("roads"), options.walking)
                    if circles
                    else pd.DataFrame()
                )
            if out is not None:
                progress.add_task(f"writing {out}", total=None)
                written = _write(
                    result,
                    out,
                    life_circles_of(result, counts),
                    [*case_sheets(opened), *party_sheets(opened)],
                )
    _print_summary(result)
    if out is not None:
        names = say("list.comma").join(p.name for p in written.values())
        console.print(say("cli.analyze.wrote", files=names, out=out), highlight=False)


def _write(
    result: Analysis, out: Path, circles: pd.DataFrame, sheets: list[tuple[str, pd.DataFrame]]
) -> dict[str, Path]:
    """The output files, with `sheets` and the life circles (when roads are loaded) in the workbook."""
    return write_outputs(result, out, [*sheets, *([("生活圈", circles)] if len(circles) else [])])


def _analyze_on_dask(
    store: Store,
    progress: Progress,
    options: AnalysisOptions,
    scheduler: str | None,
    partitions: Path | None,
    part_households: int,
    circles: bool,
) -> tuple[Analysis, pd.DataFrame]:
    """Write the store's layers as county partitions (one layer at a time, only the fields the
    analysis reads), analyse them on the cluster, and merge the results (`_dask_result`)."""
    with contextlib.ExitStack() as stack:
        root = partitions or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gridmap-dask-")))
        task = progress.add_task(say("cli.analyze.reading"), total=None)

        def read(layer: str) -> gpd.GeoDataFrame:
            progress.update(task, description=say("cli.analyze.reading_layer", layer=layer))
            return read_input(store, layer, narrow=True)

        write_layers(read, root)
        progress.update(task, description=say("cli.analyze.on_dask"))
        return _dask_result(root, options, scheduler, part_households, circles)


def _dask_result(
    root: Path, options: AnalysisOptions, scheduler: str | None, part_households: int, circles: bool
) -> tuple[Analysis, pd.DataFrame]:
    """Analyse the partitions under `root` on the cluster and merge the results (without the derived
    layers, which the outputs do not read); with `circles`, the life-circle counts the workers took."""
    # dask takes about a second to import: only the commands that use it pay for it.
    from gridmap.distributed.engine import analyze_partitioned, cluster, life_circles, merge

    with cluster(scheduler) as client:
        runs = analyze_partitioned(
            root, client, options, max_households=part_households, life_circles=circles
        )
    return merge(runs, options.grades, layers=()), life_circles(runs)


def _share(value: float) -> str:
    return "–" if value != value else f"{value:.1%}"


def _print_summary(result: Analysis) -> None:
    shown = [m for m in share_measures() if m.column in result.streets and m.base == "households"]
    lang = language()
    table = Table(title=say("cli.analyze.streets"), title_justify="left")
    table.add_column(say("cli.analyze.street"))
    headers = (
        say("cli.analyze.households"),
        *(m.short(lang) for m in shown),
        say("cli.analyze.no_branch"),
        say("cli.analyze.no_worker"),
        say("cli.analyze.gaps"),
        say("cli.analyze.grade"),
    )
    for header in headers:
        table.add_column(header, justify="right")
    for row in result.streets.to_dict("records"):
        table.add_row(
            str(row["name"]),
            f"{row['households']:,}",
            *(_share(row[m.column]) for m in shown),
            f"{row['grids_without_party_branch']:,}",
            f"{row['grids_without_worker']:,}",
            f"{row['gap_count']:,}",
            str(row["grade"]),
        )
    console.print(table)
    t = result.totals()
    grades = result.grids["grade"].value_counts().reindex(list("ABCD"), fill_value=0)
    comma = say("list.comma")
    console.print(
        say(
            "cli.analyze.totals",
            households=int(t["households"]),
            grids=int(t["grids"]),
            shares=comma.join(f"{m.label(lang)} {_share(t[m.column])}" for m in shown),
        ),
        highlight=False,
    )
    for note in result.notes:
        console.print(note[LANGS.index(lang)], highlight=False)
    console.print(
        say(
            "cli.analyze.grades",
            grades=comma.join(f"{g} {n:,}" for g, n in grades.items()),
            no_branch=int(t["grids_without_party_branch"]),
            no_worker=int(t["grids_without_worker"]),
        ),
        highlight=False,
    )
    console.print(
        say(
            "cli.analyze.gaps_line",
            uncovered=int(t["uncovered_households"]),
            km2=t["uncovered_area_m2"] / 1e6,
            centers=int(t["centers_under_quota"]),
            topology=int(t["topology_errors"]),
            unassigned=int(t["unassigned"]),
        ),
        highlight=False,
    )
