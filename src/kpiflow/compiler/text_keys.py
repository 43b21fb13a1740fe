"""Null-safe matches of member keys that PostgreSQL can hash-join.

Generated models join their inputs on member columns (store_id, region ...) where NULL is a member like any other,
so the join is null-safe: `a IS NOT DISTINCT FROM b`. PostgreSQL can neither hash nor merge on that operator and runs
such joins as nested loops over all pairs (docs/postgres.md). The same match as
`coalesce(cast(a as text), '') = coalesce(cast(b as text), '') and num_nulls(a) = num_nulls(b)` is two equalities of
one side's expression to the other's, both hashable. (`''` stands in for NULL in the first; the second, 1 for NULL
and 0 for a value, tells a NULL from a real `''`.) It needs both sides to be one dimension's members (one type, so
equal values have equal text), which the compiler knows only for the member columns of the long KPI shape: it marks
those comparisons (`text_key_match`), and only those are written so, only for PostgreSQL (`hash_joinable`, on the
working copy of the tree that sqlgen.py generates from; sqlglot's generators are compiled classes, not subclassed);
every other dialect and comparison keeps IS NOT DISTINCT FROM.
"""

from __future__ import annotations

from sqlglot import exp

_TEXT_KEY = "kpiflow_text_key"  # in the node's meta, sqlglot's public per-node metadata (copied with the node)


def text_key_match(left: exp.Expression, right: exp.Expression) -> exp.NullSafeEQ:
    """`left IS NOT DISTINCT FROM right`, for two member columns of one dimension (one type)."""
    match = exp.NullSafeEQ(this=left, expression=right)
    match.meta[_TEXT_KEY] = True
    return match


def hash_joinable(tree: exp.Expression, dialect: str) -> exp.Expression:
    """For PostgreSQL, `tree` (a working copy: changed in place) with each marked text match in its hashable form."""
    if dialect != "postgres":
        return tree
    for match in list(tree.find_all(exp.NullSafeEQ)):
        if match.meta.get(_TEXT_KEY):
            match.replace(_hashable(match))
    return tree


def _hashable(match: exp.NullSafeEQ) -> exp.Expression:
    left, right = match.this, match.expression
    values = exp.EQ(this=_or_empty(left.copy()), expression=_or_empty(right.copy()))
    nulls = exp.EQ(this=_nulls(left.copy()), expression=_nulls(right.copy()))
    both = exp.And(this=values, expression=nulls)
    return both if isinstance(match.parent, (exp.And, exp.Join)) else exp.Paren(this=both)


def _or_empty(value: exp.Expression) -> exp.Expression:
    """coalesce(cast(value as text), ''): a KPI model's own members keep the warehouse's type (an integer store id
    stays an integer), and coalesce with '' needs text. Both sides are the same dimension, so one type: equal values
    have equal text (not for numeric values of different scales, 1.0 and 1.00, which member ids are not)."""
    return exp.Coalesce(this=exp.cast(value, exp.DataType.build("text")), expressions=[exp.Literal.string("")])


def _nulls(value: exp.Expression) -> exp.Expression:
    """PostgreSQL's num_nulls(value): 1 for NULL, else 0 (reads as one line, unlike `(value is null)`)."""
    return exp.Anonymous(this="num_nulls", expressions=[value])
