"""`gridmap import` and `gridmap layers`: loading files into the store and seeing what it holds."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.table import Table

from gridmap.catalogue import LAYERS, get_layer
from gridmap.cli.app import StoreOption, app, console
from gridmap.ingest import ImportReport, Mode, import_file
from gridmap.stores import open_store


class ImportMode(StrEnum):
    """How an import meets the features already in the layer (see `gridmap.ingest.MODES`)."""

    REPLACE = "replace"
    APPEND = "append"


@app.command("import")
def import_command(
    layer: Annotated[str, typer.Argument(help=f"Target layer: {', '.join(LAYERS)}.")],
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="GeoJSON, GeoPackage, Shapefile (.shp or .zip), KML, CSV or XLSX file.",
        ),
    ],
    crs: Annotated[
        str | None,
        typer.Option(
            help="Coordinates of the file: wgs84, cgcs2000, gcj02, bd09 or EPSG:n "
            "(default: the file's own; WGS84 for CSV/XLSX)."
        ),
    ] = None,
    mode: Annotated[
        ImportMode,
        typer.Option(help="replace the layer, or append (new codes inserted, existing codes updated)."),
    ] = ImportMode.REPLACE,
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair invalid polygons (make_valid) instead of refusing them.")
    ] = False,
    source_layer: Annotated[
        str | None,
        typer.Option(help="Layer (GeoPackage, KML, zip) or sheet (XLSX) to read, when there are several."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Import FILE into LAYER after validating all of it; a file with any problem changes nothing."""
    get_layer(layer)  # an unknown layer fails before a store file is created
    with open_store(store) as opened, console.status(f"importing {file.name}") as status:
        report = import_file(
            opened,
            layer,
            file,
            crs=crs,
            mode=cast(Mode, mode.value),
            fix=fix,
            source_layer=source_layer,
            progress=status.update,
        )
    _print_report(report)


_SHOW_RATE_FROM = 10_000  # below this the rate is start-up noise


def _print_report(report: ImportReport) -> None:
    label = LAYERS[report.layer].label_zh
    timing = f"{report.mode}, {report.seconds:.1f} s"
    if report.rows >= _SHOW_RATE_FROM:
        timing += f", {report.rows_per_second:,.0f} rows/s"
    console.print(
        f"[bold green]imported[/] {report.written:,} {report.layer} ({label}) from {report.source} "
        f"[dim]({timing})[/]",
        highlight=False,
    )
    if report.inserted is not None:
        console.print(
            f"  {report.inserted:,} inserted, {report.updated:,} updated (codes already in the store)"
        )
    details = [f"format {report.format}", f"CRS {report.crs}"]
    if report.source_layer:
        details.append(f"layer {report.source_layer}")
    if report.encoding:
        details.append(f"encoding {report.encoding}")
    console.print("  " + ", ".join(details), highlight=False)

    columns = Table(title="columns", title_justify="left")
    columns.add_column("source column")
    columns.add_column("→")
    for name, column in report.mapping.items():
        columns.add_row(column, f"{name} ({LAYERS[report.layer].get(name).label_zh})")
    for role, column in report.geometry_columns.items():
        columns.add_row(column, f"geometry ({role})")
    for column, why in report.ignored.items():
        columns.add_row(column, f"[yellow]ignored[/]: {why}")
    console.print(columns)
    for problem in report.repaired:
        console.print(f"  [yellow]repaired[/] row {problem.row}: {problem.reason.removeprefix('repaired: ')}")
    if report.placed_at_building:
        console.print(f"  {report.placed_at_building:,} household(s) placed at their building's point")


@app.command("layers")
def layers_command(store: StoreOption = None) -> None:
    """List every layer with its Chinese label and feature count."""
    with open_store(store) as opened:
        counts = opened.counts()
    table = Table(title=f"layers in {opened.url}", title_justify="left")
    table.add_column("layer")
    table.add_column("名称")
    table.add_column("features", justify="right")
    for name, spec in LAYERS.items():
        table.add_row(name, spec.label_zh, f"{counts.get(name, 0):,}")
    console.print(table)
