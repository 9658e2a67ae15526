"""GeoPackage 1.3 for store files that earlier gridmap versions wrote as 1.4.

GDAL 3.6 and QGIS 3.22 (Debian 12) warn on every open of a 1.4 file, and
GDAL 3.6's validate_gpkg.py requires the R-tree triggers of 1.3. The only
structural difference in gridmap's files is those triggers: 1.4 replaced
`update1` and `update3` by `update5`, `update6` and `update7`. A 1.4 file is
converted in place, in the store's upgrade transaction: every spatial index
gets the six triggers of the R-tree extension as GeoPackage 1.3 gives them
(the text GDAL 3.6 writes, so GDAL and QGIS find what they expect), and the
header says 1.3. Both trigger sets keep the same index, so its nodes stay.
"""

from __future__ import annotations

import sqlite3

APPLICATION_ID = 0x47504B47  # "GPKG"
VERSION_1_3 = 10300
_VERSION_1_4 = range(10400, 10500)

_BOX = 'NEW."{i}",ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")'
_PUT = f'INSERT OR REPLACE INTO "rtree_{{t}}_{{g}}" VALUES ({_BOX});'
_TAKE_OLD = 'DELETE FROM "rtree_{t}_{g}" WHERE id = OLD."{i}";'
_FITS = 'NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}")'
_EMPTY = 'NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}")'
_SAME_ID, _NEW_ID = 'OLD."{i}" = NEW."{i}"', 'OLD."{i}" != NEW."{i}"'
_GEOMETRY_UPDATED, _UPDATED = 'AFTER UPDATE OF "{g}" ON "{t}"', 'AFTER UPDATE ON "{t}"'
RTREE_TRIGGERS_1_3 = {
    "insert": ('AFTER INSERT ON "{t}"', '(new."{g}" NOT NULL AND NOT ST_IsEmpty(NEW."{g}"))', _PUT),
    "update1": (_GEOMETRY_UPDATED, f"{_SAME_ID} AND ({_FITS})", _PUT),
    "update2": (_GEOMETRY_UPDATED, f"{_SAME_ID} AND ({_EMPTY})", _TAKE_OLD),
    "update3": (_UPDATED, f"{_NEW_ID} AND ({_FITS})", f"{_TAKE_OLD} {_PUT}"),
    "update4": (
        _UPDATED,
        f"{_NEW_ID} AND ({_EMPTY})",
        'DELETE FROM "rtree_{t}_{g}" WHERE id IN (OLD."{i}", NEW."{i}");',
    ),
    "delete": ('AFTER DELETE ON "{t}"', 'old."{g}" NOT NULL', _TAKE_OLD),
}
"""The R-tree extension's triggers of GeoPackage 1.3 by name suffix, as (event, condition, body): `{t}` the
table, `{g}` its geometry column, `{i}` its integer key."""
_EVERY_SUFFIX = ("insert", *(f"update{n}" for n in range(1, 8)), "delete")


def is_1_4(conn: sqlite3.Connection) -> bool:
    """Whether the file says it is a GeoPackage 1.4 (what GDAL writes by default since 3.7.1)."""
    application = conn.execute("PRAGMA application_id").fetchone()[0]
    return application == APPLICATION_ID and conn.execute("PRAGMA user_version").fetchone()[0] in _VERSION_1_4


def to_1_3(conn: sqlite3.Connection) -> None:
    """Make a 1.4 file a 1.3 one, inside the caller's transaction: R-tree triggers, then the header."""
    indexed = conn.execute(
        "SELECT e.table_name, e.column_name FROM gpkg_extensions e JOIN sqlite_master m "
        "ON m.type = 'table' AND m.name = 'rtree_' || e.table_name || '_' || e.column_name "
        "WHERE e.extension_name = 'gpkg_rtree_index'"
    ).fetchall()
    for table, column in indexed:
        key = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")') if row[5]]
        for suffix in _EVERY_SUFFIX:
            conn.execute(f'DROP TRIGGER IF EXISTS "rtree_{table}_{column}_{suffix}"')
        for suffix, parts in RTREE_TRIGGERS_1_3.items():
            event, condition, body = (part.format(t=table, g=column, i=key[0]) for part in parts)
            conn.execute(
                f'CREATE TRIGGER "rtree_{table}_{column}_{suffix}" {event} WHEN {condition} BEGIN {body} END'
            )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {VERSION_1_3}")
