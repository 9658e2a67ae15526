"""`gridmap cases report|list|move|stats|seed`: the case loop from the command line.

The command line speaks for whoever runs it against the store, so it acts as
an admin; `--by` names the person recorded in each transition (a checker
must name someone other than the handler).
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from gridmap.cases.categories import Department, Subcategory
from gridmap.cases.desk import CaseDesk, CaseReport, utc_now
from gridmap.cases.lifecycle import Actor
from gridmap.cases.records import cases_frame
from gridmap.cases.reminders import DEFAULT_ESCALATE_AFTER, REMINDER_KINDS
from gridmap.cases.sample import DEFAULT_SEED, sample_cases
from gridmap.cases.statistics import LEVEL_LABELS, PERIODS, group_names, headers
from gridmap.cases.vocabulary import LEVELS, Action, Status
from gridmap.catalogue import LAYER_NAMES
from gridmap.cli.app import StoreOption, app, console
from gridmap.cli.localised import LocalisedTyper
from gridmap.errors import ConfigError, GridmapError
from gridmap.export import export_layer
from gridmap.localtime import beijing
from gridmap.lookup import LookupService
from gridmap.privacy import Role
from gridmap.stores import Store, open_store
from gridmap.stores.cases import CaseFilter
from gridmap.texts import Message, language, say
from gridmap.vocabulary import CASE_RATES, GRADE_COLORS, rate_grade

cases_app = LocalisedTyper()
app.add_typer(cases_app, name="cases")

ByOption = Annotated[str | None, typer.Option("--by")]
SinceOption = Annotated[str | None, typer.Option()]
UntilOption = Annotated[str | None, typer.Option()]
SHOWN = ("code", "status", "category", "grid_code", "department", "reported_at", "due_at", "overdue")
"""The table's columns (headers `cli.cases.col.<name>`; times in Beijing time, codes as their names)."""


def _desk(store: Store) -> CaseDesk:
    return CaseDesk(store, LookupService(store))


def _actor(by: str | None) -> Actor:
    return Actor(Role.ADMIN, by or getpass.getuser())


def _date(text: str | None, name: str, desk: CaseDesk, *, end: bool = False) -> dt.datetime | None:
    """A local date as the instant its day starts (`end`: the next day's start)."""
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(Message("cli.bad_date", option=f"--{name}", text=repr(text))) from None
    return dt.datetime.combine(day + dt.timedelta(days=int(end)), dt.time(), tzinfo=desk.calendar.zone)


@cases_app.command("report")
def report_command(
    category: Annotated[str, typer.Argument()],
    description: Annotated[str | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option()] = None,
    lon: Annotated[float | None, typer.Option()] = None,
    lat: Annotated[float | None, typer.Option()] = None,
    crs: Annotated[str, typer.Option()] = "wgs84",
    source: Annotated[str, typer.Option()] = "hotline",
    reporter_name: Annotated[str | None, typer.Option()] = None,
    reporter_phone: Annotated[str | None, typer.Option()] = None,
    ticket_no: Annotated[str | None, typer.Option()] = None,
    by: ByOption = None,
    store: StoreOption = None,
) -> None:
    """Report a case (上报); it is placed in the grid of its address or point, or left to place (待定位)."""
    with open_store(store, create=False) as opened:
        desk = _desk(opened)
        case = desk.report(
            _actor(by),
            CaseReport(
                category,
                description,
                address,
                lon,
                lat,
                crs,
                source,
                reporter_name,
                reporter_phone,
                ticket_no,
            ),
        )
    if case["grid_code"] is None:
        placement = case["placement"]
        hints = say("list.separator").join(placement["suggestions"])
        console.print(
            say("cli.cases.unplaced", code=case["code"], reason=placement["reason"])
            + (say("cli.cases.suggestions", hints=hints) if hints else ""),
            highlight=False,
        )
        return
    console.print(say("cli.cases.reported", code=case["code"], grid=case["grid_code"]), highlight=False)


@cases_app.command("place")
def place_command(
    code: Annotated[str, typer.Argument()],
    grid: Annotated[str | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option()] = None,
    lon: Annotated[float | None, typer.Option()] = None,
    lat: Annotated[float | None, typer.Option()] = None,
    crs: Annotated[str, typer.Option()] = "wgs84",
    by: ByOption = None,
    store: StoreOption = None,
) -> None:
    """Place a case that intake could not place (待定位), by grid, address or point."""
    with open_store(store, create=False) as opened:
        case = _desk(opened).place(_actor(by), code, grid=grid, address=address, lon=lon, lat=lat, crs=crs)
    console.print(say("cli.cases.placed", code=code, grid=case["grid_code"]), highlight=False)


@cases_app.command("merge")
def merge_command(
    code: Annotated[str, typer.Argument()],
    into: Annotated[str, typer.Argument()],
    by: ByOption = None,
    store: StoreOption = None,
) -> None:
    """并单: merge a report into the case it repeats (proposed at intake, confirmed here)."""
    with open_store(store, create=False) as opened:
        _desk(opened).merge(_actor(by), code, into)
    console.print(say("cli.cases.merged", code=code, into=into), highlight=False)


@cases_app.command("move")
def move_command(
    code: Annotated[str, typer.Argument()],
    action: Annotated[Action, typer.Argument()],
    note: Annotated[str | None, typer.Option()] = None,
    department: Annotated[str | None, typer.Option()] = None,
    hours: Annotated[float | None, typer.Option()] = None,
    reached: Annotated[bool | None, typer.Option("--reached/--not-reached")] = None,
    satisfaction: Annotated[str | None, typer.Option()] = None,
    reason: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    by: ByOption = None,
    store: StoreOption = None,
) -> None:
    """Move a case one step: a transition, a request and its approval, a follow-up or a level change."""
    with open_store(store, create=False) as opened:
        case = _desk(opened).move(
            _actor(by),
            code,
            action,
            note=note,
            department=department,
            hours=hours,
            reached=reached,
            satisfaction=satisfaction,
            reason=reason,
            channel=channel,
        )
    status = Status(case["status"])
    due = say("cli.cases.due", at=beijing(case["due_at"])) if case.get("due_at") else ""
    label = status.label_en if language() == "en" else status.label_zh
    console.print(
        say("cli.cases.moved", code=code, label=label, status=status.value, due=due),
        highlight=False,
    )


@cases_app.command("list")
def list_command(
    grid: Annotated[str | None, typer.Option()] = None,
    community: Annotated[str | None, typer.Option()] = None,
    department: Annotated[str | None, typer.Option()] = None,
    status: Annotated[list[Status] | None, typer.Option()] = None,
    overdue: Annotated[bool | None, typer.Option("--overdue/--not-overdue")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    ticket_no: Annotated[str | None, typer.Option()] = None,
    unplaced: Annotated[bool, typer.Option()] = False,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    output: Annotated[Path | None, typer.Option()] = None,
    with_personal: Annotated[bool, typer.Option()] = False,
    store: StoreOption = None,
) -> None:
    """List cases, newest first; `--output` writes every match in any export format."""
    with open_store(store, create=False) as opened:
        desk = _desk(opened)
        wanted = CaseFilter(
            grid=grid,
            community=community,
            department=department,
            statuses=[s.value for s in status] if status else None,
            overdue=overdue,
            since=_date(since, "since", desk),
            until=_date(until, "until", desk, end=True),
            ticket_no=ticket_no,
            placed=False if unplaced else None,
        )
        actor = _actor(None)
        rows, total = desk.search(actor, wanted, limit=None if output else limit)
        grids = opened.read("grids") if rows and output is None else None
    role = Role.ADMIN if with_personal else Role.VIEWER
    frame = cases_frame(rows, now=desk.clock(), zone=desk.calendar.zone, role=role)
    if output is not None:
        path = export_layer(frame, output, None, role=role)
        console.print(say("cli.cases.written", n=total, path=path), highlight=False)
        return
    table = Table(title=say("cli.cases.list_title", shown=len(frame), total=total), title_justify="left")
    for name in SHOWN:
        table.add_column(say(f"cli.cases.col.{name}"), overflow="fold")
    names = (
        {} if grids is None else dict(zip(grids["code"].astype(str), grids["name"].astype(str), strict=True))
    )
    for record in (
        frame[list(SHOWN)].astype(object).where(frame[list(SHOWN)].notna(), None).to_dict("records")
    ):
        table.add_row(*_shown(record, desk, names))
    console.print(table)


def _shown(record: dict[str, Any], desk: CaseDesk, grids: dict[str, str]) -> list[str]:
    """One case as a 社区 worker reads it, in their language: labels for codes, Beijing times, yes/no."""
    catalogue = desk.catalogue
    english = language() == "en"
    out = []
    for name in SHOWN:
        value = record[name]
        if value is None:
            out.append("")
        elif name == "status":
            out.append(Status(value).label_en if english else Status(value).label_zh)
        elif name == "category":
            out.append(_label(catalogue.subcategory, value))
        elif name == "department":
            out.append(_label(catalogue.department, value))
        elif name == "grid_code":
            out.append(grids.get(str(value), str(value)))
        elif name in ("reported_at", "due_at"):
            out.append(beijing(value))
        elif name == "overdue":
            out.append(say("cli.yes" if bool(value) else "cli.no"))
        else:
            out.append(str(value))
    return out


def _label(find: Callable[[str], Subcategory | Department], code: object) -> str:
    """The name a catalogue gives `code` in the reader's language, or the code itself when the catalogue
    no longer has it."""
    try:
        found = find(str(code))
        return found.name_en if language() == "en" else found.name_zh
    except (KeyError, GridmapError):
        return str(code)


@cases_app.command("stats")
def stats_command(
    by: Annotated[str, typer.Option()] = "community",
    since: SinceOption = None,
    until: UntilOption = None,
    period: Annotated[str | None, typer.Option()] = None,
    output: Annotated[Path | None, typer.Option()] = None,
    store: StoreOption = None,
) -> None:
    """Received, closed, the three rates (三率, coloured by grade), overdue cases and the household-hours
    without speaker coverage per group (and per month with `--period month`).

    `--output` writes every figure (on-time rate, handling hours, follow-ups, approvals, levels…).
    """
    if by not in LEVEL_LABELS:
        raise ConfigError(Message("cli.cases.by", choices=", ".join(LEVEL_LABELS), by=repr(by)))
    if period is not None and period not in PERIODS:
        raise ConfigError(Message("cli.cases.period", choices=", ".join(PERIODS), period=repr(period)))
    with open_store(store, create=False) as opened:
        desk = _desk(opened)
        table = desk.statistics(
            by,
            since=_date(since, "since", desk),
            until=_date(until, "until", desk, end=True),
            period="month" if period else None,
        )
    if output is not None:
        table.rename(columns=headers(desk.catalogue)).to_csv(output, index=False, encoding="utf-8-sig")
        console.print(say("cli.rows_written", n=len(table), path=output), highlight=False)
        return
    lang = language()
    labels = headers(desk.catalogue, lang)
    group = LEVEL_LABELS[by][0 if lang == "zh" else 1]
    shown = Table(title=say("cli.cases.stats_title", by=group), title_justify="left")
    months = ["period"] if period else []
    # Household-hours without coverage only where a repair ticket recorded some (a narrow terminal).
    uncovered = ["household_hours_uncovered"] if (table["household_hours_uncovered"] > 0).any() else []
    columns = [*months, "key", "name", "received", "closed", *CASE_RATES, "overdue_now", *uncovered]
    for name in columns:
        shown.add_column(
            labels[name],
            justify="left" if name in ("period", "key", "name") else "right",
            no_wrap=name != "name",
        )
    for record in table.to_dict("records"):
        shown.add_row(
            *(str(record[m]) for m in months),
            str(record["key"]),
            str(record["name"] or ""),
            f"{record['received']:,}",
            f"{record['closed']:,}",
            *(_graded(code, record[code]) for code in CASE_RATES),
            f"{record['overdue_now']:,}",
            *(f"{record[name]:,.1f}" for name in uncovered),
        )
    console.print(shown)


def _graded(code: str, value: float) -> str:
    """A rate in its grade's colour (the vocabulary's thresholds), with the grade letter."""
    grade = rate_grade(code, value)
    if grade is None:
        return "–"
    return f"[{GRADE_COLORS[grade]}]{value:.1%} {grade}[/]"


@cases_app.command("due")
def due_command(
    on: Annotated[str | None, typer.Option()] = None,
    escalate_after: Annotated[int, typer.Option(min=1)] = DEFAULT_ESCALATE_AFTER,
    store: StoreOption = None,
) -> None:
    """The day's list: 督办 (escalate), 催办通知 (overdue notice), 今日到期 (due today), 催办 (reminder)."""
    with open_store(store, create=False) as opened:
        desk = _desk(opened)
        day = _day(on, desk)
        chase = desk.due(_actor(None), day, escalate_after=escalate_after)
        names = group_names(opened, "grid")
    english = language() == "en"
    table = Table(title=say("cli.cases.due_title", day=day, n=len(chase)), title_justify="left")
    for name in ("kind", "code", "category", "grid", "department", "due_at", "overdue_days", "escalate_to"):
        table.add_column(say(f"cli.cases.due.{name}"))
    for item in chase:
        case = item.case
        kind = REMINDER_KINDS[item.kind]
        level = LEVELS[item.escalate_to] if item.escalate_to else None
        table.add_row(
            kind.label_en if english else kind.label_zh,
            str(case["code"]),
            _label(desk.catalogue.subcategory, case["category"]),
            names.get(case.get("grid_code") or "", case.get("grid_code") or say("cli.cases.unplaced_grid")),
            _label(desk.catalogue.department, case["department"]) if case.get("department") else "",
            f"{case['due_at'].astimezone(desk.calendar.zone):%Y-%m-%d %H:%M}",
            str(item.overdue_days) if item.overdue_days else "",
            (level.label_en if english else level.label_zh) if level else "",
        )
    console.print(table)


def _day(text: str | None, desk: CaseDesk) -> dt.date:
    if text is None:
        return desk.clock().astimezone(desk.calendar.zone).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(Message("cli.bad_date", option="--on", text=repr(text))) from None


@cases_app.command("seed")
def seed_command(
    count: Annotated[int | None, typer.Option(min=1)] = None,
    seed: Annotated[int, typer.Option()] = DEFAULT_SEED,
    store: StoreOption = None,
) -> None:
    """Replace the store's cases with a seeded year of cases over its district (for demos)."""
    with open_store(store, create=False) as opened:
        seeded = seed_cases(opened, count=count, seed=seed)
    console.print(say("cli.cases.seeded", n=seeded), highlight=False)


def seed_cases(store: Store, *, count: int | None = None, seed: int = DEFAULT_SEED) -> int:
    """A year of cases up to now over the store's district, replacing any cases it held."""
    frames = {name: store.read(name) for name in LAYER_NAMES if name != "service_points"}
    cases, events, ledger = sample_cases(frames, now=utc_now(), seed=seed, count=count)
    return store.case_book().replace(cases, events, ledger)
