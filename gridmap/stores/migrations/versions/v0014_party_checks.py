"""The party chain's kinds and parents kept by the database, whoever writes (QGIS, psql, gridmap).

CHECK constraints on `party_orgs` (a known kind, an area its kind serves, a
parent exactly below the top) and `party_units` (a known kind), and a trigger
refusing a parent of a kind the child's kind does not allow or not in force
on the child's first day. Unlike earlier migrations this one is no fixed
snapshot: the SQL is generated from the one table of kinds
(`gridmap.party.vocabulary.ORG_KINDS`, through `gridmap.stores.party_checks`),
and every statement replaces what it makes, so when the kinds change a later
migration runs the same statements again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from gridmap.stores.party_checks import postgres_drop, postgres_statements

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in postgres_statements():
        op.execute(statement)


def downgrade() -> None:
    for statement in postgres_drop():
        op.execute(statement)
