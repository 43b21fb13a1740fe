"""UPDATE and DELETE on Spark's parquet tables, which take neither: the table is rewritten with the changed rows.

The rows the statement keeps (DELETE) or all rows with the assignments applied where its condition holds (UPDATE)
are written to a side table `<table>__kpiflow_kept`, which then overwrites the table (Spark cannot overwrite a
table in the statement that reads it), and the side table is dropped: the same pattern as macros/kpiflow_spark.sql.
A condition that is NULL changes no row, as in SQL. Positional parameters become named ones (`:p0`, ...), bound
by spark.sql as literals, because an UPDATE's condition appears once per column.

Not atomic, like everything on Spark (spark.py, `transaction`): a failure before the overwrite leaves the table as it
was; one during it leaves the side table, which holds the intended rows. The whole table is read and written, which
suits kpiflow's small state tables and the rows the gate quarantines; it is not a way to change large tables often.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from kpiflow.warehouse.spark_sql import bindable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SIDE_SUFFIX = "__kpiflow_kept"


def changes_rows(statement: str) -> bool:
    """True for an UPDATE or DELETE (Spark SQL text, as spark_sql.to_spark writes it)."""
    return statement.lstrip()[:6].upper() in ("UPDATE", "DELETE")


def _named_parameters(tree: exp.Expression, parameters: Sequence[Any] | dict[str, Any] | None) -> dict[str, Any]:
    """Name the positional `?` of `tree` in text order (in place); the parameters by name."""
    if isinstance(parameters, dict):
        return bindable(parameters)
    values = list(parameters or [])
    markers = [node for node in tree.find_all(exp.Placeholder, bfs=False) if not node.this]
    if len(markers) != len(values):
        raise ValueError(f"{len(markers)} parameter marker(s) but {len(values)} value(s) in: {tree.sql('spark')}")
    for number, marker in enumerate(markers):
        marker.set("this", f"p{number}")
    return bindable({f"p{number}": value for number, value in enumerate(values)})


def rewrite_rows(spark: SparkSession, statement: str, parameters: Sequence[Any] | dict[str, Any] | None) -> int:
    """Run the UPDATE or DELETE `statement` by rewriting its table; the number of rows it changed."""
    tree = sqlglot.parse_one(statement, read="spark")
    args = _named_parameters(tree, parameters)
    target = tree.this
    assert isinstance(target, exp.Table) and isinstance(tree, exp.Update | exp.Delete)
    where = tree.args.get("where")
    matched = exp.func("coalesce", exp.paren(where.this if where else exp.true()), exp.false())
    source = target.copy()  # with its alias, which the condition may name (`delete from raw.x as t where t.y ...`)
    table = exp.table_(target.name, db=target.db).sql("spark")
    if isinstance(tree, exp.Delete):
        kept = exp.select(exp.Star()).from_(source).where(exp.Not(this=matched))
    else:
        assigned = {eq.this.name: eq.expression for eq in tree.expressions}
        projection = [
            exp.cast(
                exp.If(this=matched.copy(), true=assigned[field.name].copy(), false=exp.column(field.name, quoted=True))
                if field.name in assigned
                else exp.column(field.name, quoted=True),
                field.dataType.simpleString(),
                dialect="spark",
            ).as_(field.name, quoted=True)
            for field in spark.table(table).schema.fields
        ]
        kept = exp.select(*projection).from_(source)
    count = exp.select(exp.Count(this=exp.Star())).from_(source.copy()).where(matched.copy())
    changed = int(spark.sql(count.sql("spark"), args=args or None).collect()[0][0])
    if not changed:
        return 0
    side = exp.table_(target.name + SIDE_SUFFIX, db=target.db, quoted=True).sql("spark")
    spark.sql(kept.sql("spark"), args=args or None).write.mode("overwrite").format("parquet").saveAsTable(side)
    spark.table(side).write.insertInto(table, overwrite=True)
    spark.sql(f"drop table {side}")
    return changed
