"""`gridmap validate` (grid topology) and `gridmap site` (where to put new speakers or service points)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, cast

import geopandas as gpd
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from gridmap.assignment import assign
from gridmap.catalogue import LAYERS
from gridmap.cli.app import StoreOption, app, console
from gridmap.errors import NotFoundError
from gridmap.siting import EXACT_LIMIT, SiteKind, SitingResult, site
from gridmap.stores import open_store
from gridmap.texts import Message, language, say
from gridmap.topology import TopologyOptions, check_grids
from gridmap.vocabulary import FINDING_KINDS, column_label

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}

OutOption = Annotated[
    Path | None,
    typer.Option("--out", dir_okay=False),
]


@app.command("validate")
def validate_command(
    out: OutOption = None,
    tolerance: Annotated[
        float,
        typer.Option(min=0),
    ] = 0.5,
    sliver_area: Annotated[float, typer.Option(min=0)] = 50.0,
    sliver_thinness: Annotated[float, typer.Option(min=0)] = 0.03,
    urban_households: Annotated[
        tuple[int, int],
        typer.Option(),
    ] = (300, 500),
    village_households: Annotated[tuple[int, int], typer.Option()] = (0, 300),
    limit: Annotated[int, typer.Option(min=1)] = 50,
    store: StoreOption = None,
) -> None:
    """Check grid topology: overlaps, gaps, grids outside their community, slivers, invalid rings.

    Household counts per grid are checked against the urban and village ranges.

    Exits 1 when any finding is an error (warnings alone exit 0).
    """
    with (
        open_store(store, create=False) as opened,
        console.status(say("cli.validate.reading")),
    ):
        frames = {name: opened.read(name) for name in ("communities", "grids", "buildings", "households")}
    options = TopologyOptions(
        overlap_tolerance_m2=tolerance,
        gap_tolerance_m2=tolerance,
        outside_tolerance_m2=tolerance,
        sliver_area_m2=sliver_area,
        sliver_thinness=sliver_thinness,
        urban_households=urban_households,
        rural_households=village_households,
    )
    with console.status(say("cli.validate.checking")):
        findings = check_grids(frames["grids"], frames["communities"], household_counts(frames), options)
    _print_findings(findings, len(frames["grids"]), limit)
    if out is not None:
        _write_geojson(findings, out)
    if (findings["severity"] == "error").any():
        raise typer.Exit(code=1)


def household_counts(frames: dict[str, gpd.GeoDataFrame]) -> pd.Series:
    """Households per grid code, derived as the analysis does (via the building, else the point)."""
    assigned = assign(frames)["households"]
    return assigned["grid_code"].value_counts()


def _print_findings(findings: gpd.GeoDataFrame, n_grids: int, limit: int) -> None:
    errors = int((findings["severity"] == "error").sum())
    warnings = int((findings["severity"] == "warning").sum())
    if findings.empty:
        console.print(say("cli.validate.clean", n=n_grids))
        return
    lang = language()
    table = Table(title=say("cli.validate.title", errors=errors, warnings=warnings), title_justify="left")
    wide = console.width >= 110  # coordinates only when they fit; the GeoJSON always has them
    table.add_column(column_label("kind", lang), no_wrap=True)
    table.add_column(column_label("codes", lang), no_wrap=True)
    table.add_column(column_label("area_m2", lang), justify="right", no_wrap=True)
    if wide:
        table.add_column(column_label("location", lang), no_wrap=True)
    table.add_column(column_label("message_zh", lang))
    for row in findings.head(limit).itertuples():
        style = _SEVERITY_STYLE[str(row.severity)]
        cells = [
            f"[{style}]{FINDING_KINDS[str(row.kind)].label(lang)}[/]",
            escape(str(row.codes).replace(",", "\n")),
            f"{row.area_m2:,.1f}",
            *([str(row.location)] if wide else []),
            escape(str(getattr(row, f"message_{lang}"))),
        ]
        table.add_row(*cells)
    console.print(table)
    if len(findings) > limit:
        console.print(say("cli.validate.more", n=len(findings) - limit))
    counts = findings.groupby("kind", sort=False).size()
    console.print(
        say("list.separator").join(
            f"{FINDING_KINDS[str(kind)].label(lang)} {n:,}" for kind, n in counts.items()
        ),
        highlight=False,
    )


def _write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    frame.to_file(path, driver="GeoJSON")
    console.print(say("cli.wrote_features", n=len(frame), path=path))


class SiteKindChoice(StrEnum):
    """What to site."""

    speakers = "speakers"
    service_points = "service_points"


@app.command("site")
def site_command(
    kind: Annotated[SiteKindChoice, typer.Argument()],
    k: Annotated[int, typer.Option("--k", min=1)] = 5,
    candidates: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    radius: Annotated[
        float | None,
        typer.Option(min=1),
    ] = None,
    exact_limit: Annotated[
        int,
        typer.Option(min=0),
    ] = EXACT_LIMIT,
    walking: Annotated[
        bool,
        typer.Option(
            "--walking",
        ),
    ] = False,
    out: OutOption = None,
    store: StoreOption = None,
) -> None:
    """Propose K new sites covering the most households not yet covered (working sites count as covering)."""
    with open_store(store, create=False) as opened, console.status(say("cli.site.reading")):
        frames = {name: opened.read(name) for name in ("households", "buildings", kind.value)}
        roads = opened.read("roads") if walking else None
    if roads is not None and roads.empty:
        raise NotFoundError(Message("cli.site.no_roads"))
    with console.status(say("cli.site.siting", k=k, kind=kind.value)):
        result = site(
            frames,
            cast(SiteKind, kind.value),
            k,
            candidates,
            radius_m=radius,
            exact_limit=exact_limit,
            roads=roads,
        )
    _print_sites(result)
    if out is not None:
        _write_geojson(result.sites, out)


def _print_sites(result: SitingResult) -> None:
    share = result.covered_before / result.total_households if result.total_households else 0.0
    console.print(
        say(
            "cli.site.proposed",
            n=len(result.sites),
            k=result.k,
            kind=result.kind,
            label=LAYERS[result.kind].label_zh,
            radius=result.radius_m,
            on_foot=say("cli.site.on_foot") if result.walking else "",
            gain=result.newly_covered,
            before=result.covered_before,
            after=result.covered_after,
            total=result.total_households,
            share=share,
        ),
        highlight=False,
    )
    method = say("cli.site.exact" if result.method == "exact" else "cli.site.greedy")
    details = say("cli.site.method", method=method, status=result.exact_status)
    if result.greedy_gap is not None:
        details += say("cli.site.greedy_gap", total=result.greedy_total, gap=result.greedy_gap)
    console.print(
        say(
            "cli.site.details",
            details=details,
            candidates=result.candidates,
            points=result.demand_points,
            demand=result.demand,
            seconds=result.seconds,
        ),
        highlight=False,
    )
    if result.sites.empty:
        return
    table = Table(title_justify="left")
    wide = console.width >= 110  # coordinates only when they fit; the GeoJSON always has them
    table.add_column(say("cli.site.rank"), justify="right", no_wrap=True)
    table.add_column(say("cli.site.candidate"), no_wrap=True)
    table.add_column(say("cli.site.label"))
    for header in ("cli.site.gain", "cli.site.covered", "cli.site.share"):
        table.add_column(say(header), justify="right", no_wrap=True)
    if wide:
        table.add_column(column_label("location"), no_wrap=True)
    for row in result.sites.itertuples():
        cells = [
            str(row.rank),
            escape(str(row.code)),
            "" if pd.isna(row.label) else escape(str(row.label)),
            f"{row.gain:,}",
            f"{row.covered_after:,}",
            f"{row.share_after:.1%}",
        ]
        table.add_row(*cells, *([f"{row.geometry.x:.6f},{row.geometry.y:.6f}"] if wide else []))
    console.print(table)
