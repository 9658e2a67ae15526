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
from gridmap.errors import ConfigError
from gridmap.export import export_layer
from gridmap.localtime import BEIJING, beijing
from gridmap.privacy import Role
from gridmap.stores import open_store
from gridmap.visits.due import STATUS_LABELS
from gridmap.visits.patrols import import_gpx, week_of, week_stats
from gridmap.visits.rules import category_label
from gridmap.visits.service import Visit, due, log_visit, set_care, stats

visits_app = typer.Typer(
    help="走访 Visits: record a visit, a grid's due list, visit figures, care categories."
)
app.add_typer(visits_app, name="visits")

WithPersonal = Annotated[bool, typer.Option(help="Show care categories unmasked (as an admin).")]


def _day(text: str | None, name: str) -> dt.date:
    if text is None:
        return dt.datetime.now(BEIJING).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--{name} must be a date YYYY-MM-DD, not {text!r}") from None


def _when(text: str | None) -> dt.datetime:
    """An ISO time (Beijing time when it names no zone); now when absent."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--at must be a time YYYY-MM-DDTHH:MM, not {text!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=BEIJING)


@visits_app.command("log")
def log_command(
    household: Annotated[str, typer.Argument(help="Household code.")],
    at: Annotated[
        str | None, typer.Option(help="When (ISO; Beijing time without a zone). Default: now.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who visited.")] = None,
    reached: Annotated[bool, typer.Option("--reached/--not-reached", help="Whether anyone was met.")] = True,
    notes: Annotated[str | None, typer.Option(help="民情日记: what was found.")] = None,
    follow_up: Annotated[bool, typer.Option(help="A follow-up visit is needed.")] = False,
    case: Annotated[str | None, typer.Option(help="Code of the case raised from this visit.")] = None,
    key: Annotated[
        str | None, typer.Option(help="Idempotency key (a repeat with it writes nothing).")
    ] = None,
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
    state = "recorded" if created else "already recorded"
    console.print(
        f"visit {row['key']} of {household} {state} ({beijing(row['visited_at'])})", highlight=False
    )


@visits_app.command("due")
def due_command(
    grid: Annotated[str, typer.Option(help="The grid whose list to make.")],
    on: Annotated[str | None, typer.Option(help="The day (YYYY-MM-DD, Beijing). Default: today.")] = None,
    output: Annotated[Path | None, typer.Option(help="Write the list to a file (.csv, .xlsx…).")] = None,
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
        console.print(f"{len(table):,} households → {path}", highlight=False)
        return
    shown = Table(title=f"网格 {grid} 走访清单 {day.isoformat()}：{len(table):,} 户", title_justify="left")
    for header in (
        "顺序",
        "状态",
        "户编码",
        "地址",
        "关爱类别",
        "频次(天)",
        "上次走访",
        "应访日期",
        "逾期天数",
    ):
        shown.add_column(header, overflow="fold")
    for r in table.astype(object).where(table.notna(), None).to_dict("records"):
        categories = "、".join(category_label(c) for c in str(r["categories"] or "").split(",") if c)
        shown.add_row(
            str(r["order"]),
            STATUS_LABELS[str(r["status"])],
            str(r["code"]),
            str(r["address"] or ""),
            categories or "一般",
            str(r["frequency_days"]),
            str(r["last_visit"] or "从未"),
            str(r["due_on"] or ""),
            "" if r["days_overdue"] is None else str(r["days_overdue"]),
        )
    console.print(shown)


@visits_app.command("stats")
def stats_command(
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD). Default: 30 days ago.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD). Default: today.")] = None,
    grid: Annotated[list[str] | None, typer.Option(help="Only these grids (repeatable).")] = None,
    store: StoreOption = None,
) -> None:
    """Visits per grid and worker in a period: visits, reached, follow-ups, cases raised."""
    last = _day(until, "until")
    first = _day(since, "since") if since else last - dt.timedelta(days=29)
    with open_store(store, create=False) as opened:
        table = stats(opened, first, last, grid)
    shown = Table(title=f"走访统计 {first} — {last}", title_justify="left")
    for header in ("网格", "网格员", "走访次数", "见面", "需跟进", "转案件", "走访户数"):
        shown.add_column(header)
    for r in table.itertuples(index=False):
        shown.add_row(*(str(v) for v in r))
    console.print(shown)


@visits_app.command("care")
def care_command(
    household: Annotated[str, typer.Argument(help="Household code.")],
    category: Annotated[
        list[str] | None, typer.Option(help="Care category code or label (repeatable); none: ordinary.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who notes it.")] = None,
    store: StoreOption = None,
) -> None:
    """Set a household's care categories (the visit frequency follows)."""
    with open_store(store, create=False) as opened:
        codes = set_care(opened, household, category or [], by or getpass.getuser())
    console.print(f"{household}: {', '.join(codes) or 'ordinary'}", highlight=False)


patrol_app = typer.Typer(help="巡查 Patrols: import a GPX track, a week's patrol figures per grid.")
visits_app.add_typer(patrol_app, name="patrol")


@patrol_app.command("import")
def patrol_import_command(
    file: Annotated[Path, typer.Argument(help="GPX file of one patrol (every track point needs a time).")],
    worker: Annotated[str, typer.Option(help="Who walked it (the grid's worker_name picks the grid).")],
    grid: Annotated[
        str | None, typer.Option(help="The grid patrolled. Default: the grid the worker works.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Record a GPX track as a patrol; importing the same file again records nothing."""
    with open_store(store, create=False) as opened:
        row, created = import_gpx(opened, file, worker, grid)
    state = "recorded" if created else "already recorded"
    console.print(
        f"patrol of {row['grid_code']} on {row['day']} {state}: {row['inside_m'] / 1000:.2f} km and "
        f"{row['inside_s'] / 60:.0f} min inside the grid ({row['length_m'] / 1000:.2f} km walked)",
        highlight=False,
    )


@patrol_app.command("week")
def patrol_week_command(
    on: Annotated[str | None, typer.Option(help="A day of the week (YYYY-MM-DD). Default: today.")] = None,
    grid: Annotated[list[str] | None, typer.Option(help="Only these grids (repeatable).")] = None,
    store: StoreOption = None,
) -> None:
    """Per grid, one week (Monday to Sunday): patrols, km and minutes inside, share of roads walked."""
    day = _day(on, "on")
    with open_store(store, create=False) as opened:
        table = week_stats(opened, day, grid)
    monday, sunday = week_of(day)
    shown = Table(title=f"巡查 {monday} — {sunday}", title_justify="left")
    for header in ("网格", "巡查次数", "天数", "网格内公里", "网格内分钟", "道路公里", "走过道路占比"):
        shown.add_column(header)
    for r in table.astype(object).to_dict("records"):
        share = r["road_share"]
        shown.add_row(
            str(r["grid_code"]),
            str(r["patrols"]),
            str(r["days"]),
            f"{r['inside_km']:.2f}",
            f"{r['inside_minutes']:.0f}",
            f"{r['road_km']:.2f}",
            "无道路" if share is None or share != share else f"{share:.0%}",
        )
    console.print(shown)
