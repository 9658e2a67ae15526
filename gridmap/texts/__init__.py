"""Every sentence gridmap says to a person, in Chinese (the default) and English.

The words live in two tables: `gridmap.texts.messages.MESSAGES` (what the
library, the CLI and the API say) and `gridmap.texts.help.HELP` (the CLI's
`--help`), each entry a key and its (Chinese, English) pair. Code never
branches on the language: it makes a `Message` from a key and values, and
whatever shows it renders it in the reader's language — `GRIDMAP_LANG`
(`zh` by default, `en`) for the CLI, the request's Accept-Language for the API.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Literal

from gridmap.settings import language_setting

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


def language() -> Lang:
    """The language people read here: GRIDMAP_LANG (zh or en), Chinese when unset."""
    chosen = language_setting()
    if chosen not in LANGS:
        from gridmap.errors import ConfigError

        raise ConfigError(Message("settings.language", value=repr(chosen)))
    return chosen


def _readable_language() -> Lang:
    """`language()` for saying something: never an error (an unknown GRIDMAP_LANG is refused where it is
    read, by `language()`; meanwhile messages, that refusal among them, are said in Chinese)."""
    return "en" if language_setting() == "en" else "zh"


def _table() -> dict[str, tuple[str, str]]:
    from gridmap.texts.messages import MESSAGES

    return MESSAGES


def say(key: str, lang: Lang | None = None, /, **values: Any) -> str:
    """The message `key` with `values` filled in, in `lang` (default: `language()`).

    Without values the text is returned as written (typer's `[default: {}]` keeps its braces).
    """
    zh, en = _table()[key]
    template = en if (lang or _readable_language()) == "en" else zh
    if not values:
        return template
    return template.format(**{name: render(value, lang) for name, value in values.items()})


class Message(str):
    """A sentence for a person, kept with its key and values so it can be said in either language.

    As a `str` it is its English text: what logs, comparisons and machine
    readers see, whatever the reader's language. `render` (or `render(text,
    lang)` on anything that may be a Message) says it in a language.
    """

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, /, **values: Any) -> Message:
        made = super().__new__(cls, say(key, "en", **values))
        made.key = key
        made.values = values
        return made

    def render(self, lang: Lang | None = None) -> str:
        return say(self.key, lang, **self.values)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_message, (self.key, self.values))


def _message(key: str, values: dict[str, Any]) -> Message:
    return Message(key, **values)


def render(text: object, lang: Lang | None = None) -> object:
    """`text` in `lang` when it is a Message (numbers and plain strings are left as they are)."""
    return text.render(lang) if isinstance(text, Message) else text


def text(value: object, lang: Lang | None = None) -> str:
    """`value` as a string a person reads in `lang`."""
    return str(render(value, lang))


@cache
def _reading(key: str) -> re.Pattern[str]:
    """A pattern that reads the English text of `key` back into its values."""
    parts = []
    for literal, name, _spec, _conversion in string.Formatter().parse(_table()[key][1]):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


def read_back(key: str, english: str) -> dict[str, str] | None:
    """The values that make `key`'s English text read `english` (None when it reads otherwise).

    For words another library wrote in English from the same template (typer's usage errors):
    reading them back lets gridmap say them again in the reader's language.
    """
    found = _reading(key).fullmatch(english)
    return found.groupdict() if found else None


def say_again(english: str, keys: Iterable[str], lang: Lang) -> str | None:
    """`english`, read back by the first of `keys` whose English it is, said in `lang` (else None)."""
    for key in keys:
        values = read_back(key, english)
        if values is not None:
            return say(key, lang, **values)
    return None


def joined(items: Sequence[object]) -> Message:
    """`items` (Messages or plain text, at least one) as one list, "; "-separated, said in the reader's language.

    Built as nested Messages, so the list is joined when it is said, not in the language of the moment it was made.
    """
    first, *rest = items
    return Message("list.joined", first=first, rest=joined(rest)) if rest else Message("list.one", item=first)
