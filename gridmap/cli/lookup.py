"""`gridmap lookup`: which grid owns an address or a point, from the command line."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from gridmap.cli.app import StoreOption, app, console
from gridmap.errors import ConfigError
from gridmap.lookup import LookupService
from gridmap.privacy import Role
from gridmap.stores import open_store


@app.command()
def lookup(
    address: Annotated[str | None, typer.Argument(help="An address, e.g. 幸福路88号3栋2单元301室.")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude (or x) of a point.")] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude (or y) of a point.")] = None,
    crs: Annotated[str, typer.Option(help="CRS of --lon/--lat: wgs84, cgcs2000, gcj02, bd09, EPSG:n.")] = (
        "wgs84"
    ),
    date: Annotated[
        str | None,
        typer.Option("--date", help="Answer with the boundaries in force on this date (YYYY-MM-DD)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON reply.")] = False,
    store: StoreOption = None,
) -> None:
    """Find the grid, community, street and grid worker for an address or a point."""
    if (address is None) == (lon is None or lat is None):
        raise ConfigError("give either an ADDRESS or both --lon and --lat")
    with open_store(store) as opened:
        service = LookupService(opened)
        if address is not None:
            reply = service.by_address(address, Role.ADMIN, date=date)
        else:
            assert lon is not None and lat is not None
            reply = service.by_point(lon, lat, crs, Role.ADMIN, date=date)
    if as_json:
        console.print_json(json.dumps(reply, ensure_ascii=False))
        return
    console.print(_table(reply))


def _table(reply: dict[str, Any]) -> Table:
    """The reply as a two-column table a person can read."""
    table = Table(show_header=False, title="查询结果 lookup")
    grid = reply["grid"]
    table.add_row("网格 grid", f"{grid['name']} ({grid['code']})")
    table.add_row("网格党支部 party branch", grid.get("party_branch") or "—")
    table.add_row("网格员 grid worker", grid.get("worker_name") or "—")
    for key, label in (("community", "社区 community"), ("street", "街道 street")):
        part = reply.get(key)
        table.add_row(label, f"{part['name']} ({part['code']})" if part else "—")
    building = reply.get("building")
    if building:
        table.add_row("楼栋 building", f"{building['address']} ({building['code']})")
    match = reply["match"]
    table.add_row("匹配 match", f"{match['method']} ({match['score']})")
    return table
