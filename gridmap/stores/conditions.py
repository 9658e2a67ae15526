"""Conditions beyond field equality (a CQL2 filter, a validity interval), compiled for either store.

A condition is a SQLAlchemy Core boolean expression over the bare columns of
one layer (`columns`). gridmap builds it from the catalogue (never from SQL
text a caller sent); each store compiles it into its own SQL dialect with
bound parameters (`to_sqlite`, `to_postgres`) and adds it to the conditions
of `Store.query`, so filters run in the database on both stores alike.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gridmap.catalogue import Layer

Condition = sa.ColumnElement[bool]

_TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "text": sa.Text,
    "integer": sa.Integer,
    "real": sa.Float,
    "boolean": sa.Boolean,
}


def columns(spec: Layer) -> dict[str, sa.ColumnClause[Any]]:
    """The layer's catalogue fields as typed, unqualified columns (both stores name them alike)."""
    return {f.name: sa.column(f.name, _TYPES[f.type]()) for f in spec.fields}


@cache
def _sqlite_dialect() -> sa.Dialect:
    return sqlite.dialect(paramstyle="named")


@cache
def _postgres_dialect() -> sa.Dialect:
    return postgresql.dialect(paramstyle="pyformat")


def _compiled(condition: Condition, dialect: sa.Dialect) -> tuple[str, dict[str, object]]:
    """The SQL and its parameters; SQLAlchemy names them `<column>_<n>`, never a store's own names."""
    compiled = condition.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return str(compiled), dict(compiled.params)


def to_sqlite(condition: Condition) -> tuple[str, dict[str, object]]:
    """SQLite SQL with `:name` parameters (booleans as 0/1, as GDAL stores them)."""
    sql, params = _compiled(condition, _sqlite_dialect())
    return sql, {k: int(v) if isinstance(v, bool) else v for k, v in params.items()}


def to_postgres(condition: Condition) -> tuple[str, dict[str, object]]:
    """PostgreSQL SQL with `%(name)s` parameters, bound by psycopg."""
    return _compiled(condition, _postgres_dialect())
