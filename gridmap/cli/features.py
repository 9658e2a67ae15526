"""`gridmap features LAYER`: a page of a layer, filtered, ordered and cut by the store.

Every page is one `Store.query`, so paging through a city's households costs
what a page holds, never a read of the whole layer. Filters given as text are
typed by the catalogue exactly as the API's items endpoint types its query
string (`gridmap.stores.query.typed_equals`), and personal fields are masked
by `gridmap.privacy.protect` unless `--with-personal` asks for them.
`--fields` chooses and orders the columns of every format; without it a table
shows the layer's `table_fields` (read whole in 80 columns) and GeoJSON / CSV
every field.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import geopandas as gpd
import typer
from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table

from gridmap.catalogue import Layer, get_layer
from gridmap.cli.app import StoreOption, app, console, err_console
from gridmap.export import geojson_features, write_csv
from gridmap.privacy import Role, protect
from gridmap.stores import open_store
from gridmap.stores.query import MAX_OFFSET, Page, QueryError, parse_bbox, typed_equals
from gridmap.texts import Message, say


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
            raise QueryError(Message("cli.features.where", text=repr(text)), "where")
        if name in out:
            raise QueryError(
                Message("cli.features.twice", option="--where", field=f"{spec.name}.{name}"), name
            )
        out[name] = value
    return out


def _fields(spec: Layer, text: str) -> list[str]:
    """`--fields` as field names of the layer, in the order given; a QueryError names what is wrong."""
    names = [name.strip() for name in text.split(",")]
    for name in names:
        if not name:
            raise QueryError(Message("cli.features.fields", text=repr(text)), "fields")
        if name not in spec.field_names:
            fields = ", ".join(spec.field_names)
            raise QueryError(
                Message("cli.features.no_field", layer=spec.name, name=repr(name), fields=fields), name
            )
        if names.count(name) > 1:
            raise QueryError(
                Message("cli.features.twice", option="--fields", field=f"{spec.name}.{name}"), name
            )
    return names


def _summary(page: Page, offset: int, limit: int) -> str:
    """How many of how many (or that more follow, past the store's count) and the next page's offset."""
    shown = len(page.frame)
    if page.matched is None and not page.more:  # an empty page past the end of an uncounted selection
        return say("cli.features.past_end", offset=offset)
    if page.matched is not None:
        summary = say("cli.features.of", shown=shown, matched=page.matched)
    else:
        summary = say("cli.features.more_follow", shown=shown)
    if offset:
        summary += say("cli.features.from", offset=offset)
    if page.more:
        summary += say("cli.features.next", offset=offset + limit)
    return summary


_COLUMN_EDGES = 3
"""Terminal columns a table column takes beyond its text: a space each side and one border."""


def _table(
    spec: Layer, frame: gpd.GeoDataFrame, fields: list[str], title: str, caption: str | None, width: int
) -> Table:
    """The fields under their Chinese labels (the field name beneath, for --where, --order and --fields).

    In `width` terminal columns only values wider than their field's name (an
    address, a name) are folded onto more lines, so codes, numbers and the
    names of fields stay whole; when even that cannot fit, every column but
    `code` folds. The code, the key to look a feature up by, stays on one line.
    """
    values = frame[fields].astype(object)
    rows = [
        ["" if value is None else str(value) for value in record]
        for record in values.where(values.notna(), None).itertuples(index=False)
    ]
    heads = [max(cell_len(spec.get(name).label_zh), cell_len(name)) for name in fields]
    widest = [max([head, *(cell_len(row[i]) for row in rows)]) for i, head in enumerate(heads)]
    folds = [name != "code" and wide > head for name, wide, head in zip(fields, widest, heads, strict=True)]
    narrowest = 1 + sum(
        _COLUMN_EDGES + (head if fold else wide)
        for fold, wide, head in zip(folds, widest, heads, strict=True)
    )
    if narrowest > width:
        folds = [name != "code" for name in fields]
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for name, fold in zip(fields, folds, strict=True):
        field = spec.get(name)
        table.add_column(
            f"{field.label_zh}\n[dim]{name}[/]",
            justify="right" if field.type in ("integer", "real") else "left",
            no_wrap=not fold,
            overflow="fold" if fold else "ellipsis",
        )
    for row in rows:
        table.add_row(*map(escape, row))
    return table


def _geojson(frame: gpd.GeoDataFrame, fields: list[str]) -> dict[str, Any]:
    """The page as a FeatureCollection whose properties are `fields`, in that order (`id` stays the code)."""
    features = geojson_features(frame)
    for feature in features:
        properties = feature["properties"]
        feature["properties"] = {name: properties[name] for name in fields}
    return {"type": "FeatureCollection", "features": features}


@app.command("features")
def features_command(
    layer: Annotated[str, typer.Argument()],
    bbox: Annotated[str | None, typer.Option()] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            "-w",
        ),
    ] = None,
    order: Annotated[str, typer.Option()] = "code",
    limit: Annotated[int, typer.Option(min=1)] = 20,
    offset: Annotated[int, typer.Option(min=0, max=MAX_OFFSET)] = 0,
    fmt: Annotated[Output, typer.Option("--format", "-f")] = (Output.TABLE),
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
        ),
    ] = None,
    with_personal: Annotated[
        bool,
        typer.Option(
            "--with-personal",
        ),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Show one page of LAYER, filtered by --bbox and --where, in --order; the store cuts the page."""
    spec = get_layer(layer)
    chosen = None if fields is None else _fields(spec, fields)
    box = None if bbox is None else parse_bbox(bbox)
    equals = typed_equals(spec, _wheres(spec, where or []))
    with open_store(store, create=False) as opened:
        page = opened.query(spec.name, bbox=box, equals=equals, limit=limit, offset=offset, order=order)
    frame = protect(spec, page.frame, Role.ADMIN if with_personal else Role.VIEWER)
    summary = _summary(page, offset, limit)
    if fmt is Output.TABLE:
        columns = chosen or spec.table_columns
        left_out = [] if chosen else [name for name in spec.field_names if name not in columns]
        caption = say("cli.features.not_shown", fields=", ".join(left_out)) if left_out else None
        title = f"{spec.label_zh} {spec.name}"
        console.print(_table(spec, frame, columns, title, caption, console.width))
        console.print(summary, highlight=False)
        return
    columns = chosen or spec.field_names
    if fmt is Output.GEOJSON:
        sys.stdout.write(json.dumps(_geojson(frame, columns), ensure_ascii=False) + "\n")
    else:
        write_csv(frame[[*columns, "geometry"]], sys.stdout)
    err_console.print(summary, highlight=False)
