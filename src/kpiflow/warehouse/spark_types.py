"""Typed rows for Spark: the interface's DuckDB column types as Spark DDL types, and Python values Spark takes.

write_table builds a DataFrame with an explicit schema (never inferred), so a column is typed the same whatever its
rows hold, and an empty table still has its columns. Decimals are rounded half-even to the column's scale here
(as table_rows does for the CSV and COPY loaders): Spark would round half-up itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

from kpiflow.warehouse.interface import Columns, WarehouseError
from kpiflow.warehouse.table_rows import column_scale, rounded_decimal

# DuckDB column types (interface.Columns) and their Spark names; decimal(p,s) is handled apart.
_COLUMN_TYPES = {
    "varchar": "string",
    "text": "string",
    "double": "double",
    "date": "date",
    "timestamp": "timestamp_ntz",
    "timestamptz": "timestamp",
    "boolean": "boolean",
    "bigint": "bigint",
    "integer": "int",
    "hugeint": "decimal(38,0)",
}


def spark_column_type(duckdb_type: str) -> str:
    """The Spark type of a DuckDB column type name; WarehouseError for one kpiflow does not write."""
    name = duckdb_type.strip().lower().replace(" ", "")
    if name.startswith("decimal(") and name.endswith(")"):
        return name
    if name in _COLUMN_TYPES:
        return _COLUMN_TYPES[name]
    raise WarehouseError(
        f"column type {duckdb_type!r} has no Spark mapping (known: {', '.join(_COLUMN_TYPES)}, decimal(p,s))"
    )


def spark_schema(columns: Columns) -> str:
    """The DDL schema of a DataFrame with these columns (names quoted: any text is a name, never SQL)."""
    return ", ".join(f"`{name.replace('`', '``')}` {spark_column_type(kind)}" for name, kind in columns)


def _as_date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _unchanged(value: Any) -> Any:
    return value


def _converter(column_type: str) -> Callable[[Any], Any]:
    name = spark_column_type(column_type)
    if name.startswith("decimal("):
        scale = column_scale(name)
        return lambda value: rounded_decimal(value, scale)
    return _as_date if name == "date" else _unchanged


def spark_rows(columns: Columns, rows: Sequence[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
    """Each row with its values as Spark takes them for the declared types (ISO date text as a date)."""
    converters = [_converter(kind) for _, kind in columns]
    for row in rows:
        yield tuple(convert(value) for convert, value in zip(converters, row, strict=True))
