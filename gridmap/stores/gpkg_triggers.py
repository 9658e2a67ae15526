"""SQLite triggers that make a GeoPackage keep its truths when QGIS or GDAL edits it.

Plain SQL only (no function of gridmap's), so GDAL and QGIS run them
untouched. For every layer:

- constraint triggers refuse what the catalogue forbids
  (`RAISE(ABORT, '<constraint name>: <reason>')`, `gridmap.stores.constraints`),
  whoever writes: SQLite cannot add a CHECK to an existing table;
- change triggers, for writers other than gridmap, keep the history: the old
  row of an update or delete moves to `<layer>_history`, superseded by the
  open external revision (one revision per run of external edits, opened by
  the first of them and recorded in `gridmap_revisions` as
  "external edit (GeoPackage)"), the row is stamped with that revision, and
  every changed row is logged in `gridmap_changes` for gridmap to derive
  what SQL cannot (`grid_code`: point in polygon, area shares), see
  `gridmap.stores.settling`; a boundary (street, community, grid) redrawn,
  added or deleted gets its validity dates as `gridmap.versions` gives
  gridmap's own writes (a new version from the day of the edit, the old one
  closed that day).

gridmap's own write transactions insert a row into `gridmap_writing` first
and delete it before they commit, so no other connection ever sees it and
the change triggers step aside for them (gridmap records its own history).
"""

from __future__ import annotations

from gridmap.catalogue import LAYER_NAMES, get_layer
from gridmap.changes import REVISION, versioned_spec
from gridmap.stores.constraints import constraints

WRITING = "gridmap_writing"
"""Holds one row inside a gridmap write transaction only."""
CHANGES = "gridmap_changes"
"""The log of rows changed by other writers: `settled` once gridmap has derived their fields."""
EXTERNAL = "gridmap_external"
"""The open external revision (at most one row); gridmap's next write or settling closes it."""
EXTERNAL_AUTHOR = "external edit (GeoPackage)"
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
_GEOMETRY = "geom"
_TODAY = "date('now', 'localtime')"
"""The day of an external edit, as `gridmap.versions.today` gives gridmap's own (the local calendar)."""


def tables() -> list[str]:
    """The tables the triggers use (created when a store is opened)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {WRITING} (id INTEGER PRIMARY KEY)",
        f"CREATE TABLE IF NOT EXISTS {EXTERNAL} (revision INTEGER NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {CHANGES} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        f"at TEXT NOT NULL DEFAULT ({_NOW}), revision INTEGER NOT NULL, layer TEXT NOT NULL, "
        "code TEXT, op TEXT NOT NULL, settled INTEGER NOT NULL DEFAULT 0)",
        f'CREATE INDEX IF NOT EXISTS "{CHANGES}_unsettled" ON {CHANGES} (settled) WHERE settled = 0',
        f'CREATE INDEX IF NOT EXISTS "{CHANGES}_revision" ON {CHANGES} (revision)',
    ]


def trigger_names(layer: str) -> list[str]:
    parts = ("check_insert", "check_update", "insert", "update", "delete")
    return [f"gridmap_{layer}_{part}" for part in parts]


def triggers(layer: str) -> list[str]:
    """Every trigger of one layer, as CREATE TRIGGER statements (dropped and made again on upgrade)."""
    return [*_checks(layer), *_changes(layer)]


def all_triggers() -> dict[str, list[str]]:
    return {name: triggers(name) for name in LAYER_NAMES}


def _checks(layer: str) -> list[str]:
    spec = get_layer(layer)
    raises = [
        f"SELECT RAISE(ABORT, '{layer}_{f.name}_is_required: {f.name} must not be empty') "
        f'WHERE NEW."{f.name}" IS NULL;'
        for f in spec.fields
        if f.required
    ]
    raises += [
        f"SELECT RAISE(ABORT, '{rule.name}: {rule.reason}') WHERE {rule.sqlite_violation()};"
        for rule in constraints(spec)
    ]
    body = "\n    ".join(raises)
    return [
        f'CREATE TRIGGER "gridmap_{layer}_check_{event.lower()}" BEFORE {event} ON "{layer}"\n'
        f"BEGIN\n    {body}\nEND"
        for event in ("INSERT", "UPDATE")
    ]


def _open_revision(layer: str, change: str) -> str:
    """Statements that open the external revision if none is open, and count this change in it."""
    none_open = f"NOT EXISTS (SELECT 1 FROM {EXTERNAL})"
    current = f"(SELECT revision FROM {EXTERNAL})"
    return f"""
    UPDATE gridmap_meta SET value = value + 1 WHERE key = 'revision' AND {none_open};
    INSERT INTO gridmap_revisions (id, at, author, role, command, reverts, layers, counts)
        SELECT value, {_NOW}, '{EXTERNAL_AUTHOR}', NULL, 'external edit', NULL, ',', '{{}}'
        FROM gridmap_meta WHERE key = 'revision' AND {none_open};
    INSERT INTO {EXTERNAL} (revision) SELECT value FROM gridmap_meta WHERE key = 'revision' AND {none_open};
    UPDATE gridmap_revisions SET
        layers = CASE WHEN layers LIKE '%,{layer},%' THEN layers ELSE layers || '{layer},' END,
        counts = json_set(
            counts,
            '$.{layer}.inserted', coalesce(json_extract(counts, '$.{layer}.inserted'), 0)
                + {1 if change == "inserted" else 0},
            '$.{layer}.updated', coalesce(json_extract(counts, '$.{layer}.updated'), 0)
                + {1 if change == "updated" else 0},
            '$.{layer}.deleted', coalesce(json_extract(counts, '$.{layer}.deleted'), 0)
                + {1 if change == "deleted" else 0}
        )
        WHERE id = {current};
    UPDATE gpkg_contents SET last_change = {_NOW} WHERE table_name = '{layer}';"""


def _changes(layer: str) -> list[str]:
    spec = versioned_spec(layer)
    columns = [*spec.field_names, _GEOMETRY]
    names = ", ".join(f'"{c}"' for c in columns)
    old = ", ".join(f'OLD."{c}"' for c in columns)
    current = f"(SELECT revision FROM {EXTERNAL})"
    external = f"NOT EXISTS (SELECT 1 FROM {WRITING})"
    # An update that changes nothing but the revision records nothing: QGIS saving an untouched
    # feature, and the triggers' own stamp. Whatever revision an external writer sends (GDAL
    # writes back the one it read, perhaps stale) is replaced by the stamp.
    same = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in columns if c != REVISION)
    dated = spec.versioned

    def history(closed: str) -> str:
        return (
            f'INSERT INTO "{layer}_history" ({names}, superseded, closed_on) '
            f"SELECT {old}, {current}, {closed if dated else 'NULL'} WHERE OLD.revision IS NOT {current};"
        )

    # A boundary redrawn is a new version from today (unless given a later start), the old one closing
    # then; an inserted one starts today unless given a start; a deleted one closes today.
    moved = f"NEW.{_GEOMETRY} IS NOT OLD.{_GEOMETRY}"
    starts = (
        f"CASE WHEN {moved} AND (NEW.valid_from IS NULL OR NEW.valid_from <= OLD.valid_from) "
        f"THEN {_TODAY} ELSE NEW.valid_from END"
    )

    def log(op: str, row: str) -> str:
        return (
            f"INSERT INTO {CHANGES} (revision, layer, code, op) "
            f"VALUES ({current}, '{layer}', {row}.code, '{op}');"
        )

    renamed = (  # a code changed in place: the old code is gone, and is logged too
        f"INSERT INTO {CHANGES} (revision, layer, code, op) "
        f"SELECT {current}, '{layer}', OLD.code, 'deleted' WHERE OLD.code IS NOT NEW.code;"
    )
    stamp = f'UPDATE "{layer}" SET revision = {current} WHERE fid = NEW.fid;'
    inserted, updated = stamp, stamp
    if dated:
        inserted = stamp.replace(" WHERE", f", valid_from = coalesce(valid_from, {_TODAY}) WHERE")
        updated = stamp.replace(" WHERE", f", valid_from = {starts}, valid_to = NULL WHERE")
    return [
        f'CREATE TRIGGER "gridmap_{layer}_insert" AFTER INSERT ON "{layer}" WHEN {external}\n'
        f"BEGIN{_open_revision(layer, 'inserted')}\n    {inserted}\n    {log('inserted', 'NEW')}\nEND",
        f'CREATE TRIGGER "gridmap_{layer}_update" AFTER UPDATE ON "{layer}" '
        f"WHEN {external} AND NOT ({same})\n"
        f"BEGIN{_open_revision(layer, 'updated')}\n    {history(f'CASE WHEN {moved} THEN {starts} END')}\n"
        f"    {updated}\n    {log('updated', 'NEW')}\n    {renamed}\nEND",
        f'CREATE TRIGGER "gridmap_{layer}_delete" AFTER DELETE ON "{layer}" WHEN {external}\n'
        f"BEGIN{_open_revision(layer, 'deleted')}\n    {history(_TODAY)}\n    {log('deleted', 'OLD')}\nEND",
    ]
