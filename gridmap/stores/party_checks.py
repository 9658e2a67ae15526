"""The party chain's kinds and parents as database objects, so QGIS, GDAL and psql writes meet them too.

`gridmap.party.register` checks a write before gridmap makes it; a table
edited in QGIS or by SQL has only the database to refuse it. The SQL here is
generated from `gridmap.party.vocabulary` (each kind's allowed parents and
areas, the unit kinds), so the database and the register hold one rule:

- row rules (a known kind, an area of the kind's, a parent exactly below the
  top): CHECK constraints in PostGIS, BEFORE triggers in a GeoPackage (SQLite
  cannot add a CHECK to an existing table);
- the parent rule (an organisation of an allowed kind, in force on the
  child's first day): a trigger in both.

A name says what is wrong (`party_orgs_parent_kind_must_fit`), so the bare
database error a QGIS user sees is enough. PostGIS gets these by migration
(0014); a GeoPackage when its party tables are made, and when a file made
before is opened (`sqlite_ready`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd

from gridmap.party.vocabulary import ORG_KINDS, UNIT_KINDS

_ORGS = "party_orgs"
_UNITS = "party_units"
_PARENT_FUNCTION = "party_orgs_parent_check"
_WATCHED = ("code", "kind", "area_kind", "parent_code", "valid_from")
"""The columns an update must change for the parent rule to be judged again (closing a version is not one)."""
PARENT_IN_FORCE = "party_orgs_parent_must_be_in_force"
PARENT_KIND = "party_orgs_parent_kind_must_fit"
SECRETARY = "party_orgs_secretary_must_be_member"
"""An organisation version's `secretary_code` names a member of it, or of an organisation below it in
force on the version's first day (`gridmap.party.register`'s rule); PostGIS: migration 0017."""
SECRETARY_WATCHED = ("code", "valid_from", "secretary_code")
SECRETARY_MEMBER = """
    WITH RECURSIVE below(code) AS (
        SELECT NEW.code
        UNION
        SELECT o.code FROM party_orgs o JOIN below b ON o.parent_code = b.code
        WHERE o.valid_from <= NEW.valid_from AND (o.valid_to IS NULL OR o.valid_to > NEW.valid_from)
    )
    SELECT 1 FROM party_members m
    WHERE m.code = NEW.secretary_code AND m.org_code IN (SELECT code FROM below)"""
"""Rows when NEW's secretary is a member of NEW's organisation or one below it (SQL both databases run)."""


@dataclass(frozen=True)
class RowRule:
    """A rule on one row of one table; `holds` is an SQL expression over its columns (NULL passes),
    each written `{row}column` so a trigger can name them `NEW.column`."""

    table: str
    name: str
    reason: str
    holds: str

    def on(self, row: str = "") -> str:
        """The expression over the columns of `row` (`NEW.`), or bare (a CHECK)."""
        return self.holds.format(row=row)


def _quoted(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _per_kind(kind: str, pairs: dict[str, tuple[str, ...]], column: str) -> str:
    """`column` is one of the values `pairs` allows the row's `kind`: one clause per kind allowing any."""
    clauses = [f"({kind} = '{k}' AND {column} IN ({_quoted(v)}))" for k, v in pairs.items() if v]
    return "(" + " OR ".join(clauses) + ")" if clauses else "FALSE"


def _children() -> list[str]:
    """The kinds below the top (they have a parent)."""
    return [code for code, kind in ORG_KINDS.items() if kind.parents]


def tops() -> list[str]:
    """The kinds at the top of the chain (no parent)."""
    return [code for code, kind in ORG_KINDS.items() if not kind.parents]


@cache
def row_rules() -> tuple[RowRule, ...]:
    """Every row rule, from the vocabulary. An unknown kind breaks only the rule that says so: PostgreSQL
    names the first broken CHECK in the order of their names, not the most telling."""
    areas = {code: kind.areas for code, kind in ORG_KINDS.items()}
    known = _quoted(list(ORG_KINDS))  # an unknown kind is one rule's finding, not three
    return (
        RowRule(
            _ORGS,
            "party_orgs_kind_must_be_known",
            f"kind must be one of {', '.join(ORG_KINDS)}",
            f"{{row}}kind IN ({known})",
        ),
        RowRule(
            _ORGS,
            "party_orgs_area_kind_must_fit_kind",
            "this kind of organisation does not serve this kind of area",
            f"{{row}}kind NOT IN ({known}) OR {_per_kind('{row}kind', areas, '{row}area_kind')}",
        ),
        RowRule(
            _ORGS,
            "party_orgs_parent_code_must_fit_kind",
            f"the top of the chain ({', '.join(tops())}) has no parent, every other kind needs one",
            f"CASE WHEN {{row}}kind IN ({_quoted(tops())}) THEN {{row}}parent_code IS NULL "
            f"WHEN {{row}}kind IN ({_quoted(_children())}) THEN {{row}}parent_code IS NOT NULL ELSE TRUE END",
        ),
        RowRule(
            _UNITS,
            "party_units_kind_must_be_known",
            f"kind must be one of {', '.join(UNIT_KINDS)}",
            f"{{row}}kind IN ({_quoted(list(UNIT_KINDS))})",
        ),
    )


def _parent_allowed(child: str, parent: str) -> str:
    """The parent's kind (`parent`) is one the child's kind (`child`) allows."""
    return _per_kind(child, {code: kind.parents for code, kind in ORG_KINDS.items()}, parent)


def _in_force(alias: str) -> str:
    return (
        f"{alias}.code = NEW.parent_code AND {alias}.valid_from <= NEW.valid_from "
        f"AND ({alias}.valid_to IS NULL OR {alias}.valid_to > NEW.valid_from)"
    )


# -- PostGIS -----------------------------------------------------------------------


def postgres_statements() -> list[str]:
    """The CHECKs and the parent trigger as the vocabulary implies them today, each dropped first.
    Migration 0014 holds them as fixed text (a test keeps the two equal); when the kinds change, a new
    migration carries the new text, and running it brings a database up to the new kinds."""
    statements: list[str] = []
    for rule in row_rules():
        statements += [
            f"ALTER TABLE {rule.table} DROP CONSTRAINT IF EXISTS {rule.name}",
            f"ALTER TABLE {rule.table} ADD CONSTRAINT {rule.name} CHECK ({rule.on()})",
        ]
    statements += [
        f"""
        CREATE OR REPLACE FUNCTION {_PARENT_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            parent_kind text;
        BEGIN
            IF NEW.parent_code IS NULL OR NEW.kind NOT IN ({_quoted(_children())}) THEN
                RETURN NEW;  -- no parent to judge, or a kind the CHECKs refuse (they run after this)
            END IF;
            SELECT p.kind INTO parent_kind FROM {_ORGS} p WHERE {_in_force("p")} LIMIT 1;
            IF NOT FOUND THEN
                RAISE EXCEPTION '{PARENT_IN_FORCE}: no organisation % in force on %',
                    NEW.parent_code, NEW.valid_from USING ERRCODE = 'check_violation';
            END IF;
            IF NOT {_parent_allowed("NEW.kind", "parent_kind")} THEN
                RAISE EXCEPTION '{PARENT_KIND}: a % may not be the parent of a %',
                    parent_kind, NEW.kind USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END
        $$
        """,
        f"DROP TRIGGER IF EXISTS {_PARENT_FUNCTION} ON {_ORGS}",
        f"CREATE TRIGGER {_PARENT_FUNCTION} BEFORE INSERT OR UPDATE OF {', '.join(_WATCHED)} "
        f"ON {_ORGS} FOR EACH ROW EXECUTE FUNCTION {_PARENT_FUNCTION}()",
    ]
    return statements


def postgres_drop() -> list[str]:
    """What `postgres_statements` made, dropped (a migration's downgrade)."""
    return [
        f"DROP TRIGGER IF EXISTS {_PARENT_FUNCTION} ON {_ORGS}",
        f"DROP FUNCTION IF EXISTS {_PARENT_FUNCTION}()",
        *(f"ALTER TABLE {r.table} DROP CONSTRAINT IF EXISTS {r.name}" for r in row_rules()),
    ]


# -- GeoPackage ----------------------------------------------------------------------


def _raise(name: str, reason: str, when: str) -> str:
    text = f"{name}: {reason}".replace("'", "''")
    return f"SELECT RAISE(ABORT, '{text}') WHERE {when};"


def _sqlite_trigger(table: str, event: str) -> str:
    rules = [r for r in row_rules() if r.table == table]
    body = [_raise(r.name, r.reason, f"NOT ({r.on('NEW.')})") for r in rules]
    if table == _ORGS:  # after the row rules: a kind they refuse never reaches these
        parent = f"SELECT 1 FROM {_ORGS} p WHERE {_in_force('p')}"
        body += [
            _raise(
                PARENT_IN_FORCE,
                "the parent must be an organisation in force on the first day",
                f"NEW.parent_code IS NOT NULL AND NOT EXISTS ({parent})",
            ),
            _raise(
                PARENT_KIND,
                "the parent must be of a kind this kind of organisation may stand under",
                f"NEW.parent_code IS NOT NULL AND NOT EXISTS ({parent} "
                f"AND {_parent_allowed('NEW.kind', 'p.kind')})",
            ),
        ]
    watched = f" OF {', '.join(_WATCHED)}" if event == "UPDATE" and table == _ORGS else ""
    lines = "\n    ".join(body)
    return (
        f'CREATE TRIGGER "{table}_check_{event.lower()}" BEFORE {event}{watched} ON "{table}"\n'
        f"BEGIN\n    {lines}\nEND"
    )


def _sqlite_secretary(event: str) -> str:
    watched = f" OF {', '.join(SECRETARY_WATCHED)}" if event == "UPDATE" else ""
    reason = "the secretary must be a member of the organisation or of one below it in force on its first day"
    return (
        f'CREATE TRIGGER "{_ORGS}_secretary_{event.lower()}" BEFORE {event}{watched} ON "{_ORGS}"\n'
        f"WHEN NEW.secretary_code IS NOT NULL\n"
        f"BEGIN\n    {_raise(SECRETARY, reason, f'NOT EXISTS ({SECRETARY_MEMBER})')}\nEND"
    )


def sqlite_triggers() -> dict[str, str]:
    """The GeoPackage triggers by name, as CREATE TRIGGER statements."""
    made = {}
    for table in (_ORGS, _UNITS):
        for event in ("INSERT", "UPDATE"):
            made[f"{table}_check_{event.lower()}"] = _sqlite_trigger(table, event)
    for event in ("INSERT", "UPDATE"):
        made[f"{_ORGS}_secretary_{event.lower()}"] = _sqlite_secretary(event)
    return made


_STAMPS = {"changed_by": "TEXT", "changed_at": "DATETIME"}
ADDED_COLUMNS: dict[str, dict[str, str]] = {
    _ORGS: {"secretary_code": "TEXT"},
    **{
        table: _STAMPS
        for table in ("party_units", "party_members", "party_links", "party_points", "party_funds")
    },
}
"""Columns the party tables gained after they were first made (PostGIS: by migration), with their
SQLite types: a GeoPackage made before gets them when opened."""


def sqlite_ready(present: set[str], made: set[str], columns: dict[str, set[str]]) -> bool:
    """Whether a file's party tables are this version's (`present`: its tables; `made`: its triggers'
    SQL; `columns`: each table's columns): true too for a file that holds no party tables yet (they are
    made whole)."""
    if _ORGS not in present:
        return True
    return set(sqlite_triggers().values()) <= made and not _missing(columns)


def _missing(columns: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    return [
        (table, name, kind)
        for table, added in ADDED_COLUMNS.items()
        for name, kind in added.items()
        if name not in columns.get(table, set())
    ]


def sqlite_statements(present: set[str], columns: dict[str, set[str]] | None = None) -> list[str]:
    """Add the columns the party tables `present` lack (`columns`: each table's; None: a table just made)
    and make their triggers again (none present: nothing to do)."""
    if _ORGS not in present:
        return []
    missing = [] if columns is None else _missing(columns)
    added = [f'ALTER TABLE "{table}" ADD COLUMN "{name}" {kind}' for table, name, kind in missing]
    return added + [
        statement
        for name, sql in sqlite_triggers().items()
        for statement in (f'DROP TRIGGER IF EXISTS "{name}"', sql)
    ]


def chain_depth(kind: str) -> int:
    """How far below the top a kind stands, counting its deepest allowed parent (so parents sort first)."""
    parents = ORG_KINDS[kind].parents if kind in ORG_KINDS else ()
    return 1 + max((chain_depth(p) for p in parents), default=-1)


def parents_first(orgs: pd.DataFrame) -> pd.DataFrame:
    """Organisation versions ordered so that every parent is written before its children (a bulk write
    meets the parent trigger row by row)."""
    if not len(orgs):
        return orgs
    depth = orgs["kind"].map(chain_depth)
    order = pd.DataFrame({"depth": depth, "start": orgs["valid_from"].astype(str)}).sort_values(
        ["depth", "start"], kind="stable"
    )
    return orgs.loc[order.index]
