"""History and boundary versions: row revisions, per-layer history tables, the revisions table.

Every layer row carries the revision that wrote it; a row a later revision
replaces or deletes moves to `<layer>_history` (same columns, plus the
superseding revision and, for a redrawn boundary, the date its version
closed). Streets, communities and grids gain `valid_from` / `valid_to`
(ISO dates). `gridmap_revisions` says who wrote each revision, when, with what
command, and how many features of each layer it changed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LAYERS = ("streets", "communities", "grids", "buildings", "households", "service_points", "speakers")
VERSIONED = ("streets", "communities", "grids")


def _statements() -> list[str]:
    out: list[str] = []
    for name in VERSIONED:
        out.append(f"ALTER TABLE {name} ADD COLUMN valid_from text, ADD COLUMN valid_to text")
        out.append(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_valid_from_check "
            "CHECK (valid_from ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')"
        )
    for name in LAYERS:
        out.append(f"ALTER TABLE {name} ADD COLUMN revision bigint NOT NULL DEFAULT 0")
        out.append(f"CREATE TABLE {name}_history (LIKE {name})")
        out.append(
            f"ALTER TABLE {name}_history ADD COLUMN superseded bigint NOT NULL, ADD COLUMN closed_on text"
        )
        for column in ("code", "superseded", "revision"):
            out.append(f"CREATE INDEX {name}_history_{column} ON {name}_history ({column})")
    out.append(
        """
        CREATE TABLE gridmap_revisions (
            id bigint PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            author text,
            role text,
            command text,
            reverts bigint,
            layers text[] NOT NULL,
            counts jsonb NOT NULL
        )
        """
    )
    out.append("CREATE INDEX gridmap_revisions_layers ON gridmap_revisions USING gin (layers)")
    return out


def upgrade() -> None:
    for statement in _statements():
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE gridmap_revisions")
    for name in reversed(LAYERS):
        op.execute(f"DROP TABLE {name}_history")
        op.execute(f"ALTER TABLE {name} DROP COLUMN revision")
    for name in VERSIONED:
        op.execute(f"ALTER TABLE {name} DROP COLUMN valid_from, DROP COLUMN valid_to")
