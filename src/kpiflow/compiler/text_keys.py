"""Null-safe matches of text keys that PostgreSQL can hash-join.

Generated models join their inputs on member columns (store_id, region ...) where NULL is a member like any other,
so the join is null-safe: `a IS NOT DISTINCT FROM b`. PostgreSQL can neither hash nor merge on that operator and runs
such joins as nested loops over all pairs (docs/postgres.md). For text the same match is
`coalesce(a, '') = coalesce(b, '') and num_nulls(a) = num_nulls(b)`: two equalities of one side's expression to
the other's, both hashable. (`''` stands in for NULL in the first; the second, 1 for NULL and 0 for a value, tells a
NULL from a real `''`.) It holds
for text only (`coalesce(a_date, '')` is an error, and text forms of numbers compare differently than the numbers),
so the compiler marks the comparisons it knows to be of text (`text_key_match`, the kpi_values member columns it
casts to text) and only those are written so, only for PostgreSQL (`hash_joinable`, on the working copy of the tree
that sqlgen.py generates from; sqlglot's generators are compiled classes, not subclassed); every other
dialect and comparison keeps IS NOT DISTINCT FROM.
"""

from __future__ import annotations

from sqlglot import exp

_TEXT_KEY = "kpiflow_text_key"  # in the node's meta, sqlglot's public per-node metadata (copied with the node)


def text_key_match(left: exp.Expression, right: exp.Expression) -> exp.NullSafeEQ:
    """`left IS NOT DISTINCT FROM right`, for two text expressions."""
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
    return exp.Coalesce(this=value, expressions=[exp.Literal.string("")])


def _nulls(value: exp.Expression) -> exp.Expression:
    """PostgreSQL's num_nulls(value): 1 for NULL, else 0 (reads as one line, unlike `(value is null)`)."""
    return exp.Anonymous(this="num_nulls", expressions=[value])
