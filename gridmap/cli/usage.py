"""typer's own usage errors (a missing argument, an unknown option, a bad value) in the reader's language.

typer (with its copy of click) writes these in English from fixed sentences
and keeps what they were made from on the error: the parameter, its kind,
the option's name. Chinese readers get them said again from
`gridmap.texts.messages` (`usage.*`): from those parts where the error has
them, else by reading typer's sentence back with the table's English
template. English readers get typer's own words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError as PydanticError
from typer._click import exceptions as usage

from gridmap.texts import Lang, read_back, say, say_again
from gridmap.texts.inputs import input_reason
from gridmap.texts.messages import MESSAGES

_PLAIN = ("usage.missing_command", "usage.no_such_command", "usage.extra_arguments", "usage.values_iterable")
_OPTION = ("usage.no_value", "usage.needs_value", "usage.needs_values")
_PATH = (
    "usage.path_missing",
    "usage.path_is_file",
    "usage.path_is_dir",
    "usage.path_unreadable",
    "usage.path_unwritable",
)


def usage_text(error: usage.ClickException, lang: Lang) -> str:
    """What `error` says, in `lang`."""
    english = error.format_message()
    if lang == "en":
        return english
    if isinstance(error, usage.MissingParameter):
        return _missing(error, lang)
    if isinstance(error, usage.NoSuchOption):
        return _no_such_option(error, lang)
    if isinstance(error, usage.BadParameter):
        return _bad_value(error, lang)
    if isinstance(error, usage.FileError):
        return say("usage.cannot_open", lang, path=repr(error.ui_filename), why=error.message)
    suggested = read_back("usage.did_you_mean", english)  # typer's suggestion after an unknown command
    if suggested is not None:
        asked = suggested["message"]
        said = say_again(f"{asked}.", _PLAIN, lang) or asked
        return say("usage.did_you_mean", lang, message=said, suggestions=suggested["suggestions"])
    return say_again(english, (*_PLAIN, *_OPTION), lang) or english


def _hint(error: usage.BadParameter) -> str | None:
    if error.param_hint is not None:
        return usage._join_param_hints(error.param_hint)
    return error.param.get_error_hint() if error.param is not None else None


def _missing(error: usage.MissingParameter, lang: Lang) -> str:
    param = error.param
    kind = error.param_type or (param.param_type_name if param is not None else "parameter")
    more = [error.message] if error.message else []
    if param is not None and (choices := param.get_missing_message(ctx=error.ctx)):
        more.append(say_again(choices, ["usage.choose_from"], lang) or choices)
    named = say("usage.missing", lang, kind=say(f"usage.kind.{kind}", lang), hint=_hint(error) or "")
    return "".join([named, *more])


def _no_such_option(error: usage.NoSuchOption, lang: Lang) -> str:
    said = say_again(error.message, ["usage.no_such_option"], lang) or error.message
    if not error.possibilities:
        return said
    return say("usage.possible_options", lang, message=said, options=", ".join(sorted(error.possibilities)))


def _bad_value(error: usage.BadParameter, lang: Lang) -> str:
    cause = error.__cause__
    if isinstance(cause, PydanticError) and cause.errors():
        reason = input_reason(cause.errors()[0], lang)
    else:
        reason = (
            _path_reason(error.message, lang)
            or say_again(error.message, ["usage.values_iterable"], lang)
            or error.message
        )
    hint = _hint(error)
    return (
        say("usage.invalid_for", lang, hint=hint, reason=reason)
        if hint
        else say("usage.invalid", lang, reason=reason)
    )


def _path_reason(english: str, lang: Lang) -> str | None:
    """typer's refusal of a path ("file 'x.csv' does not exist."), its kind of path said too."""
    for key in _PATH:
        values = read_back(key, english)
        if values is not None:
            kind = f"usage.path.{values['label']}"
            return say(
                key, lang, **{**values, "label": say(kind, lang) if kind in MESSAGES else values["label"]}
            )
    return None


def saying(show: Callable[[Any], None], lang: Lang) -> Callable[[Any], None]:
    """typer's printer of usage errors (`rich_utils.rich_format_error`), printing them in `lang`."""

    def show_in_language(error: Any) -> None:
        if isinstance(error, usage.ClickException) and not isinstance(error, usage.NoArgsIsHelpError):
            said = usage_text(error, lang)
            error.format_message = lambda: said  # type: ignore[method-assign]
        show(error)

    return show_in_language
