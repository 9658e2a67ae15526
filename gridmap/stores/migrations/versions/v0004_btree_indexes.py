"""B-tree indexes on the codes pages are filtered by (`?grid_code=…`, `?community_code=…`).

Pages of a city-sized layer filtered by a parent code are answered from
these indexes instead of a scan (Store.query); codes themselves are already
indexed by the primary keys.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = (
    ("communities", "street_code"),
    ("grids", "community_code"),
    ("buildings", "grid_code"),
    ("households", "grid_code"),
    ("households", "building_code"),
    ("service_points", "grid_code"),
    ("speakers", "grid_code"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {table}_{column}_btree ON {table} ({column})")


def downgrade() -> None:
    for table, column in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {table}_{column}_btree")
