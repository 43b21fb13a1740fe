"""Write marts.kpi_achievement, marts.scorecard_results, payroll.payouts and payroll.scorecard_warnings at once.

Scores and KPI values are DECIMAL(38,12) (full precision to 12 places, rounded half-even; rule 17
keeps rounding out of the marts unless a card asks for it), money DECIMAL(18,2). Payouts sit in
their own schema `payroll` so access to pay can be granted apart from the KPI marts. Rows are
loaded through a temporary CSV read with the declared types: exact, and fast for many rows.
"""

from __future__ import annotations

import csv
import decimal
import tempfile
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

VALUE = "decimal(38,12)"
MONEY = "decimal(18,2)"
TEXT = "varchar"
DATE = "date"

Columns = tuple[tuple[str, str], ...]

KPI_ACHIEVEMENT: Columns = (
    ("kpi", TEXT), ("entity_type", TEXT), ("entity_id", TEXT), ("grain", TEXT), ("period_start", DATE),
    ("actual", VALUE), ("target", VALUE), ("minimum", VALUE), ("stretch", VALUE), ("variance", VALUE),
    ("achievement", VALUE), ("status", TEXT), ("band_low", VALUE), ("band_high", VALUE), ("direction", TEXT),
    ("target_source", TEXT), ("target_note", TEXT),
)  # fmt: skip

SCORECARD_RESULTS: Columns = (
    ("card", TEXT), ("employee_id", TEXT), ("period_start", DATE), ("kpi", TEXT), ("actual", VALUE),
    ("target", VALUE), ("achievement", VALUE), ("capped_achievement", VALUE), ("weight", VALUE),
    ("weighted_score", VALUE), ("status", TEXT), ("grain", TEXT), ("entity_type", TEXT), ("entity_id", TEXT),
    ("direction", TEXT), ("cap", VALUE), ("target_note", TEXT),
)  # fmt: skip

PAYOUTS: Columns = (
    ("card", TEXT), ("employee_id", TEXT), ("period_start", DATE), ("fixed_pay", MONEY),
    ("variable_pay", MONEY), ("kpi_index", VALUE), ("bonus_coefficient", VALUE), ("bonus", MONEY),
    ("department_multiplier", VALUE), ("total_pay", MONEY), ("grain", TEXT), ("pay_scheme", TEXT),
    ("index_rounding", TEXT), ("bonus_note", TEXT), ("status", TEXT), ("reason", TEXT),
)  # fmt: skip

# Every warning of the build that wrote the tables (held pay and its reasons: in `payroll`, like pay).
SCORECARD_WARNINGS: Columns = (("card", TEXT), ("message", TEXT))

RESULT_TABLES: dict[str, Columns] = {
    "marts.kpi_achievement": KPI_ACHIEVEMENT,
    "marts.scorecard_results": SCORECARD_RESULTS,
    "payroll.payouts": PAYOUTS,
}
OUTPUT_TABLES: dict[str, Columns] = {**RESULT_TABLES, "payroll.scorecard_warnings": SCORECARD_WARNINGS}


NULL_MARK = "\\N"


def _decimal_text(quantum: Decimal) -> Callable[[Any], str]:
    """Decimals rounded half-even to the column's scale; infinities (unbounded) become NULL."""

    def convert(value: Any) -> str:
        if value is None or not value.is_finite():
            return NULL_MARK
        return str(value.quantize(quantum, rounding=decimal.ROUND_HALF_EVEN))

    return convert


def _plain_text(value: Any) -> str:
    return NULL_MARK if value is None else str(value)


def _converter(column_type: str) -> Callable[[Any], str]:
    if column_type.startswith("decimal"):
        return _decimal_text(Decimal(1).scaleb(-int(column_type.rstrip(")").split(",")[1])))
    return _plain_text  # text, and dates (str(date) is ISO)


def write_table(con: duckdb.DuckDBPyConnection, table: str, columns: Columns, rows: Sequence[Sequence[Any]]) -> None:
    """CREATE OR REPLACE `table` with typed columns and load the rows (call inside a transaction).

    Rows go through a temporary CSV that DuckDB reads with the declared types: exact decimals from
    their text, and much faster than binding millions of Python values.
    """
    con.execute(f"create schema if not exists {table.split('.')[0]}")
    ddl = ", ".join(f"{name} {column_type}" for name, column_type in columns)
    con.execute(f"create or replace table {table} ({ddl})")
    if not rows:
        return
    converters = [_converter(kind) for _, kind in columns]
    with tempfile.TemporaryDirectory(prefix="kpiflow-scorecards-") as folder:
        path = Path(folder) / "rows.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for row in rows:
                writer.writerow([convert(value) for convert, value in zip(converters, row, strict=True)])
        types = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns) + "}"
        con.execute(
            f"insert into {table} select * from read_csv(?, header = false, columns = {types}, "
            f"nullstr = '{NULL_MARK}', quote = '\"', escape = '\"')",
            [str(path)],
        )


def write_outputs(con: duckdb.DuckDBPyConnection, tables: dict[str, Sequence[Sequence[Any]]]) -> None:
    """Replace all output tables at once: readers never see a half-written set."""
    con.execute("begin transaction")
    try:
        for table, rows in tables.items():
            write_table(con, table, OUTPUT_TABLES[table], rows)
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
