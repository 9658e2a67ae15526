"""An organisation's secretary as a link to a member record: `party_orgs.secretary_code`.

Nullable: versions written before keep the secretary's name and phone as
written; a version naming a member reads them from the member.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE party_orgs ADD COLUMN secretary_code text")


def downgrade() -> None:
    op.execute("ALTER TABLE party_orgs DROP COLUMN secretary_code")
