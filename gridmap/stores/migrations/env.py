"""Alembic environment: runs on the connection gridmap hands over (see `gridmap.stores.postgis.migrate`)."""

from __future__ import annotations

from alembic import context

VERSION_TABLE = "gridmap_alembic_version"

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
