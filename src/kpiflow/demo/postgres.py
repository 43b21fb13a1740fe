"""Write the demo retailer into schema `raw` of a PostgreSQL warehouse.

`--append-through` regenerates the demo as it was in scratch DuckDB and COPYs only what the append adds
(`append_in_scratch`).
The data is generated exactly as for DuckDB (into a scratch DuckDB file: same seed, same rows), then streamed into
PostgreSQL with COPY, one table at a time, in one transaction: the raw tables are replaced together or not at all,
and a reader sees the old raw schema until the commit. Column types follow the DuckDB tables (`postgres_type`).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kpiflow.config import PostgresConnection
from kpiflow.demo.pipeline import EVENT_TABLES
from kpiflow.demo.spec import DemoSpec
from kpiflow.demo.warehouse import (
    DEMO_TABLES,
    META_TABLE,
    RAW_SCHEMA,
    DemoSummary,
    append_in_scratch,
    generate_demo_warehouse,
    open_warehouse,
)
from kpiflow.errors import RunFailed, UserInputError

if TYPE_CHECKING:
    import duckdb
    import psycopg

_BATCH_ROWS = 10_000
_SAME_NAME = {"BIGINT", "INTEGER", "SMALLINT", "BOOLEAN", "DATE", "TIME", "UUID", "INTERVAL"}
_RENAMED = {
    "TINYINT": "smallint",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "HUGEINT": "numeric(38,0)",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "VARCHAR": "text",
    "BLOB": "bytea",
    "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def postgres_type(duckdb_type: str, where: str = "") -> str:
    """The PostgreSQL column type holding every value of a DuckDB column type unchanged (as format_type writes it)."""
    name = duckdb_type.upper()
    if name in _SAME_NAME:
        return name.lower()
    if name in _RENAMED:
        return _RENAMED[name]
    decimal = _DECIMAL.fullmatch(name)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    raise UserInputError(f"{where or 'a column'}: DuckDB type {duckdb_type} has no PostgreSQL mapping in kpiflow")


def load_demo_into_postgres(
    connection: PostgresConnection,
    *,
    scale: float,
    start: date,
    end: date,
    seed: int,
    progress: bool = False,
) -> DemoSummary:
    """Generate the demo data for start..end and replace PostgreSQL's raw demo tables with it, in one transaction."""
    with tempfile.TemporaryDirectory(prefix="kpiflow-demo-") as scratch, connection.connect() as target:
        duckdb_file = Path(scratch) / "demo.duckdb"  # connected first: a wrong password fails before generating
        summary = generate_demo_warehouse(duckdb_file, scale=scale, start=start, end=end, seed=seed, progress=progress)
        with open_warehouse(duckdb_file, read_only=True) as source, target.transaction():
            target.execute(f"create schema if not exists {RAW_SCHEMA}")
            for table in (*DEMO_TABLES, META_TABLE):
                _copy_table(source, target, table)
    return replace(summary, warehouse_path=Path(connection.address))


def append_demo_days_in_postgres(
    connection: PostgresConnection, through: date, *, progress: bool = False
) -> DemoSummary:
    """Extend PostgreSQL's demo through `through` as `append_demo_days` extends a DuckDB one (same seed and scale):
    the demo is regenerated as it was in a scratch DuckDB file and extended there; then, in one transaction, the event
    tables get the new rows only (rows the gate moved aside stay out, as on DuckDB) and the others are replaced."""
    with tempfile.TemporaryDirectory(prefix="kpiflow-demo-") as scratch, connection.connect() as target:
        spec = _postgres_demo_spec(target, connection)
        if through <= spec.end:
            return DemoSummary(
                Path(connection.address), spec.start, spec.end, spec.seed, spec.scale, action="unchanged"
            )
        duckdb_file = Path(scratch) / "demo.duckdb"
        summary = append_in_scratch(duckdb_file, spec, through, progress=progress)
        with open_warehouse(duckdb_file, read_only=True) as source, target.transaction():
            for table in (*DEMO_TABLES, META_TABLE):
                if table in EVENT_TABLES:
                    _copy_rows(source, target, table, f'select * from {RAW_SCHEMA}."{table}"')
                else:
                    _copy_table(source, target, table)
    return replace(summary, warehouse_path=Path(connection.address))


def _postgres_demo_spec(target: psycopg.Connection, connection: PostgresConnection) -> DemoSpec:
    from psycopg import errors

    try:
        row = target.execute(f"select seed, scale, start_date, end_date from {RAW_SCHEMA}.{META_TABLE}").fetchone()
    except errors.UndefinedTable:
        row = None
    if row is None:
        raise UserInputError(
            f"{connection.address} has no kpiflow demo data to append to; create it first with `kpiflow demo-data`."
        )
    return DemoSpec(seed=int(row[0]), scale=float(row[1]), start=row[2], end=row[3])


def postgres_has_demo_data(connection: PostgresConnection) -> bool:
    """Does the PostgreSQL warehouse already hold demo data (raw._demo_meta)?"""
    with connection.connect() as target:
        row = target.execute("select to_regclass(%s) is not null", [f"{RAW_SCHEMA}.{META_TABLE}"]).fetchone()
    return bool(row and row[0])


def _copy_table(source: duckdb.DuckDBPyConnection, target: psycopg.Connection, table: str) -> None:
    """Replace raw.<table>'s rows with the DuckDB table's and COPY them in. A table with the same columns is emptied,
    not dropped: dbt's staging views read it, and PostgreSQL refuses to drop a table a view depends on. A table whose
    columns changed (an older generator) is dropped with the views on it, which the next dbt build recreates."""
    from psycopg import sql

    columns = source.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()
    wanted = [(name, postgres_type(kind, f"{RAW_SCHEMA}.{table}.{name}")) for name, kind in columns]
    existing = target.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped order by a.attnum",
        [f'{RAW_SCHEMA}."{table}"'],
    ).fetchall()
    relation = sql.Identifier(RAW_SCHEMA, table)
    if [tuple(row) for row in existing] == wanted:
        target.execute(sql.SQL("truncate table {}").format(relation))
    else:
        definitions = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in wanted
        )
        target.execute(sql.SQL("drop table if exists {} cascade").format(relation))
        target.execute(sql.SQL("create table {} ({})").format(relation, definitions))
    _copy_rows(source, target, table, f'select * from {RAW_SCHEMA}."{table}"')


def _copy_rows(source: duckdb.DuckDBPyConnection, target: psycopg.Connection, table: str, query: str) -> None:
    """COPY the rows of the DuckDB `query` into the existing raw.<table> (columns in the DuckDB table's order)."""
    from psycopg import sql

    columns = source.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()
    relation = sql.Identifier(RAW_SCHEMA, table)
    names = sql.SQL(", ").join(sql.Identifier(name) for (name,) in columns)
    rows = source.execute(query)
    try:
        with target.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(relation, names)) as copy:
            while batch := rows.fetchmany(_BATCH_ROWS):
                for row in batch:
                    copy.write_row(row)
    except Exception as exc:
        raise RunFailed(f"loading {RAW_SCHEMA}.{table} into PostgreSQL failed: {str(exc).splitlines()[0]}") from exc
