"""Everything the dashboard reads, from the PUBLISHED marts only, opened read-only (a file on DuckDB, the schemas
`marts` and `payroll` on PostgreSQL).

The build warehouse is never opened: the pages show exactly what BI tools see. Pay (`payroll`) is read
only by `read_pay_cards`, which the site builder calls only with `--include-pay`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from kpiflow.errors import UserInputError
from kpiflow.scorecards.report import fetch
from kpiflow.warehouse import AccessDenied, Session, Warehouse
from kpiflow.warehouse.reading import published_session
from kpiflow.warehouse.run_record import published_run

READS = "kpiflow dashboard reads schema marts (and payroll with --include-pay)"

# kpi_values columns that hold a breakdown's member, by dimension_set (single breakdowns only).
MEMBER_COLUMNS = ("store_id", "region", "channel", "category", "department", "employee_id")


@dataclass(frozen=True)
class CatalogEntry:
    """One row of marts.kpi_catalog: the KPI's words, written by people (escaped on every page)."""

    kpi: str
    label: str
    description: str
    metric_type: str
    unit: str
    format: str
    direction: str
    owner: str
    perspective: str
    level: str
    natural_dimensions: str
    band_low: float | None
    band_high: float | None


@dataclass(frozen=True)
class Cell:
    """One published value; a suppressed cell has no value, by construction."""

    value: float | None
    is_suppressed: bool


@dataclass(frozen=True)
class Achievement:
    """A company-level target row of marts.kpi_achievement for one month."""

    target: float | None
    minimum: float | None
    stretch: float | None
    band_low: float | None
    band_high: float | None
    status: str


@dataclass(frozen=True)
class BreakdownCell:
    kpi: str
    dimension_set: str
    member: str | None
    period_start: date
    cell: Cell


@dataclass(frozen=True)
class PayCard:
    """One card's published results for one period: payout rows and each person's KPI lines."""

    card: str
    period_start: date
    payouts: list[dict[str, Any]]
    lines: dict[str, list[dict[str, Any]]]


@contextmanager
def published_marts(warehouse: Warehouse) -> Iterator[Session]:
    """The published marts, read-only; a clear error when nothing is published or it is not kpiflow's marts."""
    with published_session(warehouse, READS) as session:
        missing = [name for name in ("kpi_values", "kpi_catalog") if not session.has_relation(f"marts.{name}")]
        if missing:
            raise UserInputError(
                f"{warehouse.published_location} has no marts.{', marts.'.join(missing)}; "
                "are these kpiflow's published marts?"
            )
        yield session


def columns_of(con: Session, schema: str, table: str) -> set[str]:
    return {column[0] for column in con.execute(f"select * from {schema}.{table} limit 0").description}


def read_catalog(con: Session) -> list[CatalogEntry]:
    """Every catalog row; columns a file published by an older kpiflow lacks read as empty."""
    present = columns_of(con, "marts", "kpi_catalog")
    text = [f"coalesce(cast({name} as varchar), '')" if name in present else "''" for name in _CATALOG_TEXT]
    bands = [f"cast({name} as double)" if name in present else "null" for name in ("band_low", "band_high")]
    rows = con.execute(f"select {', '.join(text + bands)} from marts.kpi_catalog order by kpi").fetchall()
    return [CatalogEntry(*row) for row in rows]


_CATALOG_TEXT = (
    "kpi", "label", "description", "metric_type", "unit", "format", "direction", "owner", "perspective", "level",
    "natural_dimensions",
)  # fmt: skip


def read_as_of(con: Session) -> date:
    """The run date of what is published (the day its KPIs are as of: the latest published row of the record of runs,
    a rollback's naming the run date it restored), else the latest published day."""
    try:
        published = published_run(con)
    except AccessDenied:  # a reader role that may not read kpiflow_state
        published = None
    if published is not None and published.run_date is not None:
        return published.run_date
    if con.has_relation("main._kpiflow_publish"):  # a file published by an older version
        row = con.execute("select max(run_date) from main._kpiflow_publish").fetchone()
        if row and row[0]:
            return row[0]
    row = con.execute("select max(period_start) from marts.kpi_values where grain = 'day'").fetchone()
    if not row or row[0] is None:
        raise UserInputError("the published marts hold no KPI values yet; run `kpiflow run` first")
    return row[0]


def read_overall(con: Session, grain: str, since: date) -> dict[str, dict[date, Cell]]:
    """Each KPI's overall value per period of `grain` from `since` on."""
    rows = con.execute(
        "select kpi, period_start, value, coalesce(is_suppressed, false) from marts.kpi_values "
        "where dimension_set = 'overall' and grain = ? and period_start >= ?",
        [grain, since],
    ).fetchall()
    series: dict[str, dict[date, Cell]] = {}
    for kpi, period_start, value, suppressed in rows:
        series.setdefault(kpi, {})[period_start] = Cell(None if suppressed else value, bool(suppressed))
    return series


def read_breakdowns(con: Session, since: date, until: date) -> list[BreakdownCell]:
    """Monthly values of every single-dimension breakdown between two months (inclusive)."""
    present = [name for name in MEMBER_COLUMNS if name in columns_of(con, "marts", "kpi_values")]
    if not present:
        return []
    member = "coalesce(" + ", ".join(present) + ")"
    rows = con.execute(
        f"select kpi, dimension_set, {member}, period_start, value, coalesce(is_suppressed, false) "
        "from marts.kpi_values where grain = 'month' and dimension_set <> 'overall' "
        "and dimension_set not like '%,%' and period_start between ? and ? "
        "order by kpi, dimension_set, 3 nulls last, period_start",
        [since, until],
    ).fetchall()
    return [
        BreakdownCell(kpi, dimension_set, member_value, period_start, Cell(None if sup else value, bool(sup)))
        for kpi, dimension_set, member_value, period_start, value, sup in rows
    ]


def read_company_targets(con: Session) -> dict[tuple[str, date], Achievement]:
    """Company-level monthly targets and statuses (judged by each KPI's direction and thresholds)."""
    if not con.has_relation("marts.kpi_achievement"):
        return {}
    rows = con.execute(
        "select kpi, period_start, target, minimum, stretch, band_low, band_high, status "
        "from marts.kpi_achievement where entity_type = 'company' and grain = 'month'"
    ).fetchall()
    return {
        (kpi, period_start): Achievement(*(_float(v) for v in values), status)
        for kpi, period_start, *values, status in rows
    }


def read_pay_cards(con: Session) -> list[PayCard]:
    """Each card's latest published period, with every person's lines (the rows `scorecard --explain` reads)."""
    if not con.has_relation("payroll.payouts"):
        raise UserInputError("the published marts hold no payroll.payouts; --include-pay needs a published run")
    latest = con.execute("select card, max(period_start) from payroll.payouts group by card order by card").fetchall()
    cards = []
    for card, period_start in latest:
        payouts, lines = fetch(con, card, period_start, None)
        cards.append(PayCard(card, period_start, payouts, lines))
    return cards


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
