"""`gridmap export`: a layer, a subset of it, or an analysis output, to a file GIS tools open."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import typer

from gridmap.analysis import analyze
from gridmap.catalogue import LAYER_NAMES, get_layer
from gridmap.cli.app import StoreOption, app, console
from gridmap.crs import parse_crs
from gridmap.errors import GridmapError
from gridmap.export import (
    FORMATS,
    HEADERS,
    CsvGeometry,
    Headers,
    crs_note,
    export_layer,
    export_layers,
    parse_format,
    personal_columns,
    select_features,
)
from gridmap.privacy import Role
from gridmap.siting import SiteKind, site
from gridmap.stores import Store, open_store
from gridmap.stores.base import BBox
from gridmap.stores.query import parse_bbox
from gridmap.texts import Message, say

ALL = "all"
DEFAULT_FORMAT = "geojson"


class AnalysisOutput(StrEnum):
    """Analysis results that export like layers."""

    GRIDS_COVERAGE = "grids-coverage"
    GAPS = "gaps"
    UNCOVERED = "uncovered"
    SITES_SPEAKERS = "sites-speakers"
    SITES_SERVICE_POINTS = "sites-service-points"


def _analysis_output(
    store: Store, what: AnalysisOutput, grid_codes: set[str] | None, k: int
) -> gpd.GeoDataFrame:
    """Run the analysis (or the siting) over the whole store and take one output.

    Outputs tied to grids are limited to `grid_codes` when given; proposed
    sites are proposed for the whole district.
    """
    frames = {name: store.read(name) for name in LAYER_NAMES}
    if what in (AnalysisOutput.SITES_SPEAKERS, AnalysisOutput.SITES_SERVICE_POINTS):
        kind: SiteKind = "speakers" if what is AnalysisOutput.SITES_SPEAKERS else "service_points"
        with console.status(say("cli.site.siting", k=k, kind=kind)):
            return site(frames, kind, k).sites
    with console.status(say("cli.analysing")):
        result = analyze(frames)
    if what is AnalysisOutput.GRIDS_COVERAGE:
        frame, key = result.grids, "code"
    elif what is AnalysisOutput.GAPS:
        frame, key = result.gaps, "grid_code"
    else:
        households = result.households
        frame, key = households[~households["speaker_covered"].fillna(False).astype(bool)], "grid_code"
        # A grid worker visits doors: each uncovered household carries its address from the register.
        frame = frame.assign(address=frame["code"].map(frames["households"].set_index("code")["address"]))
    if grid_codes is not None:
        frame = frame[frame[key].isin(grid_codes).fillna(False).astype(bool)]
    return frame.reset_index(drop=True)


def _frame_to_export(
    store: Store,
    layer: str | None,
    what: AnalysisOutput | None,
    k: int,
    *,
    community: str | None,
    grid: str | None,
    bbox: BBox | None,
) -> tuple[gpd.GeoDataFrame, str]:
    """The frame to write and its layer name: a (subset of a) layer, or an analysis output."""
    if what is None:
        assert layer is not None
        with console.status(say("cli.export.reading", layer=layer)):
            return select_features(store, layer, community=community, grid=grid, bbox=bbox), layer
    grid_codes = None
    if community or grid or bbox:
        selected = select_features(store, "grids", community=community, grid=grid, bbox=bbox)
        grid_codes = set(selected["code"].astype(str))
    return _analysis_output(store, what, grid_codes, k), what.value.replace("-", "_")


@app.command("export")
def export_command(
    layer: Annotated[
        str | None,
        typer.Argument(),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            dir_okay=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f"),
    ] = None,
    crs: Annotated[str, typer.Option()] = ("wgs84"),
    community: Annotated[str | None, typer.Option()] = None,
    grid: Annotated[str | None, typer.Option()] = None,
    bbox: Annotated[str | None, typer.Option()] = None,
    public: Annotated[
        bool,
        typer.Option("--public"),
    ] = False,
    with_personal: Annotated[
        bool,
        typer.Option(
            "--with-personal",
        ),
    ] = False,
    encoding: Annotated[
        str | None,
        typer.Option(),
    ] = None,
    csv_geometry: Annotated[str, typer.Option()] = "wkt",
    headers: Annotated[
        str,
        typer.Option(),
    ] = "zh",
    what: Annotated[
        AnalysisOutput | None,
        typer.Option(),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1)] = 10,
    store: StoreOption = None,
) -> None:
    """Export LAYER (or an analysis output) as GeoJSON, GeoPackage, Shapefile, KML, CSV, XLSX, FlatGeobuf."""
    if (layer is None) == (what is None):
        raise typer.BadParameter(say("cli.export.layer_or_what"))
    if layer is not None and layer != ALL:
        get_layer(layer)
    key = parse_format(fmt, out) if out is not None else parse_format(fmt or DEFAULT_FORMAT, Path())
    if layer == ALL and fmt is None and out is None:
        key = "gpkg"
    if layer == ALL and key != "gpkg":
        raise typer.BadParameter(say("cli.export.all_gpkg"))
    spec = parse_crs(crs)
    if csv_geometry not in ("wkt", "lonlat"):
        raise typer.BadParameter(say("cli.export.csv_geometry"))
    geometry: CsvGeometry = "wkt" if csv_geometry == "wkt" else "lonlat"
    if headers not in HEADERS:
        raise typer.BadParameter(say("cli.export.headers", choices=", ".join(HEADERS)))
    chosen_headers: Headers = "zh" if headers == "zh" else "canonical"
    window = None if bbox is None else parse_bbox(bbox)
    role = Role.ANONYMOUS if public else Role.ADMIN
    keep_personal = with_personal and not public
    with open_store(store, create=False) as opened:
        if layer == ALL:
            with console.status(say("cli.export.reading_all")):
                frames = {
                    name: select_features(opened, name, community=community, grid=grid, bbox=window)
                    for name in LAYER_NAMES
                }
            written = export_layers(
                frames, out or Path("gridmap.gpkg"), spec, role=role, with_personal=keep_personal
            )
            console.print(say("cli.export.all_written", n=sum(len(f) for f in frames.values()), path=written))
            console.print(crs_note(spec), highlight=False)
            _say_personal(
                sorted({c for n, f in frames.items() for c in personal_columns(f, n)}), keep_personal
            )
            return
        frame, name = _frame_to_export(opened, layer, what, k, community=community, grid=grid, bbox=window)
    if out is None:
        out = Path(f"{name}{FORMATS[key].suffix}")
    with console.status(say("cli.export.writing", format=FORMATS[key].label)):
        try:
            written = export_layer(
                frame,
                out,
                key,
                spec,
                layer=layer,
                name=name,
                role=role,
                encoding=encoding,
                csv_geometry=geometry,
                with_personal=keep_personal,
                headers=chosen_headers,
            )
        except UnicodeEncodeError as exc:
            raise GridmapError(Message("cli.export.encoding", encoding=encoding, why=exc.reason)) from None
    size = written.stat().st_size
    console.print(
        say("cli.export.written", n=len(frame), path=written, format=FORMATS[key].label, kib=size / 1024),
        highlight=False,
    )
    console.print(crs_note(spec), highlight=False)
    _say_personal(personal_columns(frame, layer), keep_personal)


def _say_personal(columns: list[str], kept: bool) -> None:
    """Say which personal fields the file holds, or that they were left out and how to include them."""
    if not columns:
        return
    if kept:
        console.print(say("cli.export.with_personal", fields=", ".join(columns)), highlight=False)
    else:
        console.print(say("cli.export.personal_left_out", fields=", ".join(columns)), highlight=False)
