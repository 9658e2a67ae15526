"""`gridmap features LAYER`: a page of a layer, filtered, ordered and cut by the store.

Every page is one `Store.query`, so paging through a city's households costs
what a page holds, never a read of the whole layer. Filters given as text are
typed by the catalogue exactly as the API's items endpoint types its query
string (`gridmap.stores.query.typed_equals`), and personal fields are masked
by `gridmap.privacy.protect` unless `--with-personal` asks for them.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import geopandas as gpd
import typer
from rich.markup import escape
from rich.table import Table

from gridmap.catalogue import LAYERS, Layer, get_layer
from gridmap.cli.app import StoreOption, app, console, err_console
from gridmap.export import geojson_features, write_csv
from gridmap.privacy import Role, protect
from gridmap.stores import open_store
from gridmap.stores.query import MAX_OFFSET, Page, QueryError, parse_bbox, typed_equals


class Output(StrEnum):
    """How the page is printed: a table for people, GeoJSON or CSV for other tools."""

    TABLE = "table"
    GEOJSON = "geojson"
    CSV = "csv"


def _wheres(spec: Layer, wheres: list[str]) -> dict[str, str]:
    """`FIELD=VALUE` options as field → text (typed later by the catalogue)."""
    out: dict[str, str] = {}
    for text in wheres:
        name, equals, value = text.partition("=")
        name = name.strip()
        if not equals or not name:
            raise QueryError(f"--where needs FIELD=VALUE, not {text!r}", "where")
        if name in out:
            raise QueryError(f"--where names {spec.name}.{name} twice", name)
        out[name] = value
    return out


def _summary(page: Page, offset: int, limit: int) -> str:
    """How many of how many (or that more follow, past the store's count) and the next page's offset."""
    shown = len(page.frame)
    if page.matched is not None:
        summary = f"{shown:,} of {page.matched:,}"
    else:
        summary = f"{shown:,}, more follow" if page.more else f"{shown:,}, the last page"
    if offset:
        summary += f" from offset {offset:,}"
    if page.more:
        summary += f"; next page: --offset {offset + limit}"
    return summary


def _table(spec: Layer, frame: gpd.GeoDataFrame, title: str) -> Table:
    """The page's fields under their Chinese labels (the field name beneath, for --where and --order)."""
    table = Table(title=title, title_justify="left")
    for field in spec.fields:
        numeric = field.type in ("integer", "real")
        table.add_column(
            f"{field.label_zh}\n[dim]{field.name}[/]",
            justify="right" if numeric else "left",
            no_wrap=field.name == "code",  # the key to look a feature up by is never cut
        )
    values = frame[spec.field_names].astype(object)
    for record in values.where(values.notna(), None).itertuples(index=False):
        table.add_row(*("" if value is None else escape(str(value)) for value in record))
    return table


@app.command("features")
def features_command(
    layer: Annotated[str, typer.Argument(help=f"Layer to page through: {', '.join(LAYERS)}.")],
    bbox: Annotated[
        str | None, typer.Option(help="Only features meeting minlon,minlat,maxlon,maxlat (WGS84).")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            "-w",
            help="FIELD=VALUE: only features whose field equals the value (repeatable; "
            "booleans true/false, numbers as numbers).",
        ),
    ] = None,
    order: Annotated[
        str, typer.Option(help="Order by FIELD, or -FIELD for descending (ties by code).")
    ] = "code",
    limit: Annotated[int, typer.Option(min=1, help="Features per page.")] = 20,
    offset: Annotated[
        int, typer.Option(min=0, max=MAX_OFFSET, help="Features to skip (the previous page's next offset).")
    ] = 0,
    fmt: Annotated[Output, typer.Option("--format", "-f", help="table, or geojson / csv to stdout.")] = (
        Output.TABLE
    ),
    with_personal: Annotated[
        bool,
        typer.Option(
            "--with-personal",
            help="Show the personal fields (household contacts, grid worker phones) unmasked.",
        ),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Show one page of LAYER, filtered by --bbox and --where, in --order; the store cuts the page."""
    spec = get_layer(layer)
    box = None if bbox is None else parse_bbox(bbox)
    equals = typed_equals(spec, _wheres(spec, where or []))
    with open_store(store, create=False) as opened:
        page = opened.query(spec.name, bbox=box, equals=equals, limit=limit, offset=offset, order=order)
    frame = protect(spec, page.frame, Role.ADMIN if with_personal else Role.VIEWER)
    summary = _summary(page, offset, limit)
    if fmt is Output.TABLE:
        console.print(_table(spec, frame, f"{spec.label_zh} {spec.name}"))
        console.print(summary, highlight=False)
        return
    if fmt is Output.GEOJSON:
        collection = {"type": "FeatureCollection", "features": geojson_features(frame)}
        sys.stdout.write(json.dumps(collection, ensure_ascii=False) + "\n")
    else:
        write_csv(frame, sys.stdout)
    err_console.print(summary, highlight=False)
