"""Boundary versions for edits made outside gridmap: validity dates kept by the triggers.

A street, community or grid redrawn in QGIS or by SQL is a new version, as
when gridmap writes it (`gridmap.versions`): the row's `valid_from` becomes
the day of the edit (unless the writer gives a later one), and the old
version goes to the history closed on that date. A boundary inserted without
`valid_from` is in force from the day of the edit; a deleted one closes that
day. The dates are the database's current date (its TimeZone setting), ISO
text like every `valid_from`. An edit that leaves the shape as it was
(`ST_OrderingEquals`) keeps the dates it has.

The row functions of the three boundary layers are made again with these
rules; everything else they do is as in 0006.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = {
    "streets": ("code", "name", "valid_from", "valid_to", "revision", "geometry"),
    "communities": ("code", "name", "street_code", "kind", "valid_from", "valid_to", "revision", "geometry"),
    "grids": (
        "code",
        "name",
        "community_code",
        "party_branch",
        "worker_name",
        "worker_phone",
        "valid_from",
        "valid_to",
        "revision",
        "geometry",
    ),
}
TODAY = "to_char(current_date, 'YYYY-MM-DD')"


def _row_function(layer: str, *, dated: bool) -> str:
    """The BEFORE ROW trigger of one boundary layer (with `dated`: keeping validity dates)."""
    columns = COLUMNS[layer]
    old = ", ".join(f"OLD.{c}" for c in columns)
    stamp = closed = ""
    if dated:
        stamp = f"""
            IF TG_OP = 'INSERT' THEN
                NEW.valid_from := coalesce(NEW.valid_from, {TODAY});
            ELSIF NOT ST_OrderingEquals(NEW.geometry, OLD.geometry)
                  AND (NEW.valid_from IS NULL OR NEW.valid_from <= OLD.valid_from) THEN
                NEW.valid_from := {TODAY};
            END IF;
            NEW.valid_to := NULL;"""
        closed = (
            f"CASE WHEN TG_OP = 'DELETE' THEN {TODAY} "
            "WHEN NOT ST_OrderingEquals(NEW.geometry, OLD.geometry) THEN NEW.valid_from END"
        )
    return f"""
    CREATE OR REPLACE FUNCTION gridmap_external_{layer}() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        r bigint;
    BEGIN
        IF TG_OP <> 'DELETE' THEN{stamp}
            IF TG_OP = 'UPDATE' THEN
                NEW.revision := OLD.revision;
                IF NEW IS NOT DISTINCT FROM OLD THEN
                    RETURN NULL;
                END IF;
            END IF;
        END IF;
        r := gridmap_external_revision();
        IF TG_OP = 'INSERT' THEN
            PERFORM gridmap_external_count('{layer}', 'inserted');
        ELSIF OLD.revision IS DISTINCT FROM r THEN
            INSERT INTO {layer}_history ({", ".join(columns)}, superseded, closed_on)
                VALUES ({old}, r, {closed or "NULL"});
            PERFORM gridmap_external_count('{layer}', lower(TG_OP) || 'd');
        ELSIF TG_OP = 'DELETE' THEN
            -- This revision wrote the row: deleting it undoes an insert, or turns an update into a delete.
            IF EXISTS (SELECT 1 FROM {layer}_history WHERE code = OLD.code AND superseded = r) THEN
                PERFORM gridmap_external_count('{layer}', 'updated', -1);
                PERFORM gridmap_external_count('{layer}', 'deleted');
            ELSE
                PERFORM gridmap_external_count('{layer}', 'inserted', -1);
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        NEW.revision := r;
        RETURN NEW;
    END
    $$
    """


def upgrade() -> None:
    for layer in COLUMNS:
        op.execute(_row_function(layer, dated=True))


def downgrade() -> None:
    for layer in COLUMNS:
        op.execute(_row_function(layer, dated=False))
