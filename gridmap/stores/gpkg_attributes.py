"""The books' tables as a GeoPackage holds them: attributes tables keyed by an integer `fid`.

GeoPackage (requirement 119, checked by GDAL's validate_gpkg.py) wants every
table registered as `attributes` in gpkg_contents keyed by an INTEGER PRIMARY
KEY; GDAL and QGIS take that column as the feature id. The shared SQLAlchemy
definitions key several book tables by a text code (cases, care categories,
case keys, the party registers), which PostGIS keeps. In a GeoPackage those
tables get `fid INTEGER PRIMARY KEY AUTOINCREMENT` in front, and their key
becomes a UNIQUE NOT NULL constraint: every query, written against the shared
definitions, names its columns and runs unchanged.

Files made before kept the text key: `rebuild` converts such a table in the
store's upgrade transaction (SQLite cannot change a primary key in place).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

FID = "fid"
_DIALECT = sqlite.dialect()


def integer_keyed(table: sa.Table) -> bool:
    """Whether the table is keyed by one integer column already (what GeoPackage asks)."""
    key = list(table.primary_key.columns)
    return len(key) == 1 and isinstance(key[0].type, sa.Integer)


def geopackage_metadata(shared: sa.MetaData) -> sa.MetaData:
    """The GeoPackage form of every table of `shared` (those keyed by an integer: unchanged)."""
    out = sa.MetaData()
    for table in shared.tables.values():
        if integer_keyed(table):
            table.to_metadata(out)
        else:
            _fid_keyed(table, out)
    return out


def _fid_keyed(table: sa.Table, metadata: sa.MetaData) -> sa.Table:
    """`table` with an integer `fid` key in front, its own key a UNIQUE NOT NULL constraint."""
    key = [c.name for c in table.primary_key.columns]
    columns = [
        sa.Column(
            c.name,
            c.type,
            nullable=c.nullable and not c.primary_key,
            server_default=None if c.server_default is None else getattr(c.server_default, "arg", None),
        )
        for c in table.columns
    ]
    checks = [c for c in table.constraints if isinstance(c, sa.CheckConstraint)]
    constraints: list[sa.Constraint] = [sa.CheckConstraint(c.sqltext, name=c.name) for c in checks]
    constraints += [
        sa.UniqueConstraint(*(col.name for col in c.columns), name=c.name)
        for c in table.constraints
        if isinstance(c, sa.UniqueConstraint)
    ]
    constraints.append(sa.UniqueConstraint(*key, name=f"{table.name}_key"))
    made = sa.Table(
        table.name,
        metadata,
        sa.Column(FID, sa.Integer, primary_key=True, autoincrement=True),
        *columns,
        *constraints,
        sqlite_autoincrement=True,
    )
    for index in table.indexes:
        sa.Index(
            index.name,
            *(made.c[col.name] for col in index.columns),
            unique=index.unique,
            **index.dialect_kwargs,
        )
    return made


def register_attributes(conn: sa.Connection, names: Iterable[str]) -> None:
    """Register a book's tables in a GeoPackage's gpkg_contents as attributes tables (GDAL and QGIS
    list them); a table already registered is left as it is."""
    for name in names:
        conn.execute(
            sa.text(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description) VALUES (:name, 'attributes', :name, :text)"
            ),
            {"name": name, "text": f"gridmap {name}"},
        )


def create_tables(conn: sa.Connection, metadata: sa.MetaData) -> None:
    """Create a book's missing tables in their GeoPackage form (`metadata`) and register them all."""
    metadata.create_all(conn, checkfirst=True)
    register_attributes(conn, metadata.tables)


def create_statements(table: sa.Table) -> list[str]:
    """SQL making one table in its GeoPackage form with its indexes, registered as attributes (a table a
    file made by an earlier version lacks, added by the store's upgrade)."""
    return [
        str(CreateTable(table).compile(dialect=_DIALECT)),
        *(str(CreateIndex(index).compile(dialect=_DIALECT)) for index in table.indexes),
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        f"VALUES ('{table.name}', 'attributes', '{table.name}', 'gridmap {table.name}')",
    ]


def rebuild(conn: sqlite3.Connection, table: sa.Table) -> None:
    """Remake a text-keyed table in its GeoPackage form (`table`), inside the caller's transaction.

    SQLite's own recipe for a changed table: a new table, every row copied (its
    rowid becoming its `fid`), the old one dropped, the new one renamed, then
    the definition's indexes and every other index and trigger the old table
    had. A column the definition lacks is kept; one the file lacks takes its
    default.
    """
    name = table.name
    before = [(row[1], row[2]) for row in conn.execute(f'PRAGMA table_info("{name}")')]
    kept = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type, name",
        (name,),
    ).fetchall()
    scratch = f"{name}_gridmap_rebuilt"
    conn.execute(str(CreateTable(table.to_metadata(sa.MetaData(), name=scratch)).compile(dialect=_DIALECT)))
    wanted = {c.name for c in table.columns}
    for column, kind in before:
        if column not in wanted:
            conn.execute(f'ALTER TABLE "{scratch}" ADD COLUMN "{column}" {kind}')
    copied = ", ".join(f'"{column}"' for column, _ in before)
    conn.execute(
        f'INSERT INTO "{scratch}" ({FID}, {copied}) SELECT rowid, {copied} FROM "{name}" ORDER BY rowid'
    )
    conn.execute(f'DROP TABLE "{name}"')
    # Legacy renaming: nothing else in the schema is rewritten or re-checked, so a view or trigger
    # elsewhere that names the table reads the new one.
    legacy = conn.execute("PRAGMA legacy_alter_table").fetchone()[0]
    conn.execute("PRAGMA legacy_alter_table = ON")
    try:
        conn.execute(f'ALTER TABLE "{scratch}" RENAME TO "{name}"')
    finally:
        conn.execute(f"PRAGMA legacy_alter_table = {int(legacy)}")
    for index in table.indexes:
        conn.execute(str(CreateIndex(index).compile(dialect=_DIALECT)))
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = ?", (name,))}
    for item, sql in kept:
        if item not in present:
            conn.execute(sql)


def book_tables() -> dict[str, sa.Table]:
    """The GeoPackage form of every book table (cases, visits, party), by name."""
    from gridmap.stores import cases, party, visits  # they build their forms with this module

    return {**cases.GPKG_METADATA.tables, **visits.GPKG_METADATA.tables, **party.GPKG_METADATA.tables}
