"""`gridmap token add|list|remove`: the API's tokens file, kept by a command instead of by hand.

The file is the JSON `gridmap serve` reads from GRIDMAP_TOKENS_FILE
(`{"<token>": {"name", "role", "communities", "departments"}}`). `add`
draws a random token, checks the whole file as the server will, writes it
readable by its owner only and prints the token once; `list` never prints a
whole token.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from gridmap.cli.app import app, console
from gridmap.cli.localised import LocalisedTyper
from gridmap.errors import ConfigError, NotFoundError
from gridmap.texts import Message, say

token_app = LocalisedTyper()
app.add_typer(token_app, name="token")

DEFAULT_FILE = Path("tokens.json")
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        envvar="GRIDMAP_TOKENS_FILE",
    ),
]


def _path(file: Path | None) -> Path:
    return file or DEFAULT_FILE


def _read(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(Message("cli.token.not_object", path=path))
    return raw


def _write(path: Path, tokens: dict[str, dict[str, Any]]) -> None:
    """Check every token as `gridmap serve` will, then write the file (owner read/write only)."""
    from api.settings import ApiSettings

    ApiSettings(tokens=json.dumps(tokens), tokens_file=None).grants()  # type: ignore[call-arg]
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(path.name + ".tmp")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(tokens, out, ensure_ascii=False, indent=2)
    fresh.replace(path)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


@token_app.command("add")
def add(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option()],
    communities: Annotated[
        list[str] | None,
        typer.Option("--communities"),
    ] = None,
    departments: Annotated[list[str] | None, typer.Option("--departments")] = None,
    file: FileOption = None,
) -> None:
    """Make a new random token and add it to the tokens file; the token is printed once."""
    path = _path(file)
    tokens = _read(path)
    if any(spec.get("name") == name for spec in tokens.values()):
        raise ConfigError(Message("cli.token.exists", name=repr(name), path=path))
    grant: dict[str, Any] = {"name": name, "role": role}
    if _split(communities):
        grant["communities"] = _split(communities)
    if _split(departments):
        grant["departments"] = _split(departments)
    token = secrets.token_urlsafe(24)
    _write(path, {**tokens, token: grant})
    console.print(say("cli.token.added", name=repr(name), role=role, path=path), highlight=False)
    console.print(token, highlight=False, soft_wrap=True)
    console.print(say("cli.token.keep_it", path=path), highlight=False)


@token_app.command("list")
def list_tokens(file: FileOption = None) -> None:
    """The tokens in the file: name, role, communities, departments and the token's first characters."""
    path = _path(file)
    tokens = _read(path)
    table = Table(
        *(say(f"cli.token.{c}") for c in ("name", "role", "communities", "departments", "token")),
        title=str(path),
    )
    for token, spec in tokens.items():
        table.add_row(
            str(spec.get("name") or ""),
            str(spec.get("role") or ""),
            ", ".join(spec.get("communities") or []),
            ", ".join(spec.get("departments") or []),
            f"{token[:4]}…",
        )
    console.print(table)
    console.print(say("cli.token.count", n=len(tokens)), highlight=False)


@token_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument()],
    file: FileOption = None,
) -> None:
    """Remove a token from the file (a running server stops accepting it once restarted)."""
    path = _path(file)
    tokens = _read(path)
    prefix = name.removesuffix("…")
    gone = [t for t, spec in tokens.items() if spec.get("name") == name] or [
        t for t in tokens if len(prefix) >= 4 and t.startswith(prefix)
    ]
    if len(gone) != 1:
        known = ", ".join(str(spec.get("name") or f"{t[:4]}…") for t, spec in tokens.items()) or "none"
        raise NotFoundError(Message("cli.token.not_found", name=repr(name), path=path, known=known))
    _write(path, {t: spec for t, spec in tokens.items() if t != gone[0]})
    console.print(say("cli.token.removed", name=repr(name), path=path), highlight=False)
