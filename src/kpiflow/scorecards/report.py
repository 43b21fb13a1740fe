"""Read a card's published results for one period and render them as a table, CSV, JSON or explanation."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from kpiflow.errors import UserInputError
from kpiflow.scorecards.explain import explain_payout
from kpiflow.scorecards.formatting import money, number, percent, score
from kpiflow.scorecards.outputs import MONEY, PAYOUTS, SCORECARD_RESULTS
from kpiflow.scorecards.periods import period_label
from kpiflow.warehouse import Session

FORMATS = ("table", "csv", "json")


def _rows(con: Session, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch(
    con: Session, card: str, period_start: date, employee: str | None
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Payout rows and each employee's KPI lines; UserInputError names what exists when nothing matches."""
    cards = [r[0] for r in con.execute("select distinct card from payroll.payouts order by card").fetchall()]
    if card not in cards:
        raise UserInputError(f"no scorecard '{card}' in the published results; available: {', '.join(cards) or 'none'}")
    filters, params = "card = ? and period_start = ?", [card, period_start]
    if employee:
        filters, params = filters + " and employee_id = ?", [*params, employee]
    payout_columns = ", ".join(name for name, _ in PAYOUTS)
    payouts = _rows(con, f"select {payout_columns} from payroll.payouts where {filters} order by employee_id", params)
    if not payouts:
        periods = con.execute(
            "select distinct period_start from payroll.payouts where card = ? order by 1 desc limit 6", [card]
        ).fetchall()
        latest = ", ".join(str(p[0]) for p in periods)
        who = f" for employee {employee}" if employee else ""
        raise UserInputError(f"card {card} has no results for {period_start}{who}; latest periods: {latest}")
    line_columns = ", ".join(name for name, _ in SCORECARD_RESULTS)
    lines = _rows(con, f"select {line_columns} from marts.scorecard_results where {filters}", params)
    by_employee: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_employee.setdefault(line["employee_id"], []).append(line)
    return payouts, by_employee


def card_warnings(con: Session, card: str) -> list[str]:
    """The build's warnings about this card or about every card (none from a file published before they existed)."""
    if not con.has_relation("payroll.scorecard_warnings"):
        return []
    rows = con.execute(
        "select message from payroll.scorecard_warnings where card = ? or card is null order by card nulls first",
        [card],
    ).fetchall()
    return [message for (message,) in rows]


SUMMARY_COLUMNS = (
    "employee_id",
    "status",
    "kpi_index",
    "bonus_coefficient",
    "bonus",
    "department_multiplier",
    "total_pay",
)


def _summary_cells(payout: dict[str, Any]) -> list[str]:
    return [
        payout["employee_id"],
        payout["status"],
        percent(payout["kpi_index"]),
        number(payout["bonus_coefficient"]),
        money(payout["bonus"]),
        number(payout["department_multiplier"]),
        money(payout["total_pay"]),
    ]


MONEY_COLUMNS = frozenset(name for name, kind in PAYOUTS if kind == MONEY)


def _as_json_value(value: Any, column: str = "") -> Any:
    """Decimals as strings (nothing lost), money with its cents, dates in ISO form."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return money(value) if column in MONEY_COLUMNS else number(value)


def render(
    con: Session,
    card: str,
    period_start: date,
    employee: str | None = None,
    output_format: str = "table",
    explain: bool = False,
) -> str:
    """The command's output as text (tables are drawn by rich into a string)."""
    if output_format not in FORMATS:
        raise UserInputError(f"--format {output_format!r} is not one of {', '.join(FORMATS)}")
    payouts, lines = fetch(con, card, period_start, employee)
    if explain:
        return "\n\n".join(explain_payout(p, lines.get(p["employee_id"], [])) for p in payouts) + "\n"
    if output_format == "json":
        warnings = card_warnings(con, card)
        documents = [
            {
                **{k: _as_json_value(v, k) for k, v in p.items()},
                "kpis": [{k: _as_json_value(v) for k, v in line.items()} for line in lines.get(p["employee_id"], [])],
                "warnings": warnings,
            }
            for p in payouts
        ]
        return json.dumps(documents, indent=2) + "\n"
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([name for name, _ in PAYOUTS])
        for p in payouts:
            writer.writerow(["" if v is None else _as_json_value(v, k) for k, v in p.items()])
        return buffer.getvalue()
    text = _table(card, period_start, payouts, lines if employee else {})
    return text + "".join(f"warning: {message}\n" for message in card_warnings(con, card))


LINE_COLUMNS = ("kpi", "actual", "target", "achievement", "capped", "weight", "weighted", "status")


def line_cells(line: dict[str, Any]) -> list[str]:
    """One KPI line of a person's card as displayed (the terminal table and the dashboard's pay pages)."""
    return [
        line["kpi"],
        number(line["actual"]),
        number(line["target"]),
        score(line["achievement"]),
        score(line["capped_achievement"]),
        number(line["weight"]),
        score(line["weighted_score"]),
        line["status"],
    ]


def _table(card: str, period_start: date, payouts: list[dict[str, Any]], lines: dict[str, list[dict[str, Any]]]) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{card} {period_label(period_start, payouts[0]['grain'])}")
    for column in SUMMARY_COLUMNS:
        table.add_column(column, justify="left" if column == "employee_id" else "right")
    for p in payouts:
        table.add_row(*_summary_cells(p))
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(table)
    for p in payouts:
        if p["reason"]:
            console.print(f"{p['employee_id']} {p['status']}: {p['reason']}", highlight=False, markup=False)
    for employee_id, kpi_lines in lines.items():
        detail = Table(title=f"{employee_id} KPIs")
        for column in LINE_COLUMNS:
            detail.add_column(column, justify="left" if column in ("kpi", "status") else "right")
        for line in kpi_lines:
            detail.add_row(*line_cells(line))
        console.print(detail)
    return console.file.getvalue()  # type: ignore[attr-defined]
