"""The history of the party registers beside the organisations: who changed a row, when, before and after.

Every write to the members, units, 一户十联 links, points and funds keeps the
row it replaces or removes (`gridmap.stores.party.HISTORY`), so each row has
versions as an organisation has: who wrote each and when, and who ended it.
They read back as the revisions of the store's layers do (`gridmap.history`:
`Revision` with its `FeatureChange`, before and after), personal fields masked
for a caller who may not see them whole (`PartyAccess`), and a revert follows
the layers' rule: the row's newest change is undone by a new version (the
row as it was before it, or no row when the change made it), checked as any
write of that register is, so a revert is itself history and can be undone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Any

import pandas as pd

from gridmap.errors import NotFoundError, Problem, ValidationError
from gridmap.history import FeatureChange, Revision
from gridmap.party.access import PartyAccess
from gridmap.party.funds import FundsEntry, funds_problems
from gridmap.party.points import PointEntry, points_problems
from gridmap.party.register import Member, Unit, links_problems, member_problems, records, unit_problems
from gridmap.privacy import PARTY_PERSONAL, protect_party
from gridmap.stores import Store
from gridmap.stores.party import ENDS, VERSIONED
from gridmap.texts import Message

TABLES: dict[str, str] = {
    "members": "party_members",
    "units": "party_units",
    "links": "party_links",
    "points": "party_points",
    "funds": "party_funds",
}
"""The registers with a history of their rows, by the name the CLI and the API give them."""
_STAMPS = ("changed_by", "changed_at")


def table_of(register: str) -> str:
    """The table of a register named by the CLI or the API (an unknown name: a `NotFoundError`)."""
    if register not in TABLES:
        raise NotFoundError(
            Message("party.register_unknown", registers=", ".join(TABLES), register=repr(register))
        )
    return TABLES[register]


def row_key(register: str, key: str) -> str | int:
    """A row's key as its register holds it (points and funds entries by number)."""
    if VERSIONED[table_of(register)] != "id":
        return key
    try:
        return int(key)
    except ValueError:
        raise NotFoundError(Message("party.no_entry", register=register, key=repr(key))) from None


def versions(store: Store, register: str, key: str) -> pd.DataFrame:
    """Every version of one row, oldest first (a `NotFoundError` when the register never held it)."""
    found = store.party_book().versions(table_of(register), row_key(register, key))
    if not len(found):
        raise NotFoundError(Message("party.no_entry", register=register, key=repr(key)))
    return found


def shown(store: Store, register: str, rows: pd.DataFrame, access: PartyAccess) -> pd.DataFrame:
    """Versions with their personal fields masked where the caller may not see them whole (a member's
    organisation, in each version, decides)."""
    table = table_of(register)
    if table not in PARTY_PERSONAL:
        return rows
    return protect_party(table, rows, access.sees_whole(rows["org_code"], store.party_book().orgs()))


def register_history(store: Store, register: str, key: str, access: PartyAccess) -> list[Revision]:
    """One row's changes, oldest first, as revisions: who, when, and the row before and after (masked
    as `access` may see them). A version written before the registers kept their history (no time) has
    no change of its own, but is the `before` of the next."""
    raw = versions(store, register, key)
    rows = records(shown(store, register, raw, access))
    starts, ends = list(raw["changed_at"]), list(raw["ended_at"])
    table = table_of(register)
    out: list[tuple[dt.datetime, str | None, str, dict[str, Any] | None, dict[str, Any] | None]] = []
    for i, row in enumerate(rows):
        replaced = i > 0 and _same(ends[i - 1], starts[i])
        start, end = _time(starts[i]), _time(ends[i])
        if start is not None:
            before = _fields(rows[i - 1]) if replaced else None
            op = "updated" if replaced else "inserted"
            out.append((start, row["changed_by"], op, before, _fields(row)))
        followed = i + 1 < len(rows) and _same(ends[i], starts[i + 1])
        if end is not None and not followed:
            out.append((end, row["ended_by"], "deleted", _fields(row), None))
    out.sort(key=lambda change: change[0])
    return [
        Revision(
            n, at, by or "", None, "", None, {table: {op: 1}}, [FeatureChange(table, str(key), op, old, new)]
        )
        for n, (at, by, op, old, new) in enumerate(out, start=1)
    ]


def revert_newest(store: Store, register: str, key: str, *, by: str | None = None) -> str:
    """Undo the newest change of one row by a new version: the row as it was before (a change that
    made the row: none); checked as a write of the register is. What was undone (`inserted`,
    `updated` or `deleted`)."""
    raw = versions(store, register, key)
    table, stored_key = table_of(register), row_key(register, key)
    last = raw.iloc[-1]
    if _time(last["ended_at"]) is None:  # the row stands: back to the version it replaced, if any
        replaced = len(raw) > 1 and _same(raw.iloc[-2]["ended_at"], last["changed_at"])
        restored = _plain(raw.iloc[-2]) if replaced else None
        undone = "updated" if replaced else "inserted"
    else:  # the row was removed: back it comes
        restored, undone = _plain(last), "deleted"
    if restored is not None:
        problems = _problems(store, register, restored)
        if problems:
            raise ValidationError(Message("party.source_revert", register=register, key=key), problems)
    store.party_book().restore(table, stored_key, restored, by=by)
    return undone


def _problems(store: Store, register: str, row: dict[str, Any]) -> list[Problem]:
    """The register's own checks of a row a revert would bring back."""
    if register == "members":
        return member_problems(store, Member(**_only(Member, row)))
    if register == "units":
        return unit_problems(store, Unit(**_only(Unit, row)))
    if register == "links":
        center, household = str(row["center_code"]), str(row["household_code"])
        linked = store.party_book().links(centers=[center])["household_code"].astype(str).tolist()
        return links_problems(store, center, [*[h for h in linked if h != household], household])
    if register == "points":
        entry = PointEntry(**_only(PointEntry, row))
        found = store.party_book().members(codes=[entry.member_code])
        missing = (
            []
            if len(found)
            else [Problem(None, "member_code", Message("party.no_member", code=entry.member_code))]
        )
        return [*points_problems(store, entry, now=row["recorded_at"]), *missing]
    return funds_problems(store, FundsEntry(**_only(FundsEntry, row)))


def _only(kind: type, row: dict[str, Any]) -> dict[str, Any]:
    return {f.name: row[f.name] for f in fields(kind) if f.name in row}


def _plain(version: pd.Series) -> dict[str, Any]:
    """A stored version as a row to write again: its own fields, missing values as None."""
    out: dict[str, Any] = {}
    for name, value in version.items():
        if name in ENDS or name in _STAMPS:
            continue
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            out[str(name)] = None
        elif isinstance(value, pd.Timestamp):
            out[str(name)] = value.to_pydatetime()
        elif hasattr(value, "item"):  # numpy scalars
            out[str(name)] = value.item()
        else:
            out[str(name)] = value
    return out


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ENDS and k not in _STAMPS}


def _time(value: object) -> dt.datetime | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value  # type: ignore[return-value]


def _same(end: object, start: object) -> bool:
    """Whether a version ended the moment the next began (one write replaced it)."""
    first, second = _time(end), _time(start)
    return first is not None and first == second
