"""The tables scorecards read, as one contract: DDL (for tests and examples) and typed readers.

In the pipeline these tables are built by dbt (marts.kpi_values, marts.kpi_catalog,
staging.stg_employees) and dbt seeds (seeds.kpi_targets, seeds.department_plans). DOUBLE values
become Decimal through their shortest repr, never Decimal(float).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from kpiflow.errors import RunFailed
from kpiflow.scorecards.model import COMPANY_ENTITY_ID, ENTITY_DIMENSION_SET
from kpiflow.warehouse import Session

INPUT_TABLES: dict[str, str] = {
    "marts.kpi_values": """kpi varchar, grain varchar, period_start date, dimension_set varchar,
        store_id varchar, region varchar, channel varchar, category varchar, department varchar,
        employee_id varchar, value double, is_suppressed boolean""",
    "marts.kpi_catalog": """kpi varchar, label varchar, description varchar, unit varchar,
        format varchar, direction varchar, band_low double, band_high double, owner varchar,
        perspective varchar, level varchar""",
    "staging.stg_employees": """employee_id varchar, store_id varchar, department varchar, job_role varchar,
        hire_date date, termination_date date, termination_reason varchar,
        monthly_base_pay decimal(12,2), monthly_variable_pay decimal(12,2)""",
    "seeds.kpi_targets": """kpi varchar, entity_type varchar, entity_id varchar, grain varchar,
        period_start date, target decimal(38,12), minimum decimal(38,12), stretch decimal(38,12),
        band_low decimal(38,12), band_high decimal(38,12)""",
    "seeds.department_plans": """department varchar, kpi varchar, grain varchar, period_start date,
        minimum decimal(38,12), optimal decimal(38,12), maximum decimal(38,12)""",
}


def create_input_tables(con: Session) -> None:
    """Create empty input tables with the contract's schemas (stand-ins until dbt builds them)."""
    for table, columns in INPUT_TABLES.items():
        con.execute(f"create schema if not exists {table.split('.')[0]}")
        con.execute(f"create or replace table {table} ({columns})")


def load_csv(con: Session, table: str, path: Path) -> int:
    """Append a CSV (header row, empty = NULL) to a contract table, casting by column name."""
    before = con.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
    con.execute(
        f"insert into {table} by name select * from read_csv(?, header = true, all_varchar = true)",
        [str(path)],
    )
    return con.execute(f"select count(*) from {table}").fetchone()[0] - before  # type: ignore[index]


def to_decimal(value: float | Decimal | int | None) -> Decimal | None:
    """DOUBLE -> Decimal through repr (0.22 stays 0.22); DECIMAL columns lose their padding zeros."""
    if value is None:
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return strip_zeros(Decimal(value))


def strip_zeros(value: Decimal) -> Decimal:
    """192.000000 -> 192 and 0.2500 -> 0.25, without switching to exponent notation (1E+2)."""
    if not value.is_finite():
        return value
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


@dataclass(frozen=True)
class CatalogEntry:
    kpi: str
    direction: str
    band_low: Decimal | None
    band_high: Decimal | None


@dataclass(frozen=True)
class Actual:
    """One KPI value for one entity and period; value None = missing or suppressed."""

    kpi: str
    entity_type: str
    entity_id: str
    grain: str
    period_start: date
    value: Decimal | None


@dataclass(frozen=True)
class Employee:
    employee_id: str
    store_id: str | None
    department: str | None
    job_role: str
    hire_date: date | None
    termination_date: date | None
    monthly_base_pay: Decimal
    monthly_variable_pay: Decimal

    def active_between(self, first_day: date, last_day: date) -> bool:
        """Employed on at least one day of [first_day, last_day] (rule 13's definition of active)."""
        hired = self.hire_date is None or self.hire_date <= last_day
        still_there = self.termination_date is None or self.termination_date > first_day
        return hired and still_there

    def entity_id(self, entity_type: str) -> str | None:
        return {
            "employee": self.employee_id,
            "store": self.store_id,
            "department": self.department,
            "company": COMPANY_ENTITY_ID,
        }[entity_type]


@dataclass(frozen=True)
class SeedTargetRow:
    """A row of seeds/kpi_targets.csv; entity_id or period_start None = every entity / every period."""

    kpi: str
    entity_type: str
    entity_id: str | None
    grain: str
    period_start: date | None
    target: Decimal | None
    minimum: Decimal | None
    stretch: Decimal | None
    band_low: Decimal | None
    band_high: Decimal | None

    def describe(self) -> str:
        period = self.period_start.isoformat() if self.period_start else "every period"
        return f"{self.kpi}, {self.entity_type} {self.entity_id or '(every)'}, {self.grain} {period}"


@dataclass(frozen=True)
class DepartmentPlan:
    """A row of seeds/department_plans.csv; department or period_start None = every one."""

    department: str | None
    kpi: str
    grain: str
    period_start: date | None
    minimum: Decimal
    optimal: Decimal
    maximum: Decimal


def read_catalog(con: Session) -> dict[str, CatalogEntry]:
    if not con.has_relation("marts.kpi_catalog"):
        raise RunFailed("marts.kpi_catalog is missing: build the KPI marts (kpiflow run) before scorecards")
    rows = con.execute("select kpi, direction, band_low, band_high from marts.kpi_catalog").fetchall()
    return {kpi: CatalogEntry(kpi, direction, to_decimal(low), to_decimal(high)) for kpi, direction, low, high in rows}


def read_actuals(con: Session, kpis: set[str]) -> list[Actual]:
    """Values of the given KPIs at the entity levels scorecards know (company/store/department/employee).

    Rows without an entity id (e.g. orders with no seller) or without a period cannot carry a target
    and are left out.
    """
    if not kpis:
        return []
    id_column = {"overall": None, "store": "store_id", "department": "department", "employee": "employee_id"}
    entity_of_set = {dimension_set: entity for entity, dimension_set in ENTITY_DIMENSION_SET.items()}
    rows = con.execute(
        """select kpi, dimension_set, store_id, department, employee_id, grain, period_start,
                  case when is_suppressed then null else value end
           from marts.kpi_values
           where kpi in (select unnest($kpis))
             and period_start is not null
             and case dimension_set
                   when 'overall' then true
                   when 'store' then store_id is not null
                   when 'department' then department is not null
                   when 'employee' then employee_id is not null
                   else false
                 end""",
        {"kpis": sorted(kpis)},
    ).fetchall()
    actuals = []
    for kpi, dimension_set, store_id, department, employee_id, grain, period_start, value in rows:
        column = id_column[dimension_set]
        entity_id = {"store_id": store_id, "department": department, "employee_id": employee_id}.get(column or "")
        actuals.append(
            Actual(
                kpi,
                entity_of_set[dimension_set],
                entity_id if column else COMPANY_ENTITY_ID,
                grain,
                period_start,
                to_decimal(value),
            )
        )
    return actuals


def first_period(con: Session) -> date | None:
    """The earliest period with any KPI value: where the warehouse's history starts."""
    row = con.execute("select min(period_start) from marts.kpi_values").fetchone()
    return row[0] if row else None


def read_employees(con: Session) -> list[Employee]:
    if not con.has_relation("staging.stg_employees"):
        raise RunFailed("staging.stg_employees is missing: build staging (kpiflow run) before scorecards")
    rows = con.execute(
        """select employee_id, store_id, department, job_role, hire_date, termination_date,
                  monthly_base_pay, monthly_variable_pay
           from staging.stg_employees order by employee_id"""
    ).fetchall()
    return [
        Employee(e, s, d, r, h, t, to_decimal(base) or Decimal(0), to_decimal(var) or Decimal(0))
        for e, s, d, r, h, t, base, var in rows
    ]


def read_target_seed(con: Session) -> list[SeedTargetRow] | None:
    """Rows of seeds.kpi_targets; None when the seed was never loaded."""
    if not con.has_relation("seeds.kpi_targets"):
        return None
    rows = con.execute(
        """select kpi, lower(entity_type), nullif(trim(entity_id), ''),
                  coalesce(nullif(lower(grain), ''), 'month'), period_start,
                  target, minimum, stretch, band_low, band_high
           from seeds.kpi_targets"""
    ).fetchall()
    return [SeedTargetRow(k, et, eid, g, p, *(to_decimal(v) for v in values)) for k, et, eid, g, p, *values in rows]


def read_department_plans(con: Session) -> list[DepartmentPlan] | None:
    """Rows of seeds.department_plans; None when the seed was never loaded."""
    if not con.has_relation("seeds.department_plans"):
        return None
    rows = con.execute(
        """select nullif(trim(department), ''), kpi, coalesce(nullif(lower(grain), ''), 'month'),
                  period_start, minimum, optimal, maximum
           from seeds.department_plans"""
    ).fetchall()
    return [
        DepartmentPlan(
            d,
            k,
            g,
            p,
            to_decimal(lo) or Decimal(0),
            to_decimal(op) or Decimal(0),
            to_decimal(hi) or Decimal(0),
        )
        for d, k, g, p, lo, op, hi in rows
    ]
