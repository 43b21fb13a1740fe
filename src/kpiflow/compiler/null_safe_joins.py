"""Null-safe join keys that PostgreSQL can hash.

Generated models join on `a IS NOT DISTINCT FROM b`: a NULL dimension value is a member like any other (a spine of
periods x members meets the rows that have values; a wide mart's KPIs meet on period and member). PostgreSQL can
neither hash nor merge IS NOT DISTINCT FROM, so it plans every such join as a nested loop comparing all pairs: at
demo scale 0.2, 11 million comparisons for one part of `kpi__new_customers` (65 s), and the marts and `kpi_values`
likewise (docs/benchmarks.md). PostgreSQL's array equality treats two NULL elements as equal and can be hashed, so in
a join condition on PostgreSQL the SQL says `ARRAY[a] = ARRAY[b]`, which holds for exactly the same pairs. Both
sides of a generated join key come from the same column, so the two arrays have the same element type. Other
dialects, and null-safe comparisons outside join conditions, keep IS NOT DISTINCT FROM.
"""

from __future__ import annotations

from sqlglot import exp

HASHABLE_DIALECTS = frozenset({"postgres"})


def hashable_join_keys(tree: exp.Expression) -> exp.Expression:
    """`tree` (changed in place) with each null-safe equality of a join condition written as `ARRAY[a] = ARRAY[b]`."""
    for node in list(tree.find_all(exp.NullSafeEQ)):
        if isinstance(node.find_ancestor(exp.Join, exp.Where, exp.Select), exp.Join):
            left, right = (exp.Array(expressions=[side.pop()]) for side in (node.this, node.expression))
            node.replace(exp.EQ(this=left, expression=right))
    return tree
