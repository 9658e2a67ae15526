"""The `gridmap` command line. Each command group lives in its own module."""

from __future__ import annotations

import sys

from rich.markup import escape

from gridmap.cli import analysis as _analysis  # noqa: F401 - registers assign, analyze
from gridmap.cli import cases as _cases  # noqa: F401 - registers cases report|list|move|stats|seed
from gridmap.cli import data as _data  # noqa: F401 - registers import, layers
from gridmap.cli import demo as _demo  # noqa: F401 - registers demo, sample
from gridmap.cli import export as _export  # noqa: F401 - registers export
from gridmap.cli import features as _features  # noqa: F401 - registers features
from gridmap.cli import history as _history  # noqa: F401 - registers history, revert, diff
from gridmap.cli import lookup as _lookup  # noqa: F401 - registers lookup
from gridmap.cli import maps as _maps  # noqa: F401 - registers map
from gridmap.cli import party as _party  # noqa: F401 - registers party …
from gridmap.cli import report as _report  # noqa: F401 - registers report
from gridmap.cli import serve as _serve  # noqa: F401 - registers serve
from gridmap.cli import tokens as _tokens  # noqa: F401 - registers token add|list|remove
from gridmap.cli import validate as _validate  # noqa: F401 - registers validate, site
from gridmap.cli import visits as _visits  # noqa: F401 - registers visits log|due|stats|care
from gridmap.cli.app import app, err_console
from gridmap.cli.localised import typer_words
from gridmap.errors import GridmapError
from gridmap.texts import Lang, language, say

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app; a GridmapError prints one clear message and exits 1."""
    lang: Lang = "zh"  # until GRIDMAP_LANG is read: a value gridmap cannot speak is refused in Chinese
    try:
        lang = language()
        with typer_words(lang):  # typer's own words (a usage error's frame) in the reader's language
            app()
    except GridmapError as exc:
        err_console.print(f"[bold red]{say('cli.error', lang)}[/] {escape(exc.text(lang))}", highlight=False)
        sys.exit(1)
