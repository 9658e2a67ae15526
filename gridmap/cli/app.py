"""The Typer application and the options every command shares."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="gridmap",
    help="Grid mapping for community grid governance (网格化管理).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="GRIDMAP_STORE",
        help="GeoPackage path or postgresql+psycopg://user@host/db (default ./gridmap.gpkg).",
    ),
]
