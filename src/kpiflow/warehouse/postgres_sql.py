"""DuckDB-dialect SQL with `?` parameters, as PostgreSQL statements for psycopg: translated once, then cached.

sqlglot does the dialect work. A build session also renames schemas here (`marts` -> `marts__build`), so that the
project's SQL, which names the published schemas, reads and writes the copy being built. Three things sqlglot leaves
to us: PostgreSQL has no CREATE OR REPLACE TABLE (it becomes a
DROP TABLE IF EXISTS and a CREATE TABLE, run in that order), no HUGEINT (numeric(38,0)), and psycopg reads `%` as a
parameter marker whenever parameters are passed (a literal `%` is doubled then). A bound list that is unnested is
cast to text[] (psycopg leaves its type unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sqlglot
from sqlglot import exp

from kpiflow.warehouse.interface import WarehouseError

# DuckDB column types (interface.Columns) and their PostgreSQL names; decimal(p,s) is handled apart.
_COLUMN_TYPES = {
    "varchar": "text",
    "text": "text",
    "double": "double precision",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
    "boolean": "boolean",
    "bigint": "bigint",
    "integer": "integer",
    "hugeint": "numeric(38,0)",
}


def postgres_column_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a DuckDB column type name; WarehouseError for one kpiflow does not write."""
    name = duckdb_type.strip().lower()
    if name.startswith("decimal(") and name.endswith(")"):
        return "numeric" + name[len("decimal") :]
    if name in _COLUMN_TYPES:
        return _COLUMN_TYPES[name]
    raise WarehouseError(
        f"column type {duckdb_type!r} has no PostgreSQL mapping (known: {', '.join(_COLUMN_TYPES)}, decimal(p,s))"
    )


SchemaRenames = tuple[tuple[str, str], ...]  # (schema named in the SQL, schema used instead)


@lru_cache(maxsize=1024)
def to_postgres(sql: str, with_parameters: bool, renames: SchemaRenames = ()) -> tuple[str, ...]:
    """The PostgreSQL statements that do what the DuckDB statement `sql` does, in order, with the tables of each
    schema in `renames` read from and written to its replacement."""
    try:
        statements = [tree for tree in sqlglot.parse(sql, read="duckdb") if tree is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise WarehouseError(f"cannot translate this statement to PostgreSQL: {exc}") from None
    translated: list[str] = []
    for tree in statements:
        translated.extend(
            replaced_table_statements(tree.transform(_adapted(with_parameters, dict(renames))), "postgres")
        )
    return tuple(translated)


def replaced_table_statements(tree: exp.Expression, dialect: str) -> list[str]:
    """`tree` in `dialect`; a CREATE OR REPLACE TABLE as a DROP TABLE IF EXISTS and a CREATE TABLE, for engines
    whose tables take no CREATE OR REPLACE (PostgreSQL, Spark's parquet tables)."""
    statements: list[str] = []
    if isinstance(tree, exp.Create) and tree.args.get("replace") and tree.kind == "TABLE":
        tree.set("replace", False)
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        statements.append(f"DROP TABLE IF EXISTS {target.sql(dialect=dialect)}")
    return [*statements, tree.sql(dialect=dialect)]


def renamed_schema(node: exp.Expression, renames: dict[str, str]) -> bool:
    """Point a table of a renamed schema at its replacement (in place); True when `node` was one."""
    if renames and isinstance(node, exp.Table) and node.db in renames and not node.catalog:
        node.set("db", exp.to_identifier(renames[node.db], quoted=True))
        return True
    return False


def without_hugeint(node: exp.Expression) -> exp.Expression:
    """DuckDB's HUGEINT as decimal(38, 0), which PostgreSQL and Spark have."""
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        return exp.DataType.build("decimal(38, 0)")
    return node


def _adapted(with_parameters: bool, renames: dict[str, str]) -> Callable[[exp.Expression], exp.Expression]:
    def adapt(node: exp.Expression) -> exp.Expression:
        if renamed_schema(node, renames):
            return node
        if isinstance(node, exp.DataType):
            return without_hugeint(node)
        if isinstance(node, exp.Explode) and isinstance(node.this, exp.Placeholder):  # DuckDB's unnest(?)
            # psycopg binds a list of str as an array of `unknown`, which unnest() cannot resolve; the project
            # unnests bound lists of names (scorecards/inputs.py), so the array is text[].
            node.set("this", exp.cast(node.this, "text[]", dialect="postgres"))
            return node
        if with_parameters and isinstance(node, exp.Literal) and node.is_string and "%" in node.this:
            return exp.Literal.string(node.this.replace("%", "%%"))
        return node

    return adapt
