"""B-tree indexes on each layer's `revision`: what a write touched, found without a scan.

A server catching up with an edit asks which features the revisions since
its last look wrote (`Store.touched_since`); at city scale that must not read
five million rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LAYERS = ("streets", "communities", "grids", "buildings", "households", "service_points", "speakers")


def upgrade() -> None:
    for table in LAYERS:
        op.execute(f"CREATE INDEX IF NOT EXISTS {table}_revision_btree ON {table} (revision)")


def downgrade() -> None:
    for table in LAYERS:
        op.execute(f"DROP INDEX IF EXISTS {table}_revision_btree")
