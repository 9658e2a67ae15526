"""pydantic's reasons for refusing an input (a CLI option's value, an API parameter), in the reader's language.

pydantic writes its reasons in English; each error also carries its `type` and
the values (`ctx`) its sentence was made from, so gridmap says the sentence
again from `gridmap.texts.messages` under `input.<type>`. English readers get
pydantic's own words; a type the table does not know keeps them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gridmap.texts import Lang, say, say_again
from gridmap.texts.messages import MESSAGES


def input_reason(error: Mapping[str, Any], lang: Lang) -> str:
    """The reason of one pydantic error (an item of `ValidationError.errors()`) in `lang`."""
    english = str(error.get("msg", ""))
    key = f"input.{error.get('type')}"
    if lang == "en" or key not in MESSAGES:
        return english
    values = {name: str(value) for name, value in (error.get("ctx") or {}).items()}
    if error.get("type") == "value_error":  # a validator's own ValueError: typer's refused choice
        values["error"] = say_again(values.get("error", ""), ["usage.not_one_of"], lang) or values.get(
            "error", ""
        )
    return say(key, lang, **values)
