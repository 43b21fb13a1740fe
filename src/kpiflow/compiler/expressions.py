"""Parse analyst-written SQL fragments (measure expressions, filters, derived formulas) safely.

A fragment is accepted only when it is ONE scalar expression built from an allow-list of node types over known
column names: no statements, no DDL/DML, no subqueries or table references, no comments, no functions outside
the list. Metric YAML must never be a way to run SQL of one's own choosing.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from kpiflow.compiler.sqlbuild import copy_tree

AUTHORING_DIALECT = "duckdb"

_ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Neg,
    exp.Not,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.IntDiv,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.And,
    exp.Or,
    exp.Case,
    exp.If,
    exp.Coalesce,
    exp.Nullif,
    exp.Cast,
    exp.DataType,
    exp.DataTypeParam,
    exp.Abs,
    exp.Round,
    exp.Floor,
    exp.Ceil,
    exp.Greatest,
    exp.Least,
    exp.Lower,
    exp.Upper,
    exp.Trim,
    exp.Concat,
    exp.DPipe,
    exp.Length,
    exp.Substring,
    exp.Extract,
    exp.Var,
    exp.DateTrunc,
    exp.TimestampTrunc,
    exp.DateDiff,
    exp.TimestampDiff,
    exp.CurrentDate,
    exp.Interval,
    exp.Tuple,
    exp.Sqrt,
    exp.Pow,
    exp.Ln,
    exp.Exp,
    exp.Sign,
    exp.Div,
    exp.Distinct,
    exp.Dot,
)


_STATEMENTS: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name)
    for name in (
        "Query",
        "DDL",
        "DML",
        "Command",
        "Use",
        "Set",
        "Pragma",
        "Drop",
        "Create",
        "Alter",
        "TruncateTable",
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Copy",
        "Transaction",
        "Commit",
        "Rollback",
        "Describe",
        "Show",
        "Grant",
        "Revoke",
        "Attach",
        "Detach",
        "Install",
        "Load",
        "Export",
        "Analyze",
        "Kill",
    )
    if hasattr(exp, name)
)


class UnsafeExpression(ValueError):
    """The fragment is not a single safe scalar expression; the message says why."""


@dataclass(frozen=True)
class ParsedExpression:
    text: str
    tree: exp.Expression

    @functools.cached_property
    def column_names(self) -> list[str]:
        return sorted({c.name for c in self.tree.find_all(exp.Column)})


def parse_expression(text: str, *, allowed_columns: Collection[str] | None = None) -> ParsedExpression:
    """Parse `text` as one safe scalar SQL expression, or raise UnsafeExpression saying what is wrong.

    Parsing is cached per text (the same entity and dimension expressions are resolved thousands of times);
    each call returns its own copy of the tree.
    """
    parsed = _parse_checked(text)
    if allowed_columns is not None:
        for name in parsed.column_names:
            if name not in allowed_columns:
                raise UnknownColumn(name)
    return ParsedExpression(text, copy_tree(parsed.tree))


def checked_expression(text: str) -> ParsedExpression:
    """Like parse_expression, but the one cached instance: for reading (column names, safety); never mutate its
    tree (`qualified` and `substitute_columns` return copies)."""
    return _parse_checked(text)


@functools.lru_cache(maxsize=4096)
def _parse_checked(text: str) -> ParsedExpression:
    if "--" in text or "/*" in text or "*/" in text:
        raise UnsafeExpression("comments are not allowed in expressions")
    if ";" in text:
        raise UnsafeExpression("only one expression is allowed (found ';')")
    try:
        statements = sqlglot.parse(text, read=AUTHORING_DIALECT)
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0]["description"] if exc.errors else str(exc)
        raise UnsafeExpression(f"not valid SQL: {first}") from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise UnsafeExpression("exactly one expression is required")
    tree = statements[0]
    if isinstance(tree, _STATEMENTS):
        raise UnsafeExpression(f"a {tree.key.upper()} statement is not an expression")
    for node in tree.walk():
        if isinstance(node, exp.Query | exp.Subquery | exp.Table | exp.Exists):
            raise UnsafeExpression("subqueries and table references are not allowed")
        if isinstance(node, exp.Star):
            raise UnsafeExpression("'*' is not allowed; name the column")
        if isinstance(node, exp.Placeholder | exp.Parameter):
            raise UnsafeExpression("parameters are not allowed")
        if not isinstance(node, _ALLOWED_NODES):
            name = node.sql(dialect=AUTHORING_DIALECT)[:40] if isinstance(node, exp.Func) else node.key
            raise UnsafeExpression(f"'{name}' is not an allowed function or operator")
        if node.comments:
            raise UnsafeExpression("comments are not allowed in expressions")
    for column in tree.find_all(exp.Column):
        if column.table:
            raise UnsafeExpression(f"qualified column '{column.sql()}' is not allowed; use the bare name")
    return ParsedExpression(text, _without_positions(tree))


def _without_positions(node: exp.Expression) -> exp.Expression:
    """The same tree built again without the parser's token positions, unused past the checks above: a tree is
    copied into every query that uses it, and sqlglot's copy deep-copies each node's positions."""
    args: dict[str, object] = {}
    for key, value in node.args.items():
        if isinstance(value, exp.Expr):
            args[key] = _without_positions(value)
        elif type(value) is list:
            args[key] = [_without_positions(item) if isinstance(item, exp.Expr) else item for item in value]
        else:
            args[key] = value
    return type(node)(**args)


class UnknownColumn(UnsafeExpression):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown column '{name}'")
        self.name = name


def parse_interval(text: str) -> tuple[int, str]:
    """'30 days' -> (30, 'day'); '1 year' -> (1, 'year'). Raises ValueError for anything else."""
    parts = text.strip().lower().split()
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError(f"expected '<count> <unit>' such as '30 days' or '1 year', got '{text}'")
    unit = parts[1].rstrip("s")
    if unit not in ("day", "week", "month", "quarter", "year"):
        raise ValueError(f"unknown unit '{parts[1]}' (use day, week, month, quarter or year)")
    return int(parts[0]), unit


def qualify(tree: exp.Expression, table_alias: str) -> exp.Expression:
    """A copy of `tree` with every bare column qualified by `table_alias`."""

    def _fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table:
            return exp.Column(
                this=exp.Identifier(this=node.name, quoted=False),
                table=exp.Identifier(this=table_alias, quoted=False),
            )
        return node

    return copy_tree(tree).transform(_fix, copy=False)


def qualified(text: str, table_alias: str) -> exp.Expression:
    """`text` parsed and qualified by `table_alias`: built once per (text, alias), a fresh copy per call."""
    return copy_tree(_qualified(text, table_alias))


@functools.lru_cache(maxsize=4096)
def _qualified(text: str, table_alias: str) -> exp.Expression:
    return qualify(_parse_checked(text).tree, table_alias)


def substitute_columns(tree: exp.Expression, mapping: dict[str, exp.Expression]) -> exp.Expression:
    """A copy of `tree` with bare columns replaced by the given expressions (wrapped in parentheses)."""

    def _swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in mapping:
            replacement = copy_tree(mapping[node.name])
            return replacement if isinstance(replacement, exp.Column) else exp.paren(replacement, copy=False)
        return node

    return copy_tree(tree).transform(_swap, copy=False)
