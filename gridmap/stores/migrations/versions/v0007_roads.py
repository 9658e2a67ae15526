"""The roads layer: the walking network (lines; code, name, kind, walkable).

Lines are kept as given (LineString or MultiLineString) in a generic geometry
column with a CHECK on the type, as buildings keep their polygons; the table
has a revision, a history table and the indexes every layer has.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

STATEMENTS = (
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
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DELETE FROM gridmap_meta WHERE key = 'roads'")
    op.execute("DROP TABLE roads_history")
    op.execute("DROP TABLE roads")
