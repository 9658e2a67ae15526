"""`gridmap party …`: the party organisation chain from the command line.

The command line speaks for whoever runs it against the store (an admin);
names and phones are masked in tables and exports unless `--with-personal`.
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from rich.tree import Tree

from gridmap.cli.app import StoreOption, app, console
from gridmap.cli.localised import LocalisedTyper
from gridmap.errors import ConfigError
from gridmap.party.files import import_register, register_frame, write_register
from gridmap.party.findings import PARTY_FINDINGS
from gridmap.party.funds import BRANCH_FUNDS, FundsEntry, record_funds, year_funds
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
from gridmap.texts import Message, language, say
from gridmap.texts.messages import MESSAGES
from gridmap.vocabulary import column_label

party_app = LocalisedTyper()
points_app = LocalisedTyper()
funds_app = LocalisedTyper()
party_app.add_typer(points_app, name="points")
party_app.add_typer(funds_app, name="funds")
app.add_typer(party_app, name="party")

WithPersonal = Annotated[bool, typer.Option()]
OnOption = Annotated[str | None, typer.Option("--on")]


def _day(text: str | None, name: str = "on") -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(Message("cli.bad_date", option=f"--{name}", text=repr(text))) from None


def _header(name: str) -> str:
    """A register column's header in the reader's language (`party.col.<name>`, else the vocabulary's)."""
    key = f"party.col.{name}"
    return say(key) if key in MESSAGES else column_label(name, language())


def _print_table(title: str, frame: pd.DataFrame) -> None:
    shown = Table(title=title, title_justify="left")
    for name in frame.columns:
        shown.add_column(_header(str(name)), overflow="fold")
    for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
        shown.add_row(*("" if v is None else str(v) for v in row))
    console.print(shown)


@party_app.command("seed")
def seed_command(store: StoreOption = None) -> None:
    """Replace the party registers with a realistic chain over the store's layers (the demo's)."""
    with open_store(store, create=False) as opened:
        counts = seed_chain(opened)
    console.print(", ".join(f"{name}: {n:,}" for name, n in counts.items()), highlight=False)


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

    def add(node: Tree, org: dict[str, Any]) -> None:
        label = f"{org['name']} [dim]{org['code']} {ORG_KINDS[org['kind']].label(lang)} {org['area_code']}[/]"
        branch = node.add(say("party.tree.node", label=label, secretary=org["secretary"] or "—"))
        for child in org["children"]:
            add(branch, child)

    for top in org_tree(orgs):
        if street is None or top["area_code"] == street:
            label = f"[bold]{top['name']}[/] {top['code']}"
            root = Tree(say("party.tree.node", label=label, secretary=top["secretary"] or "—"))
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
    valid_from: Annotated[str | None, typer.Option("--from")] = None,
    store: StoreOption = None,
) -> None:
    """Open a new version of an organisation (closing the one in force on its first day)."""
    org = Organisation(
        code, name, kind, area_kind, area, parent, wkt, secretary, phone, _day(valid_from, "from")
    )
    with open_store(store, create=False) as opened:
        row = save_org(opened, org, by=getpass.getuser())
    console.print(say("party.saved", code=code, day=row["valid_from"]), highlight=False)


@party_app.command("close")
def close_command(code: str, on: OnOption = None, store: StoreOption = None) -> None:
    """Close an organisation (its children must be closed first)."""
    with open_store(store, create=False) as opened:
        close_org(opened, code, _day(on))
    console.print(say("party.closed", code=code, day=_day(on)), highlight=False)


@party_app.command("revert")
def revert_command(code: str, store: StoreOption = None) -> None:
    """Undo an organisation's newest version (or its closing)."""
    with open_store(store, create=False) as opened:
        revert_org(opened, code)
    console.print(say("party.reverted", code=code), highlight=False)


@party_app.command("history")
def history_command(code: str, with_personal: WithPersonal = False, store: StoreOption = None) -> None:
    """Every version of an organisation."""
    with open_store(store, create=False) as opened:
        versions = opened.party_book().orgs(codes=[code])
    if not len(versions):
        raise ConfigError(Message("party.no_org", code=code))
    versions = protect_party("party_orgs", versions, [with_personal] * len(versions))
    shown = ["valid_from", "valid_to", "name", "parent_code", "area_code", "secretary", "changed_by"]
    _print_table(say("party.versions", code=code), versions[shown])


@party_app.command("link")
def link_command(
    center: Annotated[str, typer.Argument()],
    households: Annotated[list[str], typer.Argument()],
    store: StoreOption = None,
) -> None:
    """Confirm a center household's 一户十联 links (replacing its earlier ones)."""
    with open_store(store, create=False) as opened:
        rows = confirm_links(opened, center, households, by=getpass.getuser())
    console.print(say("party.linked", center=center, n=len(rows)), highlight=False)


@party_app.command("propose")
def propose_command(center: Annotated[str, typer.Argument()], store: StoreOption = None) -> None:
    """The computed links proposed for a center household (households not linked yet, nearest first)."""
    with open_store(store, create=False) as opened:
        proposed = propose_links(opened, center)
    console.print(f"{center}: {' '.join(proposed) or '—'}", highlight=False)


@party_app.command("findings")
def findings_command(on: OnOption = None, store: StoreOption = None) -> None:
    """Buildings without a group, groups without a 中心户, grids without a branch, 大党委 without units,
    两个覆盖 per street."""
    with open_store(store, create=False) as opened:
        found = store_findings(opened, _day(on))
    if found is None:
        raise ConfigError(Message("party.no_registers"))
    lang = language()
    for kind, table in found.items():
        finding = PARTY_FINDINGS[kind]
        title = say("party.finding", label=finding.label(lang), n=len(table))
        _print_table(title, table.head(20))


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
    console.print(say("party.imported", n=n, register=register), highlight=False)


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
    console.print(say("party.points_recorded", member=member, events=events, rule=rule), highlight=False)


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
    _print_table(say("party.points_title", year=year), table)


@points_app.command("rules")
def points_rules_command(
    source: Annotated[Path | None, typer.Option()] = None,
    store: StoreOption = None,
) -> None:
    """Show the rules, or replace them (code, name_zh, name_en, points, annual_cap)."""
    from gridmap.party.files import read_register

    with open_store(store, create=False) as opened:
        if source is not None:
            rules = read_register(source).astype({"points": "Int64", "annual_cap": "Int64"})
            set_rules(opened, rules)
        shown = opened.party_book().point_rules()
    _print_table(say("party.rules_title"), shown)


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
    console.print(say("party.funds_recorded", org=org, year=year, flow=flow, amount=amount), highlight=False)


@funds_app.command("year")
def funds_year_command(year: int, store: StoreOption = None) -> None:
    """What each organisation is owed, received and short of, and its balance."""
    with open_store(store, create=False) as opened:
        short, balance = year_funds(opened, year)
    _print_table(say("party.entitlements_title", year=year), short)
    _print_table(say("party.balances_title", year=year), balance)
