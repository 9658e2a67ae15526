"""Filters a caller writes, as store conditions: CQL2 (text or JSON) and a datetime instant or interval.

CQL2 is parsed by pygeofilter (a maintained parser, not one of ours) and its
syntax tree translated here into a `stores.conditions.Condition` over the
layer's columns, which both stores compile to SQL with bound values. Only the
fields a caller may filter by are allowed (the same rule as equality filters:
a field read masked cannot be probed). Supported: the comparison operators,
AND/OR/NOT, IS NULL (CQL2 Basic), and LIKE, BETWEEN, IN (Advanced Comparison
Operators). Anything else — another operator, an unknown property, a value
its property cannot hold — is a FilterError naming it.

`in_force` turns an OGC `datetime` into a condition on `valid_from`/`valid_to`
(a boundary version is in force from valid_from up to, not including, valid_to).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Collection
from typing import Any, Literal

import sqlalchemy as sa
from pygeofilter import ast
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from gridmap.catalogue import Field, Layer
from gridmap.errors import PermissionDeniedError
from gridmap.stores.conditions import Condition, columns
from gridmap.stores.query import QueryError
from gridmap.texts import Message

FilterLang = Literal["cql2-text", "cql2-json"]
LANGUAGES: tuple[FilterLang, ...] = ("cql2-text", "cql2-json")
CHINA_TIME = dt.timezone(dt.timedelta(hours=8))
"""Validity dates are local (Beijing) calendar dates: a timestamp is read as its date there."""


class FilterError(QueryError):
    """A filter or datetime gridmap cannot use; `field` names the parameter or property at fault."""


# -- CQL2 ------------------------------------------------------------------


def cql2(
    spec: Layer, text: str, lang: FilterLang, allowed: Collection[str], parameter: str = "filter"
) -> Condition:
    """The condition a CQL2 expression states over `spec`, using only `allowed` properties."""
    try:
        tree = parse_cql2_json(json.loads(text)) if lang == "cql2-json" else parse_cql2_text(text)
    except Exception as exc:  # the parsers raise lark, JSON, key and type errors alike
        raise FilterError(f"{parameter} is not valid {lang}: {_first_line(exc)}", parameter) from None
    return _Translator(spec, allowed, parameter).condition(tree)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_COMPARISONS = {
    ast.Equal: lambda c, v: c == v,
    ast.NotEqual: lambda c, v: c != v,
    ast.LessThan: lambda c, v: c < v,
    ast.LessEqual: lambda c, v: c <= v,
    ast.GreaterThan: lambda c, v: c > v,
    ast.GreaterEqual: lambda c, v: c >= v,
}


class _Translator:
    """pygeofilter's tree → a SQLAlchemy condition over the layer's columns."""

    def __init__(self, spec: Layer, allowed: Collection[str], parameter: str) -> None:
        self.spec, self.allowed, self.parameter = spec, set(allowed), parameter
        self.columns = columns(spec)

    def condition(self, node: Any) -> Condition:
        if isinstance(node, ast.And):
            return sa.and_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Or):
            return sa.or_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Not):
            return sa.not_(self.condition(node.sub_node))
        if isinstance(node, bool):  # a literal TRUE / FALSE as the whole expression
            return sa.true() if node else sa.false()
        for kind, compare in _COMPARISONS.items():
            if type(node) is kind:
                field, value = self._operands(node.lhs, node.rhs)
                return compare(self.columns[field.name], value)
        if isinstance(node, ast.IsNull):
            column = self.columns[self._field(node.lhs).name]
            return column.is_not(None) if node.not_ else column.is_(None)
        if isinstance(node, ast.Like):
            field = self._field(node.lhs)
            if field.type != "text":
                raise FilterError(f"LIKE needs a text property; {field.name} is {field.type}", field.name)
            pattern = self._value(field, node.pattern)
            like = self.columns[field.name].like(pattern, escape="\\")
            return sa.not_(like) if node.not_ else like
        if isinstance(node, ast.Between):
            field = self._field(node.lhs)
            low, high = self._value(field, node.low), self._value(field, node.high)
            between = self.columns[field.name].between(low, high)
            return sa.not_(between) if node.not_ else between
        if isinstance(node, ast.In):
            field = self._field(node.lhs)
            values = [self._value(field, v) for v in node.sub_nodes]
            inside = self.columns[field.name].in_(values)
            return sa.not_(inside) if node.not_ else inside
        raise FilterError(
            f"{self.parameter}: {type(node).__name__} is not supported; use comparisons, AND/OR/NOT,"
            " IS NULL, LIKE, BETWEEN or IN on properties",
            self.parameter,
        )

    def _operands(self, lhs: Any, rhs: Any) -> tuple[Field, object]:
        """A property and a literal, in either order (`'G1' = grid_code` reads as grid_code = 'G1')."""
        if isinstance(lhs, ast.Attribute) and not isinstance(rhs, ast.Attribute | ast.Node):
            field = self._field(lhs)
            return field, self._value(field, rhs)
        if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute | ast.Node):
            field = self._field(rhs)
            return field, self._value(field, lhs)
        raise FilterError(
            f"{self.parameter}: a comparison must set one property against one value", self.parameter
        )

    def _field(self, node: Any) -> Field:
        if not isinstance(node, ast.Attribute):
            raise FilterError(f"{self.parameter}: expected a property, got {node!r}", self.parameter)
        name = node.name
        if name not in self.spec.field_names:
            raise FilterError(
                f"{self.spec.name} has no property {name!r}; "
                f"its queryables are {', '.join(sorted(self.allowed))}",
                name,
            )
        if name not in self.allowed:
            raise PermissionDeniedError(Message("error.filter_role", layer=self.spec.name, field=name))
        return self.spec.get(name)

    def _value(self, field: Field, value: object) -> object:
        """A literal as its property's type; one it cannot hold is a FilterError naming the property."""
        if field.type == "text":
            if isinstance(value, dt.datetime):
                value = value.astimezone(CHINA_TIME).date().isoformat()
            elif isinstance(value, dt.date):
                value = value.isoformat()
            if isinstance(value, str) and "\x00" not in value:
                return value
        elif field.type == "boolean":
            if isinstance(value, bool):
                return value
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return value
        raise FilterError(f"{field.name} is {field.type}: cannot compare it with {value!r}", field.name)


# -- datetime ----------------------------------------------------------------


Interval = tuple[str | None, str | None]
"""First and last day (ISO dates, inclusive); None is an open end."""


def parse_datetime(text: str, parameter: str = "datetime") -> Interval:
    """An RFC 3339 instant (`2024-03-01`, `2024-03-01T10:00:00Z`) or interval (`a/b`, `../b`, `a/..`)."""
    parts = text.split("/")
    if len(parts) > 2 or not text.strip():
        raise FilterError(f"{parameter} must be an instant or an interval start/end, not {text!r}", parameter)
    if len(parts) == 1:
        day = _day(parts[0], parameter)
        return day, day
    start, end = (None if p in ("", "..") else _day(p, parameter) for p in parts)
    if start is not None and end is not None and start > end:
        raise FilterError(f"{parameter} starts after it ends: {text!r}", parameter)
    return start, end


def _day(text: str, parameter: str) -> str:
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat()
        moment = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise FilterError(
            f"{parameter}: {text!r} is not an RFC 3339 date or date-time (2024-03-01, 2024-03-01T08:00:00Z)",
            parameter,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TIME)
    return moment.astimezone(CHINA_TIME).date().isoformat()


def has_validity(spec: Layer) -> bool:
    """Whether the layer's features carry the dates `in_force` reads."""
    return "valid_from" in spec.field_names and "valid_to" in spec.field_names


def in_force(spec: Layer, interval: Interval) -> Condition | None:
    """Features in force at some day of the interval; None for a layer without validity dates.

    OGC API – Features: features without a temporal property are all returned,
    so a layer without dates is not filtered; a feature without valid_from has
    been in force since before any date.
    """
    if not has_validity(spec):
        return None
    cols = columns(spec)
    start, end = interval
    conditions: list[Condition] = []
    if end is not None:
        conditions.append(sa.or_(cols["valid_from"].is_(None), cols["valid_from"] <= end))
    if start is not None:
        conditions.append(sa.or_(cols["valid_to"].is_(None), cols["valid_to"] > start))
    return sa.and_(sa.true(), *conditions)
