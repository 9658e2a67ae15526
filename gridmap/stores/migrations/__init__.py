"""Alembic migrations of the PostGIS store; each revision is a fixed snapshot of the schema."""
