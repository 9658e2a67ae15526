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
        raise ConfigError("give either an ADDRESS or both --lon and --lat")
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
    method = MATCH_METHODS.get(match["method"])
    label = f"{method.zh} {method.code}" if method else match["method"]
    table.add_row("匹配 match", f"{label} ({match['score']})")
    if match.get("disagrees"):
        table.add_row("地址所写不符 not where written", "、".join(match["disagrees"]))
    return table


def _suggestions(suggestions: list[dict[str, Any]]) -> Table:
    """The API's suggestions for an address that matched nothing, best first."""
    table = Table(title="您是否要找 did you mean")
    table.add_column("楼栋 building")
    table.add_column("地址 address")
    table.add_column("相似度 score", justify="right")
    for s in suggestions:
        table.add_row(s["code"], s["address"], f"{s['score']:.3f}")
    return table
