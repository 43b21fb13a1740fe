"""Node builders for the renderers: the nodes sqlglot's helpers (exp.column, exp.table_, exp.alias_, exp.cast,
Select.join) build, made directly. Those helpers copy their arguments, match every name against a regex and, for a
join type, parse a SQL string on each call; with thousands of queries per compile that dominated the run time."""

from __future__ import annotations

import functools
from typing import TypeVar

from sqlglot import exp

E = TypeVar("E", bound=exp.Expression)
_JOIN_TYPES = {"left": {"side": "LEFT"}, "inner": {"kind": "INNER"}, "cross": {"kind": "CROSS"}, None: {}}


@functools.lru_cache(maxsize=8192)
def _needs_quotes(name: str) -> bool:
    """The rule exp.to_identifier applies to a name given as a string."""
    return not exp.SAFE_IDENTIFIER_RE.match(name)


def copy_tree(node: E) -> E:
    """A copy of `node` to put into another tree: a node has one parent, and shared trees are never changed."""
    return node.copy()


def ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=_needs_quotes(name))


def col(name: str, table: str | None = None) -> exp.Column:
    """`table.name` (or a bare `name`), quoted only where the name needs it."""
    if table is None:
        return exp.Column(this=ident(name))
    return exp.Column(this=ident(name), table=ident(table))


def table(name: str, db: str | None = None, alias: str | None = None) -> exp.Table:
    """`db.name AS alias`; db and alias are optional."""
    node = exp.Table(this=ident(name))
    if db:
        node.set("db", ident(db))
    if alias:
        node.set("alias", exp.TableAlias(this=ident(alias)))
    return node


def aliased_table(source: exp.Table, alias: str) -> exp.Table:
    """`source AS alias` for a table built by the caller (adopted, not copied)."""
    source.set("alias", exp.TableAlias(this=ident(alias)))
    return source


def alias(expression: exp.Expression, name: str) -> exp.Expression:
    """`expression AS name`, as exp.alias_ builds it (adopting `expression`); a column already named `name` is
    returned as it is: `t.x` is output as `x` on every engine, so `t.x AS x` says nothing more (same spelling and
    quoting: `"X" AS X` renames on engines that fold unquoted names)."""
    column = expression.this if isinstance(expression, exp.Column) else None
    if isinstance(column, exp.Identifier) and column.this == name and column.quoted == _needs_quotes(name):
        return expression
    if "alias" in type(expression).arg_types and not isinstance(expression, exp.Window):
        expression.set("alias", ident(name))
        return expression
    return exp.Alias(this=expression, alias=ident(name))


def cast(expression: exp.Expression, to: exp.DataType) -> exp.Expression:
    """CAST(expression AS to), adopting `expression`; a cast already of that type is kept as is, like exp.cast, and
    so is an expression annotated with that type (a column known to be a DATE: known_dates.py)."""
    if isinstance(expression, exp.Cast):
        return exp.cast(expression, copy_tree(to), copy=False)
    if expression.type is not None and expression.type == to:
        return expression
    return exp.Cast(this=expression, to=copy_tree(to))


def join_node(source: exp.Expression, on: exp.Expression | None = None, how: str | None = None) -> exp.Join:
    """`[how] JOIN source [ON on]`, for Select.join (which parses its join_type argument on every call); `how` is
    'left', 'inner', 'cross' or None."""
    node = exp.Join(this=source, **_JOIN_TYPES[how])
    if on is not None:
        node.set("on", on)
    return node
