"""`gridmap import`, `init` and `layers`: loading files into the store and seeing what it holds."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.table import Table

from gridmap.catalogue import LAYERS, get_layer
from gridmap.cli.app import StoreOption, app, console
from gridmap.errors import GridmapError, ImportCancelled
from gridmap.ingest import ImportReport, Mode, import_file
from gridmap.ingest.changes import CHANGE_KINDS, ChangeSet
from gridmap.ingest.importer import CHUNK_ROWS
from gridmap.ingest.rejects import write_rejects
from gridmap.settings import store_url
from gridmap.stores import Store, open_store, store_exists
from gridmap.texts import Message, say


class ImportMode(StrEnum):
    """How an import meets the features already in the layer (see `gridmap.ingest.MODES`)."""

    REPLACE = "replace"
    APPEND = "append"


@app.command("import")
def import_command(
    layer: Annotated[str, typer.Argument()],
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
        ),
    ],
    crs: Annotated[
        str | None,
        typer.Option(),
    ] = None,
    mode: Annotated[
        ImportMode,
        typer.Option(),
    ] = ImportMode.REPLACE,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
        ),
    ] = False,
    source_layer: Annotated[
        str | None,
        typer.Option(),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y"),
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid"),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(dir_okay=False),
    ] = None,
    chunk_rows: Annotated[int, typer.Option(min=1)] = CHUNK_ROWS,
    store: StoreOption = None,
) -> None:
    """Import FILE into LAYER: validate all of it, show what would change, then write (or, with a
    problem, change nothing)."""
    get_layer(layer)  # an unknown layer fails before a store file is created
    if skip_invalid and rejects is None:
        raise typer.BadParameter(say("cli.import.skip_needs_rejects"))
    if rejects is not None and not skip_invalid:
        raise typer.BadParameter(say("cli.import.rejects_needs_skip"))
    creating = not store_exists(store)
    with open_store(store) as opened, console.status(say("cli.import.importing", file=file.name)) as status:

        def preview(report: ImportReport) -> None:
            status.stop()
            _print_report(report)
            if report.rejected is not None and rejects is not None:
                written = write_rejects(report.rejected, rejects)
                console.print(
                    say("cli.import.refused", n=len(report.rejected), path=written), highlight=False
                )

        try:
            report = import_file(
                opened,
                layer,
                file,
                crs=crs,
                mode=cast(Mode, mode.value),
                fix=fix,
                source_layer=source_layer,
                progress=status.update,
                encoding=encoding,
                ignore=ignore or (),
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                preview=preview,
                confirm=None if yes else _confirm_removal,
                chunk_rows=chunk_rows,
            )
        except GridmapError:
            if creating:
                _remove_new_store(opened)
            raise
        if dry_run:
            if creating:
                _remove_new_store(opened)
            console.print(say("cli.import.dry_run"), highlight=False)
            return
    _print_written(report)


def _confirm_removal(changes: ChangeSet) -> bool:
    """Ask on a terminal before anything is lost; anywhere else it needs --yes."""
    if not _interactive():
        raise ImportCancelled(Message("cli.import.cancelled", loss=changes.loss_text()))
    return typer.confirm(say("cli.import.confirm", loss=changes.loss_text()), default=False)


def _interactive() -> bool:
    """Whether someone at a terminal can answer a question."""
    return sys.stdin.isatty()


def _remove_new_store(store: Store) -> None:
    """A GeoPackage this failed import created is removed again: a refused file leaves nothing behind."""
    path = getattr(store, "path", None)
    store.close()
    if isinstance(path, Path):
        path.unlink(missing_ok=True)


_SHOW_RATE_FROM = 10_000  # below this the rate is start-up noise


def _print_report(report: ImportReport) -> None:
    """What was read and how, then the change set: shown before anything is written."""
    details = [say("cli.import.format", value=report.format), say("cli.import.crs", value=report.crs)]
    if report.source_layer:
        details.append(say("cli.import.layer", value=report.source_layer))
    if report.encoding:
        details.append(say("cli.import.encoding", value=report.encoding))
    console.print(
        say(
            "cli.import.read",
            n=report.rows,
            layer=report.layer,
            label=LAYERS[report.layer].label_zh,
            source=report.source,
            details=say("list.comma").join(details),
        ),
        highlight=False,
    )
    columns = Table(title=say("cli.import.columns"), title_justify="left")
    columns.add_column(say("cli.import.source_column"))
    columns.add_column("→")
    for name, column in report.mapping.items():
        note = say("cli.import.from_sidecar") if column in report.renamed.values() else ""
        columns.add_row(column, f"{name} ({LAYERS[report.layer].get(name).label_zh}){note}")
    for role, column in report.geometry_columns.items():
        columns.add_row(column, say("cli.import.geometry", role=role))
    for column, why in report.ignored.items():
        columns.add_row(column, say("cli.import.ignored", why=why))
    console.print(columns)
    for problem in report.repaired:
        field = f" {problem.field}" if problem.field and problem.field != "geometry" else ""
        reason = problem.reason
        what = (
            reason.values["what"]
            if isinstance(reason, Message) and reason.key == "import.repaired"
            else reason
        )
        console.print(say("cli.import.repaired", row=problem.row, field=field, what=what), highlight=False)
    if report.placed_at_building:
        console.print(say("cli.import.placed", n=report.placed_at_building))
    if report.changes is not None:
        _print_changes(report.changes)


def _print_changes(changes: ChangeSet) -> None:
    table = Table(
        title=say("cli.import.changes", layer=changes.layer, mode=changes.mode), title_justify="left"
    )
    table.add_column(say("cli.import.change"))
    table.add_column(say("cli.import.features"), justify="right")
    table.add_column(say("cli.import.sample"))
    for kind in CHANGE_KINDS:
        count = changes.counts[kind]
        style = "red" if kind == "removed" and count else ""
        more = " …" if count > len(changes.samples[kind]) else ""
        table.add_row(
            say(f"changes.{kind}"),
            f"[{style}]{count:,}[/]" if style else f"{count:,}",
            ", ".join(changes.samples[kind]) + more,
        )
    console.print(table)
    if changes.changed_fields:
        fields = say("list.comma").join(f"{name} {count:,}" for name, count in changes.changed_fields.items())
        console.print(say("cli.import.changed_fields", fields=fields), highlight=False)
    for name, count in changes.cleared.items():
        console.print(
            say("cli.import.would_clear", n=count, layer=changes.layer, field=name), highlight=False
        )


def _print_written(report: ImportReport) -> None:
    timing = say("cli.import.timing", mode=report.mode, seconds=report.seconds)
    if report.rows >= _SHOW_RATE_FROM:
        timing += say("cli.import.rate", rate=report.rows_per_second)
    console.print(
        say(
            "cli.import.done",
            n=report.written,
            layer=report.layer,
            label=LAYERS[report.layer].label_zh,
            source=report.source,
            timing=timing,
        ),
        highlight=False,
    )
    if report.inserted is not None:
        console.print(say("cli.import.upserted", inserted=report.inserted, updated=report.updated))


@app.command("init")
def init_command(store: StoreOption = None) -> None:
    """Create an empty store (all seven layers, no features); an existing store is left as it is."""
    if store_exists(store):
        raise GridmapError(Message("cli.init.exists", url=store_url(store)))
    with open_store(store) as opened:
        counts = opened.counts()
    console.print(say("cli.init.created", url=opened.url, n=len(counts)), highlight=False)


@app.command("layers")
def layers_command(store: StoreOption = None) -> None:
    """List every layer with its Chinese label and feature count."""
    with open_store(store, create=False) as opened:
        counts = opened.counts()
    table = Table(title=say("cli.layers.title", url=opened.url), title_justify="left")
    table.add_column(say("cli.layers.layer"))
    table.add_column(say("cli.layers.label"))
    table.add_column(say("cli.layers.features"), justify="right")
    for name, spec in LAYERS.items():
        table.add_row(name, spec.label_zh, f"{counts.get(name, 0):,}")
    console.print(table)
