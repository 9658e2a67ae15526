"""`gridmap visits log|due|stats|care|patrol`: visits (走访) and patrols (巡查) from the command line.

The command line speaks for whoever runs it against the store (an admin);
tables show care categories masked unless `--with-personal` is given.
"""

from __future__ import annotations

import datetime as dt
import getpass
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gridmap.cli.app import StoreOption, app, console
from gridmap.cli.localised import LocalisedTyper
from gridmap.errors import ConfigError
from gridmap.export import export_layer
from gridmap.localtime import BEIJING, beijing
from gridmap.privacy import Role
from gridmap.stores import open_store
from gridmap.texts import Message, language, say
from gridmap.visits.patrols import import_gpx, week_of, week_stats
from gridmap.visits.rules import category_label
from gridmap.visits.service import Visit, due, log_visit, set_care, stats

visits_app = LocalisedTyper()
app.add_typer(visits_app, name="visits")

WithPersonal = Annotated[bool, typer.Option()]


def _day(text: str | None, name: str) -> dt.date:
    if text is None:
        return dt.datetime.now(BEIJING).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(Message("cli.bad_date", option=f"--{name}", text=repr(text))) from None


def _when(text: str | None) -> dt.datetime:
    """An ISO time (Beijing time when it names no zone); now when absent."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(Message("cli.visits.bad_time", text=repr(text))) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=BEIJING)


@visits_app.command("log")
def log_command(
    household: Annotated[str, typer.Argument()],
    at: Annotated[str | None, typer.Option()] = None,
    by: Annotated[str | None, typer.Option("--by")] = None,
    reached: Annotated[bool, typer.Option("--reached/--not-reached")] = True,
    notes: Annotated[str | None, typer.Option()] = None,
    follow_up: Annotated[bool, typer.Option()] = False,
    case: Annotated[str | None, typer.Option()] = None,
    key: Annotated[str | None, typer.Option()] = None,
    store: StoreOption = None,
) -> None:
    """Record one visit."""
    visit = Visit(
        key=key or uuid.uuid4().hex,
        household_code=household,
        visitor=by or getpass.getuser(),
        visited_at=_when(at),
        reached=reached,
        notes=notes,
        follow_up=follow_up,
        case_code=case,
    )
    with open_store(store, create=False) as opened:
        row, created = log_visit(opened, visit)
    said = "cli.visits.recorded" if created else "cli.visits.already"
    console.print(
        say(said, key=row["key"], household=household, at=beijing(row["visited_at"])), highlight=False
    )


@visits_app.command("due")
def due_command(
    grid: Annotated[str, typer.Option()],
    on: Annotated[str | None, typer.Option()] = None,
    output: Annotated[Path | None, typer.Option()] = None,
    with_personal: WithPersonal = False,
    store: StoreOption = None,
) -> None:
    """Households to visit: overdue first, then due this week, in walking order along the roads."""
    day = _day(on, "on")
    role = Role.ADMIN if with_personal else Role.VIEWER
    with open_store(store, create=False) as opened:
        table = due(opened, grid, day, role)
    if output is not None:
        path = export_layer(table, output, None, role=role)
        console.print(say("cli.visits.written", n=len(table), path=path), highlight=False)
        return
    lang = language()
    title = say("cli.visits.due_title", grid=grid, day=day.isoformat(), n=len(table))
    shown = Table(title=title, title_justify="left")
    for header in ("order", "status", "code", "address", "care", "every", "last", "due_on", "days_overdue"):
        shown.add_column(say(f"cli.visits.col.{header}"), overflow="fold")
    for r in table.astype(object).where(table.notna(), None).to_dict("records"):
        categories = say("list.comma").join(
            category_label(c, lang) for c in str(r["categories"] or "").split(",") if c
        )
        shown.add_row(
            str(r["order"]),
            say(f"visit.status.{r['status']}"),
            str(r["code"]),
            str(r["address"] or ""),
            categories or say("cli.visits.ordinary"),
            str(r["frequency_days"]),
            str(r["last_visit"] or say("cli.visits.never")),
            str(r["due_on"] or ""),
            "" if r["days_overdue"] is None else str(r["days_overdue"]),
        )
    console.print(shown)


@visits_app.command("stats")
def stats_command(
    since: Annotated[str | None, typer.Option()] = None,
    until: Annotated[str | None, typer.Option()] = None,
    grid: Annotated[list[str] | None, typer.Option()] = None,
    store: StoreOption = None,
) -> None:
    """Visits per grid and worker in a period: visits, reached, follow-ups, cases raised."""
    last = _day(until, "until")
    first = _day(since, "since") if since else last - dt.timedelta(days=29)
    with open_store(store, create=False) as opened:
        table = stats(opened, first, last, grid)
    shown = Table(title=say("cli.visits.stats_title", first=first, last=last), title_justify="left")
    for header in ("grid", "worker", "visits", "reached", "follow_up", "cases", "households"):
        shown.add_column(say(f"cli.visits.stats.{header}"))
    for r in table.itertuples(index=False):
        shown.add_row(*(str(v) for v in r))
    console.print(shown)


@visits_app.command("care")
def care_command(
    household: Annotated[str, typer.Argument()],
    category: Annotated[list[str] | None, typer.Option()] = None,
    by: Annotated[str | None, typer.Option("--by")] = None,
    store: StoreOption = None,
) -> None:
    """Set a household's care categories (the visit frequency follows)."""
    with open_store(store, create=False) as opened:
        codes = set_care(opened, household, category or [], by or getpass.getuser())
    shown = say("list.comma").join(codes) or say("cli.visits.ordinary")
    console.print(f"{household}: {shown}", highlight=False)


patrol_app = LocalisedTyper()
visits_app.add_typer(patrol_app, name="patrol")


@patrol_app.command("import")
def patrol_import_command(
    file: Annotated[Path, typer.Argument()],
    worker: Annotated[str, typer.Option()],
    grid: Annotated[str | None, typer.Option()] = None,
    store: StoreOption = None,
) -> None:
    """Record a GPX track as a patrol; importing the same file again records nothing."""
    with open_store(store, create=False) as opened:
        row, created = import_gpx(opened, file, worker, grid)
    said = say(
        "cli.patrol.recorded" if created else "cli.patrol.already",
        grid=row["grid_code"],
        day=row["day"],
        km=row["inside_m"] / 1000,
        minutes=row["inside_s"] / 60,
        walked=row["length_m"] / 1000,
    )
    console.print(said, highlight=False)


@patrol_app.command("week")
def patrol_week_command(
    on: Annotated[str | None, typer.Option()] = None,
    grid: Annotated[list[str] | None, typer.Option()] = None,
    store: StoreOption = None,
) -> None:
    """Per grid, one week (Monday to Sunday): patrols, km and minutes inside, share of roads walked."""
    day = _day(on, "on")
    with open_store(store, create=False) as opened:
        table = week_stats(opened, day, grid)
    monday, sunday = week_of(day)
    shown = Table(title=say("cli.patrol.week_title", first=monday, last=sunday), title_justify="left")
    for header in ("grid", "patrols", "days", "inside_km", "inside_minutes", "road_km", "road_share"):
        shown.add_column(say(f"cli.patrol.col.{header}"))
    for r in table.astype(object).to_dict("records"):
        share = r["road_share"]
        shown.add_row(
            str(r["grid_code"]),
            str(r["patrols"]),
            str(r["days"]),
            f"{r['inside_km']:.2f}",
            f"{r['inside_minutes']:.0f}",
            f"{r['road_km']:.2f}",
            say("cli.patrol.no_roads") if share is None or share != share else f"{share:.0%}",
        )
    console.print(shown)
