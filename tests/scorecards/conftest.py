"""Fixtures for scorecards: a DuckDB warehouse with the input contract and a project folder for cards."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kpiflow.scorecards import ScorecardBuildSummary, build_scorecards
from kpiflow.scorecards.inputs import create_input_tables
from kpiflow.warehouse import Session
from kpiflow.warehouse.duckdb import DuckDBSession

ENTITY_COLUMN = {"store": "store_id", "department": "department", "employee": "employee_id"}
DIMENSION_SET = {"company": "overall", "store": "store", "department": "department", "employee": "employee"}


@dataclass
class ScorecardWarehouse:
    """Inputs written the way dbt would leave them, plus the cards folder build_scorecards reads."""

    con: Session
    project_dir: Path
    cards_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.cards_dir = self.project_dir / "metrics" / "scorecards"
        self.cards_dir.mkdir(parents=True, exist_ok=True)
        (self.project_dir / "seeds").mkdir(exist_ok=True)
        create_input_tables(self.con)

    def kpi(self, name: str, direction: str = "higher_is_better", band: tuple[float, float] | None = None) -> None:
        low, high = band or (None, None)
        self.con.execute(
            "insert into marts.kpi_catalog (kpi, label, direction, band_low, band_high) values (?, ?, ?, ?, ?)",
            [name, name, direction, low, high],
        )

    def value(
        self,
        kpi: str,
        entity_type: str,
        entity_id: str | None,
        period: str,
        value: float | None,
        grain: str = "month",
        suppressed: bool = False,
    ) -> None:
        column = ENTITY_COLUMN.get(entity_type)
        columns = "kpi, grain, period_start, dimension_set, value, is_suppressed" + (f", {column}" if column else "")
        params: list[Any] = [kpi, grain, date.fromisoformat(period), DIMENSION_SET[entity_type], value, suppressed]
        if column:
            params.append(entity_id)
        placeholders = ", ".join("?" for _ in params)
        self.con.execute(f"insert into marts.kpi_values ({columns}) values ({placeholders})", params)

    def employee(
        self,
        employee_id: str,
        job_role: str,
        base: str = "560",
        variable: str = "240",
        store_id: str | None = None,
        department: str | None = None,
        hire_date: str = "2020-01-01",
        termination_date: str | None = None,
    ) -> None:
        pay = [Decimal(base), Decimal(variable)]
        self.con.execute(
            """insert into staging.stg_employees (employee_id, store_id, department, job_role, hire_date,
               termination_date, monthly_base_pay, monthly_variable_pay) values (?, ?, ?, ?, ?, ?, ?, ?)""",
            [employee_id, store_id, department, job_role, hire_date, termination_date, *pay],
        )

    def target(
        self,
        kpi: str,
        entity_type: str,
        entity_id: str | None,
        target: str | None,
        period: str | None = None,
        minimum: str | None = None,
        stretch: str | None = None,
        grain: str = "month",
        band: tuple[str, str] | None = None,
    ) -> None:
        low, high = band or (None, None)
        self.con.execute(
            "insert into seeds.kpi_targets values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [kpi, entity_type, entity_id, grain, period, target, minimum, stretch, low, high],
        )

    def plan(self, department: str | None, kpi: str, minimum: str, optimal: str, maximum: str) -> None:
        self.con.execute(
            "insert into seeds.department_plans values (?, ?, 'month', null, ?, ?, ?)",
            [department, kpi, minimum, optimal, maximum],
        )

    def card(self, name: str, text: str) -> Path:
        path = self.cards_dir / f"{name}.yml"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def build(self) -> ScorecardBuildSummary:
        return build_scorecards(self.con, self.project_dir)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def payout(self, card: str, employee_id: str, period: str) -> dict[str, Any]:
        found = self.rows(
            "select * from payroll.payouts where card = ? and employee_id = ? and period_start = ?",
            [card, employee_id, date.fromisoformat(period)],
        )
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[ScorecardWarehouse]:
    con = duckdb.connect()
    try:
        yield ScorecardWarehouse(DuckDBSession(con), tmp_path / "project")
    finally:
        con.close()


@pytest.fixture
def file_warehouse(tmp_path: Path) -> Iterator[ScorecardWarehouse]:
    """The same inputs in a DuckDB file (tmp_path / warehouse.duckdb), for code that opens the file itself."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        yield ScorecardWarehouse(DuckDBSession(con), tmp_path / "project")
    finally:
        con.close()


MARKETER_KPIS = ("new_customers_growth", "repeat_customers_growth", "positive_reviews_growth")
MARKETER_FACTS = (0.22, 0.17, 0.30)


def marketer_card(rounding: str, pay: str = "{scheme: linear, floor: 0.70}", name: str = "marketer") -> str:
    """The article's card: weights 0.5/0.25/0.25, targets from the seed."""
    return f"""
        name: {name}
        role: marketer
        kpis:
          - {{kpi: new_customers_growth, weight: 0.5, target: seed}}
          - {{kpi: repeat_customers_growth, weight: 0.25, target: seed}}
          - {{kpi: positive_reviews_growth, weight: 0.25, target: seed}}
        rounding: {rounding}
        pay: {pay}
        """


@pytest.fixture
def marketer(warehouse: ScorecardWarehouse) -> ScorecardWarehouse:
    """The article's marketer: target 20% on each KPI, facts 22% / 17% / 30%, pay 560 fixed + 240 variable."""
    for kpi, fact in zip(MARKETER_KPIS, MARKETER_FACTS, strict=True):
        warehouse.kpi(kpi)
        warehouse.target(kpi, "employee", "M001", "0.20")
        warehouse.value(kpi, "employee", "M001", "2025-06-01", fact)
    warehouse.employee("M001", "marketer", base="560", variable="240", department="marketing")
    return warehouse


@pytest.fixture
def card_text():
    """The marketer card's YAML with a given rounding and pay block (a fixture: importlib mode)."""
    return marketer_card
