"""`gridmap party …`: the party organisation chain from the command line.

The command line speaks for whoever runs it against the store (an admin);
names and phones are masked in tables and exports unless `--with-personal`.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from gridmap.cli.app import StoreOption, app, console
from gridmap.cli.history import _sides
from gridmap.cli.localised import LocalisedTyper
from gridmap.errors import ConfigError
from gridmap.localtime import beijing
from gridmap.meeting_cases import percent
from gridmap.party.access import PartyAccess
from gridmap.party.files import REGISTERS, import_register, read_register, register_frame, write_register
from gridmap.party.findings import PARTY_FINDINGS
from gridmap.party.funds import BRANCH_FUNDS, FLOWS, SOURCES, FundsEntry, record_funds, year_funds
from gridmap.party.history import register_history, revert_newest
from gridmap.party.points import (
    PointEntry,
    Scheme,
    public_list,
    record_points,
    set_rules,
    year_ranking,
)
from gridmap.party.proposal import propose_links
from gridmap.party.register import (
    Organisation,
    close_org,
    confirm_links,
    org_tree,
    revert_org,
    save_org,
)
from gridmap.party.sample import seed_chain
from gridmap.party.service import store_findings
from gridmap.party.vocabulary import ORG_KINDS
from gridmap.privacy import protect_party
from gridmap.stores import open_store
from gridmap.texts import Lang, Message, language, say
from gridmap.vocabulary import Term, column_label

party_app = LocalisedTyper()
points_app = LocalisedTyper()
funds_app = LocalisedTyper()
party_app.add_typer(points_app, name="points")
party_app.add_typer(funds_app, name="funds")
app.add_typer(party_app, name="party")

SHOWN_ROWS = 20
"""Rows of a finding listed on the terminal (the workbook and the API have them all)."""
WithPersonal = Annotated[bool, typer.Option()]
OnOption = Annotated[str | None, typer.Option("--on")]


def _day(text: str | None, name: str = "on") -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(Message("cli.bad_date", option=f"--{name}", text=repr(text))) from None


def _print_table(title: str, frame: pd.DataFrame) -> None:
    """A table with its columns labelled and its kinds, flows and yes/no in the reader's language."""
    lang = language()
    shown = Table(title=title, title_justify="left")
    for name in frame.columns:
        shown.add_column(column_label(str(name), lang), overflow="fold")
    words: dict[str, Mapping[str, Term]] = {"kind": ORG_KINDS, "flow": FLOWS, "source": SOURCES}
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        shown.add_row(*(_cell(str(k), words.get(str(k)), v, lang) for k, v in row.items()))
    console.print(shown)


def _cell(column: str, terms: Mapping[str, Term] | None, value: object, lang: Lang) -> str:
    if value is None:
        return ""
    if column.endswith("_share") and isinstance(value, float):
        return percent(value)
    if isinstance(value, bool | np.bool_):
        return say("cli.party.yes" if value else "cli.party.no", lang)
    if terms is not None and str(value) in terms:
        return terms[str(value)].label(lang)
    return str(value)


@party_app.command("seed")
def seed_command(store: StoreOption = None) -> None:
    """Replace the party registers with a realistic chain over the store's layers (the demo's)."""
    with open_store(store, create=False) as opened:
        counts = seed_chain(opened)
    console.print(say("cli.party.seeded", **counts), highlight=False)


@party_app.command("tree")
def tree_command(
    on: OnOption = None,
    street: Annotated[str | None, typer.Option()] = None,
    with_personal: WithPersonal = False,
    store: StoreOption = None,
) -> None:
    """The organisation tree in force on a day, with each organisation's secretary."""
    with open_store(store, create=False) as opened:
        orgs = opened.party_book().orgs(on=_day(on))
    orgs = protect_party("party_orgs", orgs, [with_personal] * len(orgs))

    lang = language()

    def secretary(org: dict[str, Any]) -> str:
        return say("cli.party.secretary", lang, name=escape(org["secretary"] or "—"))

    def add(node: Tree, org: dict[str, Any]) -> None:
        kind = ORG_KINDS[org["kind"]].label(lang)
        label = f"{escape(org['name'])} [dim]{org['code']} {kind} {org['area_code']}[/]"
        branch = node.add(f"{label} {secretary(org)}")
        for child in org["children"]:
            add(branch, child)

    for top in org_tree(orgs):
        if street is None or top["area_code"] == street:
            root = Tree(f"[bold]{escape(top['name'])}[/] {top['code']} {secretary(top)}")
            for child in top["children"]:
                add(root, child)
            console.print(root)


@party_app.command("org")
def org_command(
    code: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option()],
    kind: Annotated[str, typer.Option()],
    area_kind: Annotated[str, typer.Option()],
    area: Annotated[str, typer.Option()],
    parent: Annotated[str | None, typer.Option()] = None,
    wkt: Annotated[str | None, typer.Option()] = None,
    secretary: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    secretary_code: Annotated[str | None, typer.Option()] = None,
    valid_from: Annotated[str | None, typer.Option("--from")] = None,
    store: StoreOption = None,
) -> None:
    """Open a new version of an organisation (closing the one in force on its first day)."""
    org = Organisation(
        code,
        name,
        kind,
        area_kind,
        area,
        parent_code=parent,
        area_wkt=wkt,
        secretary=secretary,
        secretary_phone=phone,
        secretary_code=secretary_code,
        valid_from=_day(valid_from, "from"),
    )
    with open_store(store, create=False) as opened:
        row = save_org(opened, org, by=getpass.getuser())
    console.print(say("cli.party.org_saved", code=code, day=row["valid_from"]), highlight=False)


@party_app.command("close")
def close_command(code: str, on: OnOption = None, store: StoreOption = None) -> None:
    """Close an organisation (its children must be closed first)."""
    with open_store(store, create=False) as opened:
        close_org(opened, code, _day(on))
    console.print(say("cli.party.closed", code=code, day=_day(on)), highlight=False)


RegisterOption = Annotated[
    str, typer.Option("--register", help="orgs, or members, units, links, points, funds (by row key)")
]


@party_app.command("revert")
def revert_command(code: str, register: RegisterOption = "orgs", store: StoreOption = None) -> None:
    """Undo an organisation's newest version (or its closing), or a register row's newest change."""
    with open_store(store, create=False) as opened:
        if register == "orgs":
            revert_org(opened, code)
            console.print(say("cli.party.reverted", code=code), highlight=False)
            return
        undone = revert_newest(opened, register, code)
    console.print(
        say("cli.party.row_reverted", register=register, code=code, op=say(f"history.{undone}")),
        highlight=False,
    )


@party_app.command("history")
def history_command(
    code: str,
    register: RegisterOption = "orgs",
    with_personal: WithPersonal = False,
    store: StoreOption = None,
) -> None:
    """Every version of an organisation, or every change of a register's row (who, when, what)."""
    with open_store(store, create=False) as opened:
        if register != "orgs":
            changes = register_history(opened, register, code, PartyAccess(admin=with_personal))
            table = Table(title=say("cli.history.title"), title_justify="left")
            for column in ("revision", "at", "author", "changes"):
                table.add_column(say(f"cli.history.{column}"))
            for r in changes:
                change = r.changes[0]
                what = f"{say(f'history.{change.op}')}\n{_sides(change.before, change.after)}"
                table.add_row(str(r.id), beijing(r.at, seconds=True), escape(r.author), escape(what))
            console.print(table)
            return
        versions = opened.party_book().orgs(codes=[code])
    if not len(versions):
        raise ConfigError(Message("party.no_org", code=code))
    versions = protect_party("party_orgs", versions, [with_personal] * len(versions))
    shown = [
        "valid_from",
        "valid_to",
        "name",
        "parent_code",
        "area_code",
        "secretary",
        "secretary_code",
        "changed_by",
    ]
    _print_table(say("cli.party.versions", code=code), versions[shown])


@party_app.command("link")
def link_command(
    center: Annotated[str, typer.Argument()],
    households: Annotated[list[str], typer.Argument()],
    store: StoreOption = None,
) -> None:
    """Confirm a center household's 一户十联 links (replacing its earlier ones)."""
    with open_store(store, create=False) as opened:
        rows = confirm_links(opened, center, households, by=getpass.getuser())
    console.print(say("cli.party.linked", center=center, n=len(rows)), highlight=False)


@party_app.command("propose")
def propose_command(center: Annotated[str, typer.Argument()], store: StoreOption = None) -> None:
    """The computed links proposed for a center household (households not linked yet, nearest first)."""
    with open_store(store, create=False) as opened:
        proposed = propose_links(opened, center)
    console.print(
        say("cli.party.proposed", center=center, households=" ".join(proposed) or "—"), highlight=False
    )


@party_app.command("findings")
def findings_command(on: OnOption = None, store: StoreOption = None) -> None:
    """Buildings without a group, groups without a 中心户, grids without a branch, 大党委 without units,
    两个覆盖 per street."""
    with open_store(store, create=False) as opened:
        found = store_findings(opened, _day(on))
    if found is None:
        raise ConfigError(Message("cli.party.no_register"))
    lang = language()
    for kind, table in found.items():
        title = say("cli.party.finding", lang, label=PARTY_FINDINGS[kind].label(lang), n=len(table))
        if len(table) > SHOWN_ROWS:
            title += say("cli.party.shown_first", lang, shown=SHOWN_ROWS)
        _print_table(title, table.head(SHOWN_ROWS))


@party_app.command("export")
def export_command(
    register: Annotated[str, typer.Argument()],
    output: Annotated[Path, typer.Argument()],
    with_personal: WithPersonal = False,
    store: StoreOption = None,
) -> None:
    """Write a register to a file office staff open (names and phones masked unless --with-personal)."""
    with open_store(store, create=False) as opened:
        frame = register_frame(opened, register, whole=with_personal)
    write_register(frame, output)
    console.print(say("cli.rows_written", n=len(frame), path=output), highlight=False)


@party_app.command("import")
def import_command(
    register: Annotated[str, typer.Argument()],
    source: Annotated[Path, typer.Argument()],
    store: StoreOption = None,
) -> None:
    """Add the rows of a file to a register: all of them, or none and every bad row named."""
    with open_store(store, create=False) as opened:
        n = import_register(opened, register, source, by=getpass.getuser())
    console.print(
        say("cli.party.imported", register=REGISTERS[register].label(language()), n=n), highlight=False
    )


@points_app.command("add")
def points_add_command(
    member: str,
    rule: str,
    on: Annotated[str, typer.Option("--on")],
    approver: Annotated[str, typer.Option()],
    evidence: Annotated[str, typer.Option()],
    events: Annotated[int, typer.Option()] = 1,
    store: StoreOption = None,
) -> None:
    """Record an approved points entry."""
    with open_store(store, create=False) as opened:
        record_points(opened, PointEntry(member, rule, _day(on), approver, evidence, events))
        rules = opened.party_book().point_rules().set_index("code")
    name = rules.loc[rule, "name_zh" if language() == "zh" else "name_en"]
    console.print(say("cli.party.points_recorded", member=member, rule=name, events=events), highlight=False)


@points_app.command("rank")
def points_rank_command(
    year: int,
    base: Annotated[int, typer.Option()] = Scheme.base,
    floor: Annotated[int, typer.Option()] = Scheme.floor,
    public: Annotated[bool, typer.Option()] = False,
    output: Annotated[Path | None, typer.Option()] = None,
    store: StoreOption = None,
) -> None:
    """The year's totals (caps applied) ranked per branch."""
    with open_store(store, create=False) as opened:
        ranked = year_ranking(opened, year, Scheme(base, floor))
        table = public_list(ranked, opened.party_book().orgs()) if public else ranked
    if output is not None:
        write_register(table, output)
        console.print(say("cli.rows_written", n=len(table), path=output), highlight=False)
        return
    _print_table(say("cli.party.points_title", year=year), table)


@points_app.command("rules")
def points_rules_command(
    source: Annotated[Path | None, typer.Option()] = None,
    store: StoreOption = None,
) -> None:
    """Show the rules, or replace them (code, name_zh, name_en, points, annual_cap)."""
    with open_store(store, create=False) as opened:
        if source is not None:
            rules = read_register(source).astype({"points": "Int64", "annual_cap": "Int64"})
            set_rules(opened, rules)
        shown = opened.party_book().point_rules()
    other = "name_en" if language() == "zh" else "name_zh"  # the rule's name in the reader's language
    _print_table(say("cli.party.rules_title"), shown.drop(columns=other))


@funds_app.command("add")
def funds_add_command(
    org: str,
    year: int,
    flow: Annotated[str, typer.Argument()],
    amount: float,
    source: Annotated[str, typer.Option()] = BRANCH_FUNDS,
    category: Annotated[str | None, typer.Option()] = None,
    evidence: Annotated[str | None, typer.Option()] = None,
    store: StoreOption = None,
) -> None:
    """Record a receipt or spending."""
    with open_store(store, create=False) as opened:
        record_funds(opened, FundsEntry(org, year, flow, amount, source, category, evidence))
    flow_label = FLOWS[flow].label(language())
    console.print(
        say("cli.party.funds_recorded", org=org, year=year, flow=flow_label, amount=amount), highlight=False
    )


@funds_app.command("year")
def funds_year_command(year: int, store: StoreOption = None) -> None:
    """What each organisation is owed, received and short of, and its balance."""
    with open_store(store, create=False) as opened:
        short, balance = year_funds(opened, year)
    _print_table(say("cli.party.entitlements_title", year=year), short)
    _print_table(say("cli.party.balances_title", year=year), balance)
