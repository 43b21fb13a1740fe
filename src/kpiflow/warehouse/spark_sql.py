"""DuckDB-dialect SQL with `?` (or `$name`) parameters, as Spark SQL statements: translated once, then cached.

sqlglot does the dialect work (`?` stays `?`, `$name` becomes `:name`: spark.sql binds both as literals, so a bound
string stays text). A build session also renames schemas here (`marts` -> `marts__build`), as on PostgreSQL. What
sqlglot leaves to us: a parquet table takes no CREATE OR REPLACE TABLE (it becomes DROP TABLE IF EXISTS and CREATE
TABLE, in that order) and no PRIMARY KEY (dropped), and Spark has no HUGEINT (decimal(38,0)). UPDATE and DELETE are
translated here and run as a rewrite of their table (spark_rewrite.py). A read-only session refuses every statement
that is not a query, since Spark itself has no read-only session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

from kpiflow.warehouse.interface import AccessDenied, WarehouseError
from kpiflow.warehouse.postgres_sql import SchemaRenames, renamed_schema, replaced_table_statements, without_hugeint

_READING = (exp.Query, exp.Describe)


@lru_cache(maxsize=1024)
def to_spark(sql: str, renames: SchemaRenames = (), *, read_only: bool = False) -> tuple[str, ...]:
    """The Spark SQL statements that do what the DuckDB statement `sql` does, in order, with the tables of each
    schema in `renames` read from and written to its replacement; AccessDenied for a write when `read_only`."""
    try:
        statements = [tree for tree in sqlglot.parse(sql, read="duckdb") if tree is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise WarehouseError(f"cannot translate this statement to Spark SQL: {exc}") from None
    translated: list[str] = []
    renamed = dict(renames)
    for tree in statements:
        if read_only and not isinstance(tree, _READING):
            raise AccessDenied(f"a read-only Spark session runs queries only, not: {sql.strip()[:80]}")
        adapted = tree.transform(lambda node: node if renamed_schema(node, renamed) else _spark_node(node))
        translated.extend(replaced_table_statements(adapted, "spark"))
    return tuple(translated)


def _spark_node(node: exp.Expression) -> exp.Expression | None:
    """HUGEINT as decimal(38,0); no PRIMARY KEY (parquet tables take no constraint: kpiflow's keys are kept by
    the code that writes them, e.g. run_record's one row per run)."""
    if isinstance(node, exp.ColumnConstraint) and isinstance(node.args.get("kind"), exp.PrimaryKeyColumnConstraint):
        return None
    return without_hugeint(node)


class _IsoDate(date):
    """A date pyspark can bind whatever its year: pyspark hands a bound date to the JVM as `strftime("%Y-%m-%d")`,
    which does not pad years before 1000 ('1-01-01' for date.min, a sentinel the restatement SQL binds), and the JVM
    refuses that text (IllegalArgumentException). This one writes ISO text."""

    def strftime(self, fmt: str) -> str:
        return self.isoformat() if fmt == "%Y-%m-%d" else super().strftime(fmt)


def bindable(parameters: Sequence[Any] | dict[str, Any] | None) -> list[Any] | dict[str, Any]:
    """The parameters as spark.sql(args=...) binds them correctly: dates before the year 1000 as `_IsoDate`."""

    def value(item: Any) -> Any:
        return _IsoDate(item.year, item.month, item.day) if type(item) is date and item.year < 1000 else item

    if isinstance(parameters, dict):
        return {name: value(item) for name, item in parameters.items()}
    return [value(item) for item in parameters or []]
