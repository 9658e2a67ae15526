"""Reading a configuration JSON file into a pydantic model, with one clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from gridmap.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_model(path: str | Path, model: type[M], what: str) -> M:
    """`path` parsed as `model`; a ConfigError names `what`, the file and the first bad field."""
    try:
        return model.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise ConfigError(f"{what} {path}: {where}: {first['msg']}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{what} {path}: {exc}") from None
