"""`gridmap report`: the meeting report (A4 PDF) of a street, a community, a grid or the district."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from gridmap.analysis import analyze
from gridmap.cases.desk import case_statistics_by_grid
from gridmap.catalogue import LAYER_NAMES
from gridmap.cli.app import StoreOption, app, console
from gridmap.cli.maps import data_date
from gridmap.errors import ConfigError
from gridmap.meeting import Scope, report_html, write_report
from gridmap.party.service import store_findings
from gridmap.stores import open_store
from gridmap.texts import Message, say


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option()],
    street: Annotated[str | None, typer.Option()] = None,
    community: Annotated[str | None, typer.Option()] = None,
    grid: Annotated[str | None, typer.Option()] = None,
    sites: Annotated[int, typer.Option(min=0, max=20)] = 5,
    store: StoreOption = None,
) -> None:
    """Write the printable meeting report (A4 PDF): cover, labelled map, per-grid table, action list."""
    chosen = [(s, c) for s, c in (("street", street), ("community", community), ("grid", grid)) if c]
    if len(chosen) > 1:
        raise ConfigError(Message("cli.report.one_scope"))
    scope: Scope = chosen[0][0] if chosen else "district"  # type: ignore[assignment]
    code = chosen[0][1] if chosen else None
    started = time.perf_counter()
    with open_store(store, create=False) as opened, console.status(say("cli.reading_store")):
        frames = {name: opened.read(name) for name in LAYER_NAMES}
        when = data_date(opened)
        cases = case_statistics_by_grid(opened)
        party = store_findings(opened)
    with console.status(say("cli.analysing")):
        analysis = analyze(frames)
    with console.status(say("cli.report.laying_out")):
        text = report_html(
            analysis, frames, scope, code, data_date=when, sites=sites, cases=cases, party=party
        )
    with console.status(say("cli.report.printing")):
        written = write_report(text, out)
    console.print(
        say(
            "cli.report.wrote",
            path=written,
            kb=written.stat().st_size / 1e3,
            seconds=time.perf_counter() - started,
        ),
        highlight=False,
    )
