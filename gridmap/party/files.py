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
from pathlib import Path

import pandas as pd

from gridmap.errors import ConfigError, Problem, ValidationError
from gridmap.formulas import neutralise, restore
from gridmap.party.register import Member, Organisation, member_problems, org_problems, with_secretary
from gridmap.privacy import PARTY_PERSONAL, protect_party
from gridmap.stores import Store
from gridmap.stores.party import MEMBERS, ORGS, columns
from gridmap.texts import Message
from gridmap.vocabulary import Term

REGISTERS: dict[str, Term] = {
    t.code: t
    for t in (
        Term("orgs", "党组织登记", "organisations"),
        Term("members", "党员登记", "members"),
        Term("units", "单位登记", "units"),
        Term("links", "一户十联登记", "一户十联 links"),
    )
}
"""What `gridmap party export` writes; `orgs` and `members` import back."""
_TABLES = {"orgs": "party_orgs", "members": "party_members", "units": "party_units", "links": "party_links"}
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
    if register == "orgs":
        frame = book.orgs()
    elif register == "members":
        frame = book.members()
    else:
        frame = book.units() if register == "units" else book.links()
    table = _TABLES[register]
    if table in PARTY_PERSONAL:
        frame = protect_party(table, frame, [whole] * len(frame))
    return frame


def write_register(frame: pd.DataFrame, path: Path) -> Path:
    """`frame` to a CSV (UTF-8 with BOM, formulas neutralised) or an XLSX file."""
    _check_suffix(path)
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
    """Add the rows of `path` to the `orgs` or `members` register, all or none; the rows written."""
    frame = read_register(path)
    wanted = {
        "orgs": set(columns(ORGS)) - {"valid_to", "changed_by", "changed_at"},
        "members": set(columns(MEMBERS)),
    }
    if register not in wanted:
        raise ConfigError(Message("party.import_only", register=repr(register)))
    missing = {"code", "name"} - set(frame.columns)
    if missing:
        raise ValidationError(
            path.name, [Problem(None, m, Message("party.column_missing")) for m in sorted(missing)]
        )
    table = frame.reindex(columns=sorted(wanted[register])).astype(object)
    table = table.where(table.notna(), None)  # a column the file lacks: every cell missing
    rows = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    problems: list[Problem] = []
    book = store.party_book()
    if register == "orgs":
        written = _orgs(store, rows, problems, by)
        if not problems:
            for row, closes in written:
                book.save_org(row, closes)
    else:
        members = _members(store, rows, problems)
        if not problems:
            book.replace_rows("party_members", members)
        written = members  # type: ignore[assignment]
    if problems:
        raise ValidationError(path.name, problems)
    return len(written)


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
