"""`gridmap demo`: the whole chain on the sample district; `gridmap sample`: write a generated district."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from gridmap.analysis import Analysis, analyze, party_inputs
from gridmap.assignment import write_assignment
from gridmap.cases.desk import CaseDesk
from gridmap.catalogue import LAYER_NAMES, LAYERS
from gridmap.cli.app import StoreOption, app, console
from gridmap.cli.cases import seed_cases
from gridmap.lookup import LookupService
from gridmap.party.sample import seed_chain
from gridmap.sample import (
    DEFAULT_SEED,
    DIRTY_DIR,
    SAMPLE_DIR,
    District,
    generate_dirty,
    load_sample,
    plan,
    write_district,
    write_sample,
)
from gridmap.sample.files import directory_size
from gridmap.sample.layout import MAX_SCALE
from gridmap.sample.province import CountyWritten, write_province
from gridmap.stores import open_store
from gridmap.texts import language, say
from gridmap.visits.patrols import seed_patrols
from gridmap.visits.sample import PATROL_WEEKS
from gridmap.visits.service import coverage_input, seed_visits
from gridmap.vocabulary import graded_measures, share_measures

# The steps of the demo, as the progress bar names them; analysis reports its own sub-steps.
_STEPS = ("load", "read", "analyse", "save", "cases", "maps")
"""The demo's steps, each said by `cli.demo.step.<step>`."""
TOP_GAPS = 5


@app.command("demo")
def demo_command(
    out: Annotated[Path, typer.Option()] = Path("maps"),
    data: Annotated[
        Path | None,
        typer.Option(),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Load the sample district (replacing the store's layers), analyse it and write the coverage map."""
    from gridmap.maps import coverage_map, grid_map, write_html  # a third of a second: only demo pays

    steps = [say(f"cli.demo.step.{step}") for step in _STEPS]
    with open_store(store) as opened, _progress() as progress:
        task = progress.add_task(steps[0], total=len(steps))
        load_sample(opened, data)
        visits = seed_visits(opened)
        patrols = seed_patrols(opened)
        chain = seed_chain(opened)
        progress.update(task, advance=1, description=steps[1])
        frames = {name: opened.read(name) for name in LAYER_NAMES}
        status = coverage_input(opened, frames["households"]["code"])
        if status is not None:
            frames["visit_status"] = status
        frames.update(party_inputs(opened))
        progress.update(task, advance=1, description=steps[2])
        analysis = analyze(
            frames, on_step=lambda step: progress.update(task, description=f"{steps[2]}: {step}")
        )
        progress.update(task, advance=1, description=steps[3])
        write_assignment(opened, analysis.frames)
        progress.update(task, advance=1, description=steps[4])
        seeded = seed_cases(opened)
        cases = CaseDesk(opened, LookupService(opened)).statistics("street")
        progress.update(task, advance=1, description=steps[5])
        district = write_html(coverage_map(analysis, frames=frames), out / "coverage.html")
        worst = str(_by_gap(analysis)["code"].iloc[0])
        detail = write_html(grid_map(analysis, frames, worst), out / f"grid_{worst}.html")
        progress.update(task, advance=1)
    _print_summary(analysis, _summary_title(data))
    _print_cases(seeded, cases)
    console.print(say("cli.demo.visits", n=visits), highlight=False)
    console.print(say("cli.demo.patrols", weeks=PATROL_WEEKS, n=patrols), highlight=False)
    console.print(
        say(
            "cli.demo.party",
            orgs=chain["party_orgs"],
            members=chain["party_members"],
            links=chain["party_links"],
        ),
        highlight=False,
    )
    console.print(say("cli.demo.open_map", path=district.resolve()), highlight=False, soft_wrap=True)
    console.print(say("cli.demo.worst_grid", path=detail.resolve()), highlight=False, soft_wrap=True)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _by_gap(analysis: Analysis) -> pd.DataFrame:
    """Grids by households outside working speaker range, most first (ties: lowest code)."""
    return analysis.grids.sort_values(["uncovered_households", "code"], ascending=[False, True])


def _share(value: object) -> str:
    """A share as a percentage; a dash where it is undefined (no households)."""
    return f"{value:.1%}" if isinstance(value, float) and value == value else "–"


def _summary_title(data: Path | None) -> str:
    """The summary names the data it describes: the sample district, or the directory loaded."""
    if data is None or data.resolve() == SAMPLE_DIR.resolve():
        return say("cli.demo.sample")
    if data.resolve() == DIRTY_DIR.resolve():
        return say("cli.demo.dirty")
    return say("cli.demo.summary_of", name=data.name)


def _print_summary(analysis: Analysis, title: str) -> None:
    """Counts and shares of the district, then the grids with the largest gaps."""
    t = analysis.totals()
    summary = Table(title=title, title_justify="left", show_header=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    lang = language()
    rows = [
        (say("cli.demo.streets"), f"{len(analysis.streets):,}"),
        (say("cli.demo.communities"), f"{len(analysis.communities):,}"),
        (say("cli.demo.grids"), f"{len(analysis.grids):,}"),
        (say("cli.demo.households"), f"{int(t['households']):,}"),
        *((m.label(lang), _share(t[m.column])) for m in share_measures() if m.column in t),
        (say("cli.demo.no_branch"), f"{int(t['grids_without_party_branch']):,}"),
        (say("cli.demo.no_worker"), f"{int(t['grids_without_worker']):,}"),
        (say("cli.demo.topology"), f"{int(t['topology_errors']):,}"),
        (say("cli.demo.unassigned"), f"{int(t['unassigned']):,}"),
    ]
    for label, value in rows:
        summary.add_row(label, value)
    console.print(summary)

    top = _by_gap(analysis).head(TOP_GAPS)
    gaps = Table(title=say("cli.demo.top_gaps"), title_justify="left")
    shown = graded_measures()
    gaps.add_column(say("cli.demo.grid_code"), no_wrap=True)
    gaps.add_column(say("cli.demo.name"), no_wrap=True)
    for header in (say("cli.demo.uncovered"), *(m.short(lang) for m in shown), say("cli.analyze.grade")):
        gaps.add_column(header, justify="right", no_wrap=True)
    for row in top.to_dict("records"):
        gaps.add_row(
            str(row["code"]),
            str(row["name"]),
            f"{row['uncovered_households']:,}",
            *(_share(row[m.column]) for m in shown),
            str(row["grade"]),
        )
    console.print(gaps)


def _print_cases(seeded: int, by_street: pd.DataFrame) -> None:
    """The seeded year of cases in one line per street: the loop the console and the API show."""
    table = Table(title=say("cli.demo.cases", n=seeded), title_justify="left")
    table.add_column(say("cli.analyze.street"))
    for header in ("received", "closed", "on_time", "hours", "overdue"):
        table.add_column(say(f"cli.demo.cases.{header}"), justify="right")
    for row in by_street.itertuples():
        table.add_row(
            str(row.name),
            f"{row.received:,}",
            f"{row.closed:,}",
            _share(row.on_time_rate),
            f"{row.avg_handling_hours:.1f}",
            f"{row.overdue_now:,}",
        )
    console.print(table)


@app.command("sample")
def sample_command(
    out: Annotated[Path, typer.Option()],
    scale: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_SCALE,
        ),
    ] = 1,
    seed: Annotated[int, typer.Option()] = DEFAULT_SEED,
    dirty: Annotated[bool, typer.Option()] = False,
) -> None:
    """Generate the sample district (or a larger one) and write it as GeoJSON and CSV files.

    Scale 400 is a city of about ten million households; households are
    written chunk by chunk, so memory stays a few gigabytes at any scale.
    """
    started = time.perf_counter()
    with console.status(say("cli.sample.generating", scale=scale)):
        if dirty:
            frames = generate_dirty(scale, seed)
        else:
            district = plan(scale, seed)
    generated = time.perf_counter() - started
    with console.status(say("cli.sample.writing", out=out)):
        if dirty:
            write_sample(frames, out)
        else:
            write_district(district, out)
    counts = {k: len(v) for k, v in frames.items()} if dirty else _district_counts(district)
    for layer, count in counts.items():
        console.print(f"{LAYERS[layer].label_zh} {layer}: {count:,}", highlight=False)
    console.print(
        say("cli.sample.done", seconds=generated, mib=directory_size(out) / 2**20, out=out), highlight=False
    )


@app.command("province")
def province_command(
    out: Annotated[Path, typer.Option()],
    province: Annotated[str, typer.Option()] = "42",
    counties: Annotated[int, typer.Option(min=1)] = 40,
    scale: Annotated[int, typer.Option(min=1, max=MAX_SCALE)] = 20,
    seed: Annotated[int, typer.Option()] = DEFAULT_SEED,
) -> None:
    """Generate a synthetic province inside real county boundaries, as partitions for `--engine dask`."""
    started = time.perf_counter()
    total = 0

    def report(county: CountyWritten) -> None:
        nonlocal total
        total += county.households
        console.print(
            say(
                "cli.province.county",
                code=county.code,
                name=county.name,
                streets=county.streets,
                grids=county.grids,
                households=county.households,
            ),
            highlight=False,
        )

    written = write_province(
        out, province=province, counties=counties, scale=scale, seed=seed, progress=report
    )
    seconds = time.perf_counter() - started
    console.print(
        say("cli.province.done", counties=len(written), households=total, seconds=seconds, out=out),
        highlight=False,
    )


def _district_counts(district: District) -> dict[str, int]:
    counts = {name: len(frame) for name, frame in district.layers.items()}
    counts["households"] = district.household_count
    return {name: counts[name] for name in LAYER_NAMES}
