"""`gridmap map`: the district coverage map, or with --grid the map of one grid, as one offline HTML file."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gridmap.actions import grid_sites
from gridmap.analysis import analyze, read_inputs
from gridmap.cli.app import StoreOption, app, console
from gridmap.siting import site
from gridmap.stores import Store, open_store
from gridmap.texts import language, say
from gridmap.vocabulary import MEASURES

Measure = StrEnum("Measure", {code: code for code in MEASURES})  # type: ignore[misc]
DEFAULT_MEASURE = Measure("speaker")


class Lang(StrEnum):
    zh = "zh"
    en = "en"


@app.command("map")
def map_command(
    grid: Annotated[str | None, typer.Option("--grid")] = None,
    measure: Annotated[Measure, typer.Option()] = DEFAULT_MEASURE,
    basemap: Annotated[
        str,
        typer.Option(),
    ] = "none",
    lang: Annotated[Lang | None, typer.Option()] = None,
    propose: Annotated[int, typer.Option(min=0)] = 0,
    title: Annotated[str | None, typer.Option()] = None,
    out: Annotated[
        Path | None,
        typer.Option(),
    ] = None,
    tianditu_key: Annotated[str | None, typer.Option(envvar="GRIDMAP_TIANDITU_KEY")] = None,
    store: StoreOption = None,
) -> None:
    """Write an interactive map that opens with no network (all scripts inlined)."""
    # folium and the map code take a third of a second to import: only this command pays for them.
    from gridmap.maps import coverage_map, grid_map, resolve_basemap, write_html
    from gridmap.maps.labels import check_lang

    words = check_lang(lang.value if lang else language())  # the reader's language unless asked otherwise
    base = resolve_basemap(basemap, lang=words, tianditu_key=tianditu_key)
    with open_store(store, create=False) as opened, console.status(say("cli.reading_store")):
        # The district map needs only the households' analysis fields: read those through Arrow.
        frames = read_inputs(opened, narrow=grid is None and not propose)
        when = data_date(opened)
    with console.status(say("cli.map.analysing")):
        analysis = analyze(frames)
    if grid is not None:
        grid_proposals = None
        if propose:
            with console.status(say("cli.map.siting_grid", k=propose, grid=grid)):
                grid_proposals = grid_sites(analysis, frames, grid, propose)
        with console.status(say("cli.map.drawing_grid", grid=grid)):
            m = grid_map(
                analysis, frames, grid, basemap=base, lang=words, data_date=when, sites=grid_proposals
            )
        path = out or Path("maps") / f"grid_{grid}.html"
    else:
        sites = None
        if propose:
            with console.status(say("cli.map.siting", k=propose)):
                sites = site(frames, "speakers", propose)
        with console.status(say("cli.map.drawing")):
            m = coverage_map(
                analysis,
                frames=frames,
                measure=measure.value,
                basemap=base,
                lang=words,
                sites=sites,
                title=title,
                data_date=when,
            )
        path = out or Path("maps") / "coverage.html"
    with console.status(say("cli.map.writing")):
        written = write_html(m, path)
    console.print(say("cli.map.wrote", path=written, mb=written.stat().st_size / 1e6))


def data_date(store: Store) -> dt.date:
    """The day the data last changed (today when the store cannot tell)."""
    changed = [t for t in store.last_modified().values() if t is not None]
    return max(changed).date() if changed else dt.date.today()
