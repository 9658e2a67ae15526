"""Initial schema: the seven catalogue layers and the revision table.

A fixed snapshot of `gridmap.catalogue` as it was when written: later catalogue
changes need a new revision (tests/stores/test_postgis_schema.py fails until
one exists). Buildings keep Polygon and MultiPolygon as given, in a generic
geometry column with a CHECK on the type; the other layers are typed columns.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LAYERS = ("streets", "communities", "grids", "buildings", "households", "service_points", "speakers")

STATEMENTS = (
    "CREATE EXTENSION IF NOT EXISTS postgis",
    """
    CREATE TABLE streets (
        code text NOT NULL,
        name text NOT NULL,
        geometry geometry(MultiPolygon, 4326),
        CONSTRAINT streets_pkey PRIMARY KEY (code)
    )
    """,
    "CREATE INDEX streets_geometry_gist ON streets USING gist (geometry)",
    """
    CREATE TABLE communities (
        code text NOT NULL,
        name text NOT NULL,
        street_code text NOT NULL,
        kind text DEFAULT 'community',
        geometry geometry(MultiPolygon, 4326),
        CONSTRAINT communities_pkey PRIMARY KEY (code),
        CONSTRAINT communities_kind_check CHECK (kind IN ('community', 'village'))
    )
    """,
    "CREATE INDEX communities_geometry_gist ON communities USING gist (geometry)",
    """
    CREATE TABLE grids (
        code text NOT NULL,
        name text NOT NULL,
        community_code text NOT NULL,
        party_branch text,
        worker_name text,
        worker_phone text,
        geometry geometry(MultiPolygon, 4326),
        CONSTRAINT grids_pkey PRIMARY KEY (code)
    )
    """,
    "CREATE INDEX grids_geometry_gist ON grids USING gist (geometry)",
    """
    CREATE TABLE buildings (
        code text NOT NULL,
        name text,
        address text,
        floors bigint,
        grid_code text,
        geometry geometry(Geometry, 4326),
        CONSTRAINT buildings_pkey PRIMARY KEY (code),
        CONSTRAINT buildings_geometry_check CHECK (GeometryType(geometry) IN ('POLYGON', 'MULTIPOLYGON'))
    )
    """,
    "CREATE INDEX buildings_geometry_gist ON buildings USING gist (geometry)",
    """
    CREATE TABLE households (
        code text NOT NULL,
        address text,
        building_code text,
        unit text,
        room text,
        size bigint DEFAULT 1,
        party_member boolean DEFAULT false,
        center_household boolean DEFAULT false,
        contact_name text,
        contact_phone text,
        grid_code text,
        geometry geometry(Point, 4326),
        CONSTRAINT households_pkey PRIMARY KEY (code)
    )
    """,
    "CREATE INDEX households_geometry_gist ON households USING gist (geometry)",
    """
    CREATE TABLE service_points (
        code text NOT NULL,
        name text,
        kind text,
        radius_m double precision DEFAULT 500.0,
        grid_code text,
        geometry geometry(Point, 4326),
        CONSTRAINT service_points_pkey PRIMARY KEY (code)
    )
    """,
    "CREATE INDEX service_points_geometry_gist ON service_points USING gist (geometry)",
    """
    CREATE TABLE speakers (
        code text NOT NULL,
        name text,
        radius_m double precision DEFAULT 300.0,
        status text DEFAULT 'working',
        power_w double precision,
        sensitivity_db double precision,
        grid_code text,
        geometry geometry(Point, 4326),
        CONSTRAINT speakers_pkey PRIMARY KEY (code),
        CONSTRAINT speakers_status_check CHECK (status IN ('working', 'broken'))
    )
    """,
    "CREATE INDEX speakers_geometry_gist ON speakers USING gist (geometry)",
    """
    CREATE TABLE gridmap_meta (
        key text PRIMARY KEY,
        revision bigint NOT NULL DEFAULT 0,
        modified_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "INSERT INTO gridmap_meta (key) VALUES ('store'), " + ", ".join(f"('{name}')" for name in LAYERS),
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE gridmap_meta")
    for name in reversed(LAYERS):
        op.execute(f"DROP TABLE {name}")
