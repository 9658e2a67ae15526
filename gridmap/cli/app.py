"""The Typer application and the options every command shares."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from gridmap.cli.localised import LocalisedTyper

app = LocalisedTyper(
    name="gridmap",
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
    ),
]
