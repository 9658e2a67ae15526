"""`gridmap token`: tokens made by a command, read by the server exactly as written."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from typer.testing import CliRunner

from api.settings import ApiSettings
from gridmap.cli import app
from gridmap.errors import ConfigError, NotFoundError


def run(*args: str) -> object:
    return CliRunner().invoke(app, ["token", *args])


def test_add_list_remove(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    added = run(
        "add",
        "王网格长",
        "--role",
        "editor",
        "--communities",
        "420106001004,420106001005",
        "--file",
        str(path),
    )
    assert added.exit_code == 0, added.output
    (token,) = json.loads(path.read_text(encoding="utf-8"))
    assert token in added.output.split() and len(token) >= 32  # shown once, whole
    grants = ApiSettings(tokens_file=path).grants()  # type: ignore[call-arg]
    assert grants[token].role == "editor" and grants[token].name == "王网格长"
    assert grants[token].communities == ("420106001004", "420106001005")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert run("add", "区级", "--role", "viewer", "--file", str(path)).exit_code == 0
    listed = run("list", "--file", str(path))
    assert "王网格长" in listed.output and "区级" in listed.output and token not in listed.output
    assert "2 token(s)" in listed.output
    assert run("remove", "王网格长", "--file", str(path)).exit_code == 0
    assert list(json.loads(path.read_text(encoding="utf-8")).values()) == [{"name": "区级", "role": "viewer"}]


def test_bad_grants_are_refused_as_the_server_would(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    editor = run("add", "someone", "--role", "editor", "--file", str(path))
    assert isinstance(editor.exception, ConfigError) and "at least one community" in str(editor.exception)
    assert not path.exists()  # nothing written
    assert isinstance(run("add", "x", "--role", "boss", "--file", str(path)).exception, ConfigError)
    assert run("add", "x", "--role", "admin", "--file", str(path)).exit_code == 0
    twice = run("add", "x", "--role", "admin", "--file", str(path))
    assert isinstance(twice.exception, ConfigError) and "already" in str(twice.exception)
    missing = run("remove", "nobody", "--file", str(path))
    assert isinstance(missing.exception, NotFoundError)
