"""`gridmap lookup`: which grid owns an address or a point, from the command line."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from gridmap.cli.app import StoreOption, app, console
from gridmap.errors import ConfigError
from gridmap.lookup import AddressNotFoundError, LookupService
from gridmap.privacy import Role
from gridmap.stores import open_store
from gridmap.texts import Message, language, say
from gridmap.vocabulary import MATCH_METHODS


@app.command()
def lookup(
    address: Annotated[
        str | None,
        typer.Argument(),
    ] = None,
    lon: Annotated[float | None, typer.Option()] = None,
    lat: Annotated[float | None, typer.Option()] = None,
    crs: Annotated[str, typer.Option()] = "wgs84",
    date: Annotated[
        str | None,
        typer.Option("--date"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    store: StoreOption = None,
) -> None:
    """Find the grid, community, street and grid worker for an address or a point.

    Examples on the sample district: `gridmap lookup 和平路151号4栋`,
    `gridmap lookup 湖北省武汉市武昌区紫阳街道和平路151号4栋2单元502室`,
    `gridmap lookup --lon 114.3004 --lat 30.5645`.
    """
    if (address is None) == (lon is None or lat is None):
        raise ConfigError(Message("cli.lookup.either"))
    with open_store(store, create=False) as opened:
        service = LookupService(opened)
        try:
            if address is not None:
                reply = service.by_address(address, Role.ADMIN, date=date)
            else:
                assert lon is not None and lat is not None
                reply = service.by_point(lon, lat, crs, Role.ADMIN, date=date)
        except AddressNotFoundError as exc:
            if as_json:
                body = {"suggestions": exc.suggestions, "candidates": exc.candidates}
                console.print_json(json.dumps(body, ensure_ascii=False))
            elif exc.suggestions:
                console.print(_suggestions(exc.suggestions))
            raise
    if as_json:
        console.print_json(json.dumps(reply, ensure_ascii=False))
        return
    console.print(_table(reply))


def _table(reply: dict[str, Any]) -> Table:
    """The reply as a two-column table a person can read."""
    lang = language()
    table = Table(show_header=False, title=say("cli.lookup.title"))
    grid = reply["grid"]
    table.add_row(say("cli.lookup.grid"), f"{grid['name']} ({grid['code']})")
    table.add_row(say("cli.lookup.party_branch"), grid.get("party_branch") or "—")
    table.add_row(say("cli.lookup.worker"), grid.get("worker_name") or "—")
    for key in ("community", "street"):
        part = reply.get(key)
        table.add_row(say(f"cli.lookup.{key}"), f"{part['name']} ({part['code']})" if part else "—")
    building = reply.get("building")
    if building:
        table.add_row(say("cli.lookup.building"), f"{building['address']} ({building['code']})")
    match = reply["match"]
    method = MATCH_METHODS.get(match["method"])
    label = method.label(lang) if method else match["method"]
    table.add_row(say("cli.lookup.match"), f"{label} ({match['score']})")
    if match.get("disagrees"):
        table.add_row(say("cli.lookup.disagrees"), say("list.separator").join(match["disagrees"]))
    return table


def _suggestions(suggestions: list[dict[str, Any]]) -> Table:
    """The API's suggestions for an address that matched nothing, best first."""
    table = Table(title=say("cli.lookup.did_you_mean"))
    table.add_column(say("cli.lookup.building"))
    table.add_column(say("cli.lookup.address"))
    table.add_column(say("cli.lookup.score"), justify="right")
    for s in suggestions:
        table.add_row(s["code"], s["address"], f"{s['score']:.3f}")
    return table
