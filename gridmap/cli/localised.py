"""`--help` in the reader's language: commands take their help from `gridmap.texts.help` when it is shown.

Typer builds its click commands once per run; these classes fill in the help
of a command, its parameters and its subcommands just before the help is
formatted, in `gridmap.texts.language()`, along with the words typer itself
prints around them (Usage, the panel titles, [default: …], [required]).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.text import Text
from typer import rich_utils
from typer.core import TyperCommand, TyperGroup

from gridmap.cli.usage import saying
from gridmap.texts import Lang, language, say
from gridmap.texts.help import HELP

_TYPER_WORDS = {
    "ARGUMENTS_PANEL_TITLE": "cli.help.arguments",
    "OPTIONS_PANEL_TITLE": "cli.help.options",
    "COMMANDS_PANEL_TITLE": "cli.help.commands",
    "DEFAULT_STRING": "cli.help.default",
    "REQUIRED_LONG_STRING": "cli.help.required",
    "ENVVAR_STRING": "cli.help.envvar",
    "ERRORS_PANEL_TITLE": "cli.help.error",
    "RICH_HELP": "cli.help.try",
    "ABORTED_TEXT": "cli.help.aborted",
}


def help_key(path: str, param: str | None = None) -> str:
    """The HELP key of a command (`path`, "" for the program) or of one of its parameters."""
    command = path or "gridmap"
    if param is None:
        return command
    own = f"{path} {param}".strip()
    return own if own in HELP else f"* {param}"


def help_text(key: str, lang: Lang) -> str:
    """The help under `key` in `lang` (a KeyError names a command or option left out of the table)."""
    zh, en = HELP[key]
    return zh if lang == "zh" else en


def command_path(ctx: Any) -> str:
    """The command path below the program: "" for `gridmap`, "cases list" for `gridmap cases list`."""
    names: list[str] = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def localise(command: Any, ctx: Any, lang: Lang) -> None:
    """Set the help of `command`, its parameters and (for a group) its subcommands in `lang`."""
    path = command_path(ctx)
    command.help = help_text(help_key(path), lang)
    for param in command.get_params(ctx):
        if param.name:
            param.help = help_text(help_key(path, param.name), lang)
    if isinstance(command, TyperGroup):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                sub.help = help_text(help_key(f"{path} {name}".strip()), lang)


def _folding(make: Callable[..., Any]) -> Callable[..., Any]:
    """typer's help text maker, folding long lines instead of cutting them: Chinese has no spaces to
    wrap at, so a table cell would otherwise end in "…" after its first line."""

    def make_folding(**options: Any) -> Any:
        made = make(**options)
        if isinstance(made, Text):
            made.overflow = "fold"
        return made

    return make_folding


@contextmanager
def typer_words(lang: Lang) -> Iterator[None]:
    """typer's own words in `lang` while it runs: around the help (panel titles, [default: …]) and in
    its usage errors (a missing argument, an unknown option); and help text that folds."""
    names = [*_TYPER_WORDS, "_make_rich_text", "rich_format_error"]
    saved = {name: getattr(rich_utils, name) for name in names}
    try:
        for name, key in _TYPER_WORDS.items():
            setattr(rich_utils, name, say(key, lang))
        rich_utils._make_rich_text = _folding(saved["_make_rich_text"])
        rich_utils.rich_format_error = saying(saved["rich_format_error"], lang)  # type: ignore[assignment]
        yield
    finally:
        for name, value in saved.items():
            setattr(rich_utils, name, value)


def _format_help(fmt: Callable[[Any, Any], None], command: Any, ctx: Any, formatter: Any) -> None:
    lang = language()
    localise(command, ctx, lang)
    with typer_words(lang):
        fmt(ctx, formatter)


def _format_usage(command: Any, ctx: Any, formatter: Any) -> None:
    pieces = command.collect_usage_pieces(ctx)
    formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=say("cli.help.usage"))


class LocalisedCommand(TyperCommand):
    """A command whose help is read from `gridmap.texts.help` in the reader's language."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _format_help(super().format_help, self, ctx, formatter)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        _format_usage(self, ctx, formatter)


class LocalisedGroup(TyperGroup):
    """A command group whose help (and its commands' one-line help) is read from `gridmap.texts.help`."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _format_help(super().format_help, self, ctx, formatter)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        _format_usage(self, ctx, formatter)


class LocalisedTyper(typer.Typer):
    """A Typer whose groups and commands show their help in the reader's language."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cls=LocalisedGroup, **options)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **options: Any
    ) -> Any:
        return super().command(name, cls=cls or LocalisedCommand, **options)
