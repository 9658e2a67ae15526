"""`gridmap history`, `gridmap revert`, `gridmap diff`: who changed what, undo, and redrawn boundaries."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from gridmap.cli.app import StoreOption, app, console
from gridmap.history import Revision
from gridmap.localtime import beijing
from gridmap.regrid import grid_changes
from gridmap.stores import open_store
from gridmap.texts import Message, say
from gridmap.versions import InvalidDateError


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidDateError(Message("cli.history.bad_since", value=repr(value))) from None


def _summary(revision: Revision) -> str:
    parts = []
    for layer, counts in revision.counts.items():
        shown = say("list.comma").join(f"{say(f'history.{op}')} {n:,}" for op, n in counts.items() if n)
        parts.append(f"{layer}: {shown}")
    return say("list.separator").join(parts)


@app.command()
def history(
    layer: Annotated[str | None, typer.Option()] = None,
    code: Annotated[str | None, typer.Option()] = None,
    since: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    store: StoreOption = None,
) -> None:
    """List the revisions (every write is one): when, who, the command and what changed.

    With --layer and --code, each revision shows that feature's full before and
    after: what is stored about it, and since when.
    """
    with open_store(store, create=False) as opened:
        found = opened.history(layer=layer, code=code, since=_since(since), limit=limit)
        if code is not None or as_json:
            found = [opened.changes(r.id, layer=layer, code=code) if code is not None else r for r in found]
    if as_json:
        console.print_json(json.dumps([r.as_dict() for r in found], ensure_ascii=False, default=str))
        return
    table = Table(title=say("cli.history.title"))
    table.add_column(say("cli.history.revision"))
    table.add_column(say("cli.history.at"), no_wrap=True, min_width=19)
    for column in ("cli.history.author", "cli.history.command", "cli.history.changes"):
        table.add_column(say(column))
    for r in found:
        who = r.author if r.role is None else f"{r.author} ({r.role})"
        command = (
            r.command if r.reverts is None else say("cli.history.reverts", command=r.command, n=r.reverts)
        )
        table.add_row(str(r.id), beijing(r.at, seconds=True), who, command, _summary(r))
        for change in r.changes:
            table.add_row(
                "",
                "",
                "",
                f"  {change.layer} {change.code} {say(f'history.{change.op}')}",
                _sides(change.before, change.after),
            )
    console.print(table)


def _sides(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """The fields that differ, as `field: before → after`."""
    names = [k for k in (after or before or {}) if k != "revision"]
    diffs = [
        f"{k}: {(before or {}).get(k)} → {(after or {}).get(k)}"
        for k in names
        if (before or {}).get(k) != (after or {}).get(k)
    ]
    return "\n".join(diffs)


@app.command()
def revert(
    revision: Annotated[int, typer.Argument()],
    store: StoreOption = None,
) -> None:
    """Restore every feature a revision changed to its state before it, as a new revision.

    Refused when a feature has changed since (revert the later revisions first);
    the restored features are checked like an import.
    """
    with open_store(store, create=False) as opened:
        new = opened.revert(revision)
    console.print(say("cli.history.reverted", old=revision, new=new))


@app.command()
def diff(
    start: Annotated[str, typer.Option("--from")],
    end: Annotated[str, typer.Option("--to")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    store: StoreOption = None,
) -> None:
    """List the buildings and households whose grid differs between two dates (boundary versions)."""
    with open_store(store, create=False) as opened:
        changes = grid_changes(opened, start, end)
    if as_json:
        body = {
            layer: frame.astype(object).where(frame.notna(), None).to_dict("records")
            for layer, frame in changes.items()
        }
        console.print_json(json.dumps(body, ensure_ascii=False))
        return
    for layer, frame in changes.items():
        table = Table(title=say("cli.diff.title", layer=layer, n=len(frame), start=start, end=end))
        for column in frame.columns:
            table.add_column(column)
        for row in frame.astype(object).where(frame.notna(), "—").itertuples(index=False):
            table.add_row(*(str(v) for v in row))
        console.print(table)
