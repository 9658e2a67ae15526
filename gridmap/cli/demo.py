"""`gridmap demo`: the whole chain on the sample district; `gridmap sample`: write a generated district."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from gridmap.analysis import Analysis, analyze
from gridmap.assignment import write_assignment
from gridmap.cases.desk import CaseDesk
from gridmap.catalogue import LAYER_NAMES, LAYERS
from gridmap.cli.app import StoreOption, app, console
from gridmap.cli.cases import seed_cases
from gridmap.lookup import LookupService
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
from gridmap.visits.patrols import seed_patrols
from gridmap.visits.sample import PATROL_WEEKS
from gridmap.visits.service import coverage_input, seed_visits
from gridmap.vocabulary import graded_measures, share_measures

# The steps of the demo, as the progress bar names them; analysis reports its own sub-steps.
_STEPS = (
    "载入示例数据、一年走访与巡查 load sample, a year of visits, patrols",
    "读取图层 read layers",
    "分析 analyse",
    "保存归属 save grid codes",
    "生成案件 seed a year of cases",
    "绘制地图 draw maps",
)
TOP_GAPS = 5


@app.command("demo")
def demo_command(
    out: Annotated[Path, typer.Option(help="Directory for the HTML maps.")] = Path("maps"),
    data: Annotated[
        Path | None,
        typer.Option(help="Sample directory to load (default data/sample; data/dirty shows validation)."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Load the sample district (replacing the store's layers), analyse it and write the coverage map."""
    from gridmap.maps import coverage_map, grid_map, write_html  # a third of a second: only demo pays

    with open_store(store) as opened, _progress() as progress:
        task = progress.add_task(_STEPS[0], total=len(_STEPS))
        load_sample(opened, data)
        visits = seed_visits(opened)
        patrols = seed_patrols(opened)
        progress.update(task, advance=1, description=_STEPS[1])
        frames = {name: opened.read(name) for name in LAYER_NAMES}
        status = coverage_input(opened, frames["households"]["code"])
        if status is not None:
            frames["visit_status"] = status
        progress.update(task, advance=1, description=_STEPS[2])
        analysis = analyze(
            frames, on_step=lambda step: progress.update(task, description=f"{_STEPS[2]}: {step}")
        )
        progress.update(task, advance=1, description=_STEPS[3])
        write_assignment(opened, analysis.frames)
        progress.update(task, advance=1, description=_STEPS[4])
        seeded = seed_cases(opened)
        cases = CaseDesk(opened, LookupService(opened)).statistics("street")
        progress.update(task, advance=1, description=_STEPS[5])
        district = write_html(coverage_map(analysis, frames=frames), out / "coverage.html")
        worst = str(_by_gap(analysis)["code"].iloc[0])
        detail = write_html(grid_map(analysis, frames, worst), out / f"grid_{worst}.html")
        progress.update(task, advance=1)
    _print_summary(analysis, _summary_title(data))
    _print_cases(seeded, cases)
    console.print(f"近一年走访 visits of the past year: {visits:,}", highlight=False)
    console.print(
        f"近{PATROL_WEEKS}周巡查 patrols of the past {PATROL_WEEKS} weeks: {patrols:,}", highlight=False
    )
    console.print(f"[bold]打开地图 open the map:[/] {district.resolve()}", highlight=False, soft_wrap=True)
    console.print(f"最需关注的网格 grid most in need: {detail.resolve()}", highlight=False, soft_wrap=True)


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
        return "示例区汇总 Sample district"
    if data.resolve() == DIRTY_DIR.resolve():
        return "示例区（含预置问题）汇总 Sample district with planted problems"
    return f"{data.name} 汇总 Summary of {data}"


def _print_summary(analysis: Analysis, title: str) -> None:
    """Counts and shares of the district, then the grids with the largest gaps."""
    t = analysis.totals()
    summary = Table(title=title, title_justify="left", show_header=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    rows = [
        ("街道 streets", f"{len(analysis.streets):,}"),
        ("社区/村 communities", f"{len(analysis.communities):,}"),
        ("网格 grids", f"{len(analysis.grids):,}"),
        ("户 households", f"{int(t['households']):,}"),
        *((f"{m.zh} {m.en}", _share(t[m.column])) for m in share_measures() if m.column in t),
        ("无党支部网格 grids without party branch", f"{int(t['grids_without_party_branch']):,}"),
        ("无网格员网格 grids without worker", f"{int(t['grids_without_worker']):,}"),
        ("拓扑错误 topology errors", f"{int(t['topology_errors']):,}"),
        ("不在任何网格 features in no grid", f"{int(t['unassigned']):,}"),
    ]
    for label, value in rows:
        summary.add_row(label, value)
    console.print(summary)

    top = _by_gap(analysis).head(TOP_GAPS)
    gaps = Table(title="广播盲区最大的网格 Top speaker gaps", title_justify="left")
    shown = graded_measures()
    for header in ("网格编码", "名称", "盲区户", *(m.short() for m in shown), "等级"):
        gaps.add_column(header, justify="left" if header in ("网格编码", "名称") else "right", no_wrap=True)
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
    table = Table(title=f"近一年案件 Cases of the past year ({seeded:,})", title_justify="left")
    for header in ("街道", "受理", "结案", "按期结案率", "平均处置(工作小时)", "当前超期"):
        table.add_column(header, justify="left" if header == "街道" else "right")
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
    out: Annotated[Path, typer.Option(help="Directory to write the layer files into.")],
    scale: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_SCALE,
            help="Streets side by side (each ~61 grids, 24,000 households; 400: ~10 million).",
        ),
    ] = 1,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives byte-identical files.")
    ] = DEFAULT_SEED,
    dirty: Annotated[bool, typer.Option(help="Plant the four documented problems (data/README.md).")] = False,
) -> None:
    """Generate the sample district (or a larger one) and write it as GeoJSON and CSV files.

    Scale 400 is a city of about ten million households; households are
    written chunk by chunk, so memory stays a few gigabytes at any scale.
    """
    started = time.perf_counter()
    with console.status(f"generating scale {scale}"):
        if dirty:
            frames = generate_dirty(scale, seed)
        else:
            district = plan(scale, seed)
    generated = time.perf_counter() - started
    with console.status(f"writing {out}"):
        if dirty:
            write_sample(frames, out)
        else:
            write_district(district, out)
    counts = {k: len(v) for k, v in frames.items()} if dirty else _district_counts(district)
    for layer, count in counts.items():
        console.print(f"{LAYERS[layer].label_zh} {layer}: {count:,}", highlight=False)
    console.print(
        f"generated in {generated:.1f} s, wrote {directory_size(out) / 2**20:.1f} MiB to {out}",
        highlight=False,
    )


@app.command("province")
def province_command(
    out: Annotated[Path, typer.Option(help="Directory for the per-county GeoParquet partitions.")],
    province: Annotated[str, typer.Option(help="Two-digit province code (GB/T 2260), e.g. 42 湖北.")] = "42",
    counties: Annotated[int, typer.Option(min=1, help="How many counties, the largest first.")] = 40,
    scale: Annotated[
        int, typer.Option(min=1, max=MAX_SCALE, help="Streets per county (~24,000 households each).")
    ] = 20,
    seed: Annotated[
        int, typer.Option(help="Random seed of the first county (the next ones add 1).")
    ] = DEFAULT_SEED,
) -> None:
    """Generate a synthetic province inside real county boundaries, as partitions for `--engine dask`."""
    started = time.perf_counter()
    total = 0

    def report(county: CountyWritten) -> None:
        nonlocal total
        total += county.households
        console.print(
            f"{county.code} {county.name}: {county.streets} streets, {county.grids:,} grids, "
            f"{county.households:,} households",
            highlight=False,
        )

    written = write_province(
        out, province=province, counties=counties, scale=scale, seed=seed, progress=report
    )
    seconds = time.perf_counter() - started
    console.print(
        f"{len(written)} counties, {total:,} households in {seconds:.0f} s, written to {out}", highlight=False
    )


def _district_counts(district: District) -> dict[str, int]:
    counts = {name: len(frame) for name, frame in district.layers.items()}
    counts["households"] = district.household_count
    return {name: counts[name] for name in LAYER_NAMES}
