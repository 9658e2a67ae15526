"""The roads layer: the walking network (lines; code, name, kind, walkable).

Lines are kept as given (LineString or MultiLineString) in a generic geometry
column with a CHECK on the type, as buildings keep their polygons; the table
has a revision, a history table and the indexes every layer has, the
catalogue's CHECK (`roads_code_must_have_no_control_characters`, see
`gridmap.stores.constraints`) and the external-edit triggers of migration 0006
(history, revision, per-layer counts; a road derives no grid), whose counts
function is replaced to count roads too.

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None

EXTERNAL = "(coalesce(current_setting('gridmap.author', true), '') = '')"
COLUMNS = ("code", "name", "kind", "walkable", "revision", "geometry")
LAYERS = ("streets", "communities", "grids", "buildings", "households", "service_points", "speakers", "roads")

TABLE = (
    """
    CREATE TABLE roads (
        code text NOT NULL,
        name text,
        kind text,
        walkable boolean DEFAULT true,
        geometry geometry(Geometry, 4326),
        revision bigint NOT NULL DEFAULT 0,
        CONSTRAINT roads_pkey PRIMARY KEY (code),
        CONSTRAINT roads_geometry_check CHECK (GeometryType(geometry) IN ('LINESTRING', 'MULTILINESTRING'))
    )
    """,
    "CREATE INDEX roads_geometry_gist ON roads USING gist (geometry)",
    "CREATE INDEX roads_revision_btree ON roads (revision)",
    "CREATE TABLE roads_history (LIKE roads)",
    "ALTER TABLE roads_history ADD COLUMN superseded bigint NOT NULL, ADD COLUMN closed_on text",
    "CREATE INDEX roads_history_code ON roads_history (code)",
    "CREATE INDEX roads_history_superseded ON roads_history (superseded)",
    "CREATE INDEX roads_history_revision ON roads_history (revision)",
    "INSERT INTO gridmap_meta (key) VALUES ('roads') ON CONFLICT DO NOTHING",
    "ALTER TABLE roads ADD CONSTRAINT roads_code_must_have_no_control_characters "
    "CHECK (code !~ '[\\x01-\\x1f\\x7f]') NOT VALID",
)

ROW_FUNCTION = f"""
    CREATE FUNCTION gridmap_external_roads() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        r bigint;
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            NEW.revision := OLD.revision;
            IF NEW IS NOT DISTINCT FROM OLD THEN
                RETURN NULL;
            END IF;
        END IF;
        r := gridmap_external_revision();
        IF TG_OP = 'INSERT' THEN
            PERFORM gridmap_external_count('roads', 'inserted');
        ELSIF OLD.revision IS DISTINCT FROM r THEN
            INSERT INTO roads_history ({", ".join(COLUMNS)}, superseded, closed_on)
                VALUES ({", ".join(f"OLD.{c}" for c in COLUMNS)}, r, NULL);
            PERFORM gridmap_external_count('roads', lower(TG_OP) || 'd');
        ELSIF TG_OP = 'DELETE' THEN
            IF EXISTS (SELECT 1 FROM roads_history WHERE code = OLD.code AND superseded = r) THEN
                PERFORM gridmap_external_count('roads', 'updated', -1);
                PERFORM gridmap_external_count('roads', 'deleted');
            ELSE
                PERFORM gridmap_external_count('roads', 'inserted', -1);
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


def _counts_function(layers: tuple[str, ...]) -> str:
    """Migration 0006's statement trigger writing a revision's per-layer counts, over `layers`."""
    return f"""
    CREATE OR REPLACE FUNCTION gridmap_external_counts() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        r bigint := nullif(current_setting('gridmap.external_revision', true), '')::bigint;
        counted jsonb;
    BEGIN
        IF r IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT coalesce(jsonb_object_agg(layer, jsonb_build_object(
                   'inserted', inserted, 'updated', updated, 'deleted', deleted)), '{{}}'::jsonb)
            INTO counted
            FROM (
                SELECT layer,
                       gridmap_external_counted(layer, 'inserted') AS inserted,
                       gridmap_external_counted(layer, 'updated') AS updated,
                       gridmap_external_counted(layer, 'deleted') AS deleted
                FROM unnest(ARRAY[{", ".join(f"'{name}'" for name in layers)}]) AS layer
            ) AS per_layer
            WHERE inserted <> 0 OR updated <> 0 OR deleted <> 0;
        UPDATE gridmap_revisions
            SET counts = counted, layers = ARRAY(SELECT jsonb_object_keys(counted))
            WHERE id = r AND counts IS DISTINCT FROM counted;
        UPDATE gridmap_meta SET modified_at = now() WHERE key = TG_TABLE_NAME;
        RETURN NULL;
    END
    $$
    """


TRIGGERS = (
    ROW_FUNCTION,
    _counts_function(LAYERS),
    "CREATE TRIGGER gridmap_external_turn BEFORE INSERT OR UPDATE OR DELETE ON roads "
    f"FOR EACH STATEMENT WHEN {EXTERNAL} EXECUTE FUNCTION gridmap_external_turn()",
    "CREATE TRIGGER gridmap_external_row BEFORE INSERT OR UPDATE OR DELETE ON roads "
    f"FOR EACH ROW WHEN {EXTERNAL} EXECUTE FUNCTION gridmap_external_roads()",
    "CREATE TRIGGER gridmap_external_counts AFTER INSERT OR UPDATE OR DELETE ON roads "
    f"FOR EACH STATEMENT WHEN {EXTERNAL} EXECUTE FUNCTION gridmap_external_counts()",
)


def upgrade() -> None:
    for statement in (*TABLE, *TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    op.execute(_counts_function(LAYERS[:-1]))
    op.execute("DELETE FROM gridmap_meta WHERE key = 'roads'")
    op.execute("DROP TABLE roads_history")
    op.execute("DROP TABLE roads")
    op.execute("DROP FUNCTION gridmap_external_roads()")
