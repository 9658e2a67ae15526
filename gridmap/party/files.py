"""The party registers to and from the files office staff use: CSV (UTF-8 with BOM) and XLSX.

An export of a register below the right to see personal fields masks them
(`gridmap.privacy.protect_party`); text cells are neutralised against
spreadsheet formulas as every CSV of gridmap is. An import reads every row,
checks each against the register's rules and the rows before it (a parent
may come earlier in the same file), and writes nothing unless all are right:
the error names the file, each bad row (counting the header as row 1) and
field, and the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from gridmap.errors import ConfigError, Problem, ValidationError
from gridmap.formulas import neutralise, restore
from gridmap.party.funds import BRANCH_FUNDS, FundsEntry, funds_problems
from gridmap.party.points import PointEntry, points_problems
from gridmap.party.register import (
    Member,
    Organisation,
    Unit,
    links_problems,
    member_problems,
    org_problems,
    unit_problems,
    with_secretary,
)
from gridmap.privacy import PARTY_PERSONAL, protect_party
from gridmap.stores import Store
from gridmap.stores.party import columns, metadata
from gridmap.texts import Message
from gridmap.vocabulary import Term

REGISTERS: dict[str, Term] = {
    t.code: t
    for t in (
        Term("orgs", "党组织登记", "organisations"),
        Term("members", "党员登记", "members"),
        Term("units", "单位登记", "units"),
        Term("links", "一户十联登记", "一户十联 links"),
        Term("points", "党员积分记录", "points ledger"),
        Term("funds", "经费收支记录", "funds ledger"),
    )
}
"""What `gridmap party export` writes and `gridmap party import` reads back."""
_TABLES = {
    "orgs": "party_orgs",
    "members": "party_members",
    "units": "party_units",
    "links": "party_links",
    "points": "party_points",
    "funds": "party_funds",
}
_REQUIRED = {
    "orgs": {"code", "name"},
    "members": {"code", "name"},
    "units": {"code", "name", "kind", "street_code"},
    "links": {"household_code", "center_code"},
    "points": {"member_code", "rule_code", "occurred_on"},
    "funds": {"org_code", "year", "flow", "amount"},
}
"""The columns a register's file cannot go without."""
STAMPS = {"changed_by", "changed_at"}
"""Who wrote a row and when: the write stamps them, a file's are not read."""
SUFFIXES = (".csv", ".xlsx")


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigError(Message("party.file_suffix", name=path.name))


def register_frame(store: Store, register: str, *, whole: bool) -> pd.DataFrame:
    """A register as its file holds it; personal fields masked unless `whole`."""
    if register not in REGISTERS:
        raise ConfigError(
            Message("party.register_unknown", registers=", ".join(REGISTERS), register=repr(register))
        )
    book = store.party_book()
    frames: dict[str, Callable[[], pd.DataFrame]] = {
        "orgs": book.orgs,
        "members": book.members,
        "units": book.units,
        "links": book.links,
        "points": book.points,
        "funds": book.funds,
    }
    frame = frames[register]()
    table = _TABLES[register]
    if table in PARTY_PERSONAL:
        frame = protect_party(table, frame, [whole] * len(frame))
    return frame


def write_register(frame: pd.DataFrame, path: Path) -> Path:
    """`frame` to a CSV (UTF-8 with BOM, formulas neutralised) or an XLSX file; times as ISO text with
    their offset (a spreadsheet cell holds no time zone)."""
    _check_suffix(path)
    frame = frame.copy()
    for name in frame.columns:
        if frame[name].map(lambda v: isinstance(v, dt.datetime) and v.tzinfo is not None).any():
            frame[name] = pd.to_datetime(frame[name], utc=True).map(
                lambda t: None if pd.isna(t) else t.isoformat()
            )
    if path.suffix.lower() == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        neutralise(frame).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def read_register(path: Path) -> pd.DataFrame:
    """Every cell as text (codes keep their leading zeros), empty cells missing."""
    _check_suffix(path)
    if not path.exists():
        raise ConfigError(Message("party.no_file", path=path))
    if path.suffix.lower() == ".xlsx":
        frame = pd.read_excel(path, dtype=str)
    else:
        frame = restore(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
    text = frame.astype(object)
    return text.where(text.notna() & (text != ""), None)


def _date(value: object, row: int, name: str, problems: list[Problem]) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        problems.append(Problem(row, name, Message("party.not_a_date", value=repr(value))))
        return None


def import_register(store: Store, register: str, path: Path, *, by: str) -> int:
    """Add the rows of `path` to a register, all or none; the rows written. Organisations open new
    versions; members and units replace those with their codes; 一户十联 rows make each center's links
    those of the file; points and funds entries are added (or, with an `id` the ledger holds, replace
    that entry). Every write keeps what it replaces in the register's history."""
    if register not in REGISTERS:
        raise ConfigError(
            Message("party.register_unknown", registers=", ".join(REGISTERS), register=repr(register))
        )
    frame = read_register(path)
    missing = _REQUIRED[register] - set(frame.columns)
    if missing:
        raise ValidationError(
            path.name, [Problem(None, m, Message("party.column_missing")) for m in sorted(missing)]
        )
    names = columns(metadata.tables[_TABLES[register]])
    wanted = set(names) - STAMPS - ({"valid_to"} if register == "orgs" else set())
    if register in ("points", "funds"):
        wanted |= {"id"}
    table = frame.reindex(columns=sorted(wanted)).astype(object)
    table = table.where(table.notna(), None)  # a column the file lacks: every cell missing
    rows = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    problems: list[Problem] = []
    book = store.party_book()
    if register == "orgs":
        written = _orgs(store, rows, problems, by)
        if not problems:
            for row, closes in written:
                book.save_org(row, closes)
        count = len(written)
    else:
        readers = {"members": _members, "units": _units, "links": _links, "points": _points, "funds": _funds}
        checked = readers[register](store, rows, problems)
        if not problems:
            _write(store, register, checked, by)
        count = len(checked)
    if problems:
        raise ValidationError(path.name, problems)
    return count


def _write(store: Store, register: str, rows: list[dict[str, object]], by: str) -> None:
    """Checked rows into their register in one transaction."""
    book = store.party_book()
    if register == "links":
        book.set_links(sorted({str(r["center_code"]) for r in rows}), rows, by=by)
    elif register in ("points", "funds"):
        book.write_entries(_TABLES[register], rows, by=by)
    else:
        book.replace_rows(_TABLES[register], rows, by=by)


def _text(value: object) -> str | None:
    return None if value is None else str(value).strip() or None


def _number(
    raw: dict[str, object], name: str, row: int, problems: list[Problem], *, whole: bool = False
) -> float | int | None:
    """A cell as a number (`whole`: an integer; "3.0" from a spreadsheet is 3); None when empty."""
    value = raw.get(name)
    if value is None:
        return None
    try:
        number = float(str(value))
    except ValueError:
        number = float("nan")
    if number != number or (whole and not number.is_integer()):
        problems.append(Problem(row, name, Message("party.not_a_number", value=repr(value))))
        return None
    return int(number) if whole else number


def _located(found: list[Problem], row: int) -> list[Problem]:
    return [Problem(row, p.field, p.reason) for p in found]


def _twice(keys: list[object], name: str) -> list[Problem]:
    """A problem for each key the file gives more than once (at its second row)."""
    seen: set[object] = set()
    out = []
    for i, key in enumerate(keys, start=2):
        if key is not None and key in seen:
            out.append(Problem(i, name, Message("party.given_twice", code=key)))
        seen.add(key)
    return out


def _units(store: Store, rows: list[dict[str, object]], problems: list[Problem]) -> list[dict[str, object]]:
    in_force = store.party_book().orgs(on=dt.date.today())
    out = []
    for i, raw in enumerate(rows, start=2):
        tier = _number(raw, "tier", i, problems, whole=True)
        unit = Unit(
            code=_text(raw.get("code")) or "",
            name=_text(raw.get("name")) or "",
            kind=_text(raw.get("kind")) or "",
            street_code=_text(raw.get("street_code")) or "",
            covered_by=_text(raw.get("covered_by")),
            member_of=_text(raw.get("member_of")),
            tier=None if tier is None else int(tier),
        )
        problems += _located(unit_problems(store, unit, in_force=in_force), i)
        out.append(asdict(unit))
    problems += _twice([r["code"] for r in out], "code")
    return out


def _links(store: Store, rows: list[dict[str, object]], problems: list[Problem]) -> list[dict[str, object]]:
    """Each center's households as the file gives them (a center in the file loses the links the file
    does not give it); a household linked once in the file, to one center."""
    out: list[dict[str, object]] = []
    for i, raw in enumerate(rows, start=2):
        out.append(
            {
                "household_code": _text(raw.get("household_code")),
                "center_code": _text(raw.get("center_code")),
                "confirmed_by": _text(raw.get("confirmed_by")),
                "confirmed_on": _date(raw.get("confirmed_on"), i, "confirmed_on", problems)
                or dt.date.today(),
            }
        )
        for name in ("household_code", "center_code"):
            if out[-1][name] is None:
                problems.append(Problem(i, name, Message("party.code_required")))
    problems += _twice([r["household_code"] for r in out], "household_code")
    if problems:
        return out
    centers: dict[str, list[int]] = {}
    for i, r in enumerate(out):
        centers.setdefault(str(r["center_code"]), []).append(i)
    stored = store.party_book().links()
    taken = {
        str(h): str(c)
        for h, c in zip(stored["household_code"], stored["center_code"], strict=True)
        if str(c) not in centers
    }
    taken |= {str(r["household_code"]): str(r["center_code"]) for r in out}
    for center, at in centers.items():
        households = [str(out[i]["household_code"]) for i in at]
        for p in links_problems(store, center, households, taken):
            problems.append(Problem(at[p.row] + 2 if p.row is not None else at[0] + 2, p.field, p.reason))
    return out


def _points(store: Store, rows: list[dict[str, object]], problems: list[Problem]) -> list[dict[str, object]]:
    book = store.party_book()
    rules = set(book.point_rules()["code"])
    members = set(book.members(codes=[str(r.get("member_code")) for r in rows])["code"])
    now = dt.datetime.now(dt.UTC)
    out = []
    for i, raw in enumerate(rows, start=2):
        entry = PointEntry(
            member_code=_text(raw.get("member_code")) or "",
            rule_code=_text(raw.get("rule_code")) or "",
            occurred_on=_date(raw.get("occurred_on"), i, "occurred_on", problems) or dt.date.today(),
            approver=_text(raw.get("approver")) or "",
            evidence=_text(raw.get("evidence")) or "",
            events=int(_number(raw, "events", i, problems, whole=True) or 1),
        )
        problems += _located(points_problems(store, entry, now, rules), i)
        if entry.member_code not in members:
            problems.append(Problem(i, "member_code", Message("party.no_member", code=entry.member_code)))
        recorded = _moment(raw.get("recorded_at"), i, "recorded_at", problems) or now
        out.append({**_entry_id(raw, i, problems), **asdict(entry), "recorded_at": recorded})
    problems += _twice([r.get("id") for r in out], "id")
    return out


def _funds(store: Store, rows: list[dict[str, object]], problems: list[Problem]) -> list[dict[str, object]]:
    out = []
    for i, raw in enumerate(rows, start=2):
        entry = FundsEntry(
            org_code=_text(raw.get("org_code")) or "",
            year=int(_number(raw, "year", i, problems, whole=True) or 0),
            flow=_text(raw.get("flow")) or "",
            amount=float(_number(raw, "amount", i, problems) or 0.0),
            source=_text(raw.get("source")) or BRANCH_FUNDS,
            category=_text(raw.get("category")),
            evidence=_text(raw.get("evidence")),
            recorded_on=_date(raw.get("recorded_on"), i, "recorded_on", problems) or dt.date.today(),
        )
        if not 2000 <= entry.year <= 2100:
            problems.append(Problem(i, "year", Message("party.not_a_year", value=repr(raw.get("year")))))
        problems += _located(funds_problems(store, entry), i)
        out.append({**_entry_id(raw, i, problems), **asdict(entry)})
    problems += _twice([r.get("id") for r in out], "id")
    return out


def _entry_id(raw: dict[str, object], row: int, problems: list[Problem]) -> dict[str, object]:
    """A ledger entry's number when the file gives one (it replaces that entry), else none (a new one)."""
    number = _number(raw, "id", row, problems, whole=True)
    return {} if number is None else {"id": int(number)}


def _moment(value: object, row: int, name: str, problems: list[Problem]) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = pd.Timestamp(str(value))
    except ValueError:
        problems.append(Problem(row, name, Message("party.not_a_date", value=repr(value))))
        return None
    return (moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")).to_pydatetime()


def _orgs(
    store: Store, rows: list[dict[str, object]], problems: list[Problem], by: str
) -> list[tuple[dict[str, object], tuple[str, dt.date, dt.date] | None]]:
    known = store.party_book().orgs()
    out = []
    now = dt.datetime.now(dt.UTC)
    for i, raw in enumerate(rows, start=2):
        on = _date(raw.get("valid_from"), i, "valid_from", problems) or dt.date.today()
        fields = {k: (None if v is None else str(v)) for k, v in raw.items() if k != "valid_from"}
        org = Organisation(**{**fields, "valid_from": on})  # type: ignore[arg-type]
        found = org_problems(store, org, on, known)
        problems += [Problem(i, p.field, p.reason) for p in found]
        current = known[(known["code"] == org.code) & known["valid_to"].isna()]
        closes = None if not len(current) else (org.code, current["valid_from"].iloc[0], on)
        row = {
            **(org.__dict__ if found else with_secretary(store, org)),
            "valid_to": None,
            "changed_by": by,
            "changed_at": now,
        }
        if closes is not None:
            known.loc[current.index, "valid_to"] = on
        known = pd.concat([known, pd.DataFrame([row])], ignore_index=True)
        out.append((row, closes))
    return out


def _members(store: Store, rows: list[dict[str, object]], problems: list[Problem]) -> list[dict[str, object]]:
    out = []
    for i, raw in enumerate(rows, start=2):
        try:
            hours = float(str(raw.get("service_hours") or 0))
        except ValueError:
            problems.append(
                Problem(
                    i, "service_hours", Message("party.not_a_number", value=repr(raw.get("service_hours")))
                )
            )
            hours = 0.0
        in_service = str(raw.get("in_service") or "").strip().lower() in ("1", "true", "yes", "是", "y")
        member = Member(
            code=str(raw.get("code") or ""),
            name=str(raw.get("name") or ""),
            org_code=str(raw.get("org_code") or ""),
            phone=None if raw.get("phone") is None else str(raw["phone"]),
            household_code=None if raw.get("household_code") is None else str(raw["household_code"]),
            in_service=in_service,
            work_unit=None if raw.get("work_unit") is None else str(raw["work_unit"]),
            reported_on=_date(raw.get("reported_on"), i, "reported_on", problems),
            service_hours=hours,
        )
        problems += [Problem(i, p.field, p.reason) for p in member_problems(store, member)]
        out.append(member.__dict__)
    codes = pd.Series([m["code"] for m in out])
    problems += [
        Problem(None, "code", Message("party.given_twice", code=c)) for c in codes[codes.duplicated()]
    ]
    return out
