"""The party chain's kinds and parents kept by the database, whoever writes (QGIS, psql, gridmap).

CHECK constraints on `party_orgs` (a known kind, an area its kind serves, a
parent exactly below the top) and `party_units` (a known kind), and a trigger
refusing a parent of a kind the child's kind does not allow or not in force
on the child's first day. A fixed text: the SQL
`gridmap.stores.party_checks.postgres_statements` made from the kinds of
`gridmap.party.vocabulary.ORG_KINDS` on 2026-12-07 (a test holds the two
equal while the kinds stay as they are; when they change, a new migration
carries the new text, as this one's statements each replace what they make).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UPGRADE = (
    "ALTER TABLE party_orgs DROP CONSTRAINT IF EXISTS party_orgs_kind_must_be_known",
    (
        "ALTER TABLE party_orgs ADD CONSTRAINT party_orgs_kind_must_be_known CHECK (kind IN "
        "('street_committee', 'community_committee', 'grid_branch', 'building_group', "
        "'functional_branch', 'non_public', 'social_org', 'building_org'))"
    ),
    "ALTER TABLE party_orgs DROP CONSTRAINT IF EXISTS party_orgs_area_kind_must_fit_kind",
    (
        "ALTER TABLE party_orgs ADD CONSTRAINT party_orgs_area_kind_must_fit_kind CHECK (kind NOT IN "
        "('street_committee', 'community_committee', 'grid_branch', 'building_group', "
        "'functional_branch', 'non_public', 'social_org', 'building_org') OR ((kind = 'street_committee' "
        "AND area_kind IN ('street')) OR (kind = 'community_committee' AND area_kind IN ('community')) OR"
        " (kind = 'grid_branch' AND area_kind IN ('grid', 'dedicated')) OR (kind = 'building_group' AND "
        "area_kind IN ('building')) OR (kind = 'functional_branch' AND area_kind IN ('community', "
        "'dedicated')) OR (kind = 'non_public' AND area_kind IN ('community', 'building', 'dedicated')) "
        "OR (kind = 'social_org' AND area_kind IN ('community', 'building', 'dedicated')) OR (kind = "
        "'building_org' AND area_kind IN ('community', 'building', 'dedicated'))))"
    ),
    "ALTER TABLE party_orgs DROP CONSTRAINT IF EXISTS party_orgs_parent_code_must_fit_kind",
    (
        "ALTER TABLE party_orgs ADD CONSTRAINT party_orgs_parent_code_must_fit_kind CHECK (CASE WHEN kind"
        " IN ('street_committee') THEN parent_code IS NULL WHEN kind IN ('community_committee', "
        "'grid_branch', 'building_group', 'functional_branch', 'non_public', 'social_org', "
        "'building_org') THEN parent_code IS NOT NULL ELSE TRUE END)"
    ),
    "ALTER TABLE party_units DROP CONSTRAINT IF EXISTS party_units_kind_must_be_known",
    (
        "ALTER TABLE party_units ADD CONSTRAINT party_units_kind_must_be_known CHECK (kind IN "
        "('non_public', 'social_org', 'institution', 'state_owned'))"
    ),
    """
CREATE OR REPLACE FUNCTION party_orgs_parent_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_kind text;
BEGIN
    IF NEW.parent_code IS NULL OR NEW.kind NOT IN ('community_committee', 'grid_branch',
        'building_group', 'functional_branch', 'non_public', 'social_org', 'building_org') THEN
        RETURN NEW;  -- no parent to judge, or a kind the CHECKs refuse (they run after this)
    END IF;
    SELECT p.kind INTO parent_kind FROM party_orgs p WHERE p.code = NEW.parent_code
        AND p.valid_from <= NEW.valid_from AND (p.valid_to IS NULL OR p.valid_to > NEW.valid_from) LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'party_orgs_parent_must_be_in_force: no organisation % in force on %',
            NEW.parent_code, NEW.valid_from USING ERRCODE = 'check_violation';
    END IF;
    IF NOT ((NEW.kind = 'community_committee' AND parent_kind IN ('street_committee'))
        OR (NEW.kind = 'grid_branch' AND parent_kind IN ('community_committee'))
        OR (NEW.kind = 'building_group' AND parent_kind IN ('grid_branch'))
        OR (NEW.kind = 'functional_branch' AND parent_kind IN ('community_committee', 'street_committee'))
        OR (NEW.kind = 'non_public' AND parent_kind IN ('street_committee', 'community_committee'))
        OR (NEW.kind = 'social_org' AND parent_kind IN ('street_committee', 'community_committee'))
        OR (NEW.kind = 'building_org' AND parent_kind IN ('street_committee', 'community_committee'))) THEN
        RAISE EXCEPTION 'party_orgs_parent_kind_must_fit: a % may not be the parent of a %',
            parent_kind, NEW.kind USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
    """,
    "DROP TRIGGER IF EXISTS party_orgs_parent_check ON party_orgs",
    (
        "CREATE TRIGGER party_orgs_parent_check BEFORE INSERT OR UPDATE OF code, kind, area_kind, "
        "parent_code, valid_from ON party_orgs FOR EACH ROW EXECUTE FUNCTION party_orgs_parent_check()"
    ),
)
DOWNGRADE = (
    "DROP TRIGGER IF EXISTS party_orgs_parent_check ON party_orgs",
    "DROP FUNCTION IF EXISTS party_orgs_parent_check()",
    "ALTER TABLE party_orgs DROP CONSTRAINT IF EXISTS party_orgs_kind_must_be_known",
    "ALTER TABLE party_orgs DROP CONSTRAINT IF EXISTS party_orgs_area_kind_must_fit_kind",
    "ALTER TABLE party_orgs DROP CONSTRAINT IF EXISTS party_orgs_parent_code_must_fit_kind",
    "ALTER TABLE party_units DROP CONSTRAINT IF EXISTS party_units_kind_must_be_known",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
