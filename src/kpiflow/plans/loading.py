"""Load a plan CSV into the warehouse's raw schema, replacing that table's rows in one transaction.

The header says which table it is (employee_id: raw.sales_plans, store_id: raw.store_plans). Every row is
parsed before anything is written: a bad value is reported as FILE:LINE with the column and what to
write instead, and the table is left as it was. Values travel as query parameters, never as SQL.
The input gate (`kpiflow check`) then judges the loaded rows like any other raw table.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from kpiflow.errors import UserInputError

RAW_SCHEMA = "raw"
PLAN_OWNER_COLUMNS: dict[str, str] = {"sales_plans": "employee_id", "store_plans": "store_id"}
VALUE_COLUMNS = ("month_start", "plan_net_revenue")
MAX_REPORTED = 20


@dataclass(frozen=True)
class PlanLoad:
    table: str
    rows: int
    months: tuple[date, date] | None


def plan_table_ddl(table: str) -> str:
    owner = PLAN_OWNER_COLUMNS[table]
    return f'{RAW_SCHEMA}."{table}" ({owner} varchar, month_start date, plan_net_revenue decimal(14,2))'


def _table_for(path: Path, header: list[str], table: str | None) -> str:
    wanted = {t: [owner, *VALUE_COLUMNS] for t, owner in PLAN_OWNER_COLUMNS.items()}
    if table is not None and table not in wanted:
        raise UserInputError(f"--table {table!r} is not one of {', '.join(wanted)}")
    matches = [t for t, columns in wanted.items() if header == columns and table in (None, t)]
    if not matches:
        expected = " or ".join(",".join(columns) for t, columns in wanted.items() if table in (None, t))
        raise UserInputError(f"{path}:1: header {','.join(header)!r} is not a plan file; expected {expected}")
    return matches[0]


PlanRow = tuple[str, date, Decimal]


def _parse_month(text: str) -> tuple[date | None, str | None]:
    try:
        month = date.fromisoformat(text)
    except ValueError:
        return None, f"month_start {text!r} is not a date; write YYYY-MM-01"
    if month.day != 1:
        return None, f"month_start {text} is not the first day of a month; write {month:%Y-%m}-01"
    return month, None


def _parse_amount(text: str) -> tuple[Decimal | None, str | None]:
    problem = f"plan_net_revenue {text!r} is not an amount with at most 2 decimals; e.g. 12500.00"
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, problem
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or (isinstance(exponent, int) and exponent < -2) or abs(amount) >= Decimal("1E12"):
        return None, problem
    return amount, None


def _parse_row(owner: str, cells: list[str]) -> tuple[PlanRow | None, list[str]]:
    """One CSV row as (owner id, month, amount), or the problems with it (without the file:line)."""
    if len(cells) != 3:
        return None, [f"{len(cells)} values, 3 expected ({owner},month_start,plan_net_revenue)"]
    owner_id, month_text, amount_text = (cell.strip() for cell in cells)
    month, month_problem = _parse_month(month_text)
    amount, amount_problem = _parse_amount(amount_text)
    problems = [f"{owner} is empty; every plan names its {owner}"] if not owner_id else []
    problems += [p for p in (month_problem, amount_problem) if p]
    if problems or month is None or amount is None:
        return None, problems
    return (owner_id, month, amount), []


def read_plan_file(path: Path, table: str | None = None) -> tuple[str, list[PlanRow]]:
    """(table, rows) from a plan CSV; UserInputError lists the bad lines (first 20)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{path}: cannot read the plan file ({exc})") from None
    if not lines:
        raise UserInputError(f"{path}: the file is empty; expected a header line and one row per plan")
    header = [cell.strip() for cell in lines[0]]
    table = _table_for(path, header, table)
    owner = PLAN_OWNER_COLUMNS[table]
    rows: list[PlanRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, date], int] = {}
    for line, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row, row_problems = _parse_row(owner, cells)
        problems.extend(f"{path}:{line}: {problem}" for problem in row_problems)
        if row is None:
            continue
        if (row[0], row[1]) in seen:
            first = seen[(row[0], row[1])]
            problems.append(f"{path}:{line}: {owner} {row[0]} {row[1]:%Y-%m} is already planned on line {first}")
        seen.setdefault((row[0], row[1]), line)
        rows.append(row)
    if problems:
        more = f"\n  ... and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        listed = "\n".join(f"  {p}" for p in problems[:MAX_REPORTED])
        raise UserInputError(f"{path}: {len(problems)} bad rows, nothing was loaded:\n{listed}{more}")
    return table, rows


def load_plans(warehouse_path: Path, path: Path, table: str | None = None) -> PlanLoad:
    """Replace raw.<table> with the rows of `path` (table from the header unless given)."""
    from kpiflow.demo.warehouse import open_warehouse  # turns a held lock into WarehouseBusy

    table, rows = read_plan_file(path, table)
    with open_warehouse(warehouse_path) as con:
        con.execute(f"create schema if not exists {RAW_SCHEMA}")
        con.execute("begin transaction")
        try:
            con.execute(f"create or replace table {plan_table_ddl(table)}")
            if rows:
                con.executemany(f'insert into {RAW_SCHEMA}."{table}" values (?, ?, ?)', rows)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    months = (min(r[1] for r in rows), max(r[1] for r in rows)) if rows else None
    return PlanLoad(table, len(rows), months)
