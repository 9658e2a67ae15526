"""The database refuses an organisation version whose secretary is not one of its members.

`party_orgs.secretary_code` must name a member (`party_members`) of the
organisation, or of an organisation below it in force on the version's first
day, whoever writes (QGIS, psql, gridmap): the rule `gridmap.party.register`
checks, named `party_orgs_secretary_must_be_member` in the error. The
GeoPackage's trigger (`gridmap.stores.party_checks`) runs the same query.
A fixed text.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION party_orgs_secretary_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.secretary_code IS NULL THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (
        WITH RECURSIVE below(code) AS (
            SELECT NEW.code
            UNION
            SELECT o.code FROM party_orgs o JOIN below b ON o.parent_code = b.code
            WHERE o.valid_from <= NEW.valid_from AND (o.valid_to IS NULL OR o.valid_to > NEW.valid_from)
        )
        SELECT 1 FROM party_members m
        WHERE m.code = NEW.secretary_code AND m.org_code IN (SELECT code FROM below)
    ) THEN
        RAISE EXCEPTION 'party_orgs_secretary_must_be_member: % is not a member of % or below it on %',
            NEW.secretary_code, NEW.code, NEW.valid_from
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER party_orgs_secretary_check BEFORE INSERT OR UPDATE OF code, valid_from, "
        "secretary_code ON party_orgs FOR EACH ROW EXECUTE FUNCTION party_orgs_secretary_check()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER party_orgs_secretary_check ON party_orgs")
    op.execute("DROP FUNCTION party_orgs_secretary_check()")
