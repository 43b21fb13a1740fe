"""The nightly report: headline KPIs from the published marts, with the day-on-day and month-on-month change.

Read from the published marts, not the build: the report shows exactly what BI tools now see.
The month compared is the latest complete one (a month-to-date total against a whole month would
always look like a fall early in the month).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kpiflow.orchestration.pipeline import GateOutcome
from kpiflow.warehouse import Warehouse

HEADLINE_KPIS: tuple[str, ...] = (
    "net_revenue",
    "order_count",
    "gross_margin_pct",
    "conversion_rate",
    "inventory_value",
    "headcount",
    "employee_turnover_rate",
)
_RATE_UNITS = frozenset({"percent"})
_DASH = "—"


@dataclass(frozen=True)
class KpiChange:
    """One KPI's overall value on the run date and in the latest complete month, and their comparisons."""

    kpi: str
    label: str
    unit: str
    day: float | None
    previous_day: float | None
    month: float | None
    previous_month: float | None

    @property
    def is_headline(self) -> bool:
        return self.kpi in HEADLINE_KPIS


@dataclass(frozen=True)
class KpiReport:
    """The report's tables, as formatted rows: every KPI, and the headline few for the console."""

    rows: tuple[dict[str, str], ...]
    headline_rows: tuple[dict[str, str], ...]

    def headline(self) -> str:
        return f"{len(self.rows)} KPIs reported"


def build_kpi_report(warehouse: Warehouse, run_date: date) -> KpiReport:
    changes = read_kpi_changes(warehouse, run_date)
    return KpiReport(
        rows=tuple(table_rows(changes, run_date)),
        headline_rows=tuple(table_rows(headline(changes), run_date)),
    )


def latest_complete_month(run_date: date) -> date:
    """First day of the last month that ended on or before the run date."""
    this_month = run_date.replace(day=1)
    if (run_date + timedelta(days=1)).day == 1:
        return this_month
    return (this_month - timedelta(days=1)).replace(day=1)


def read_kpi_changes(warehouse: Warehouse, run_date: date) -> tuple[KpiChange, ...]:
    """Every KPI in the published marts, headline KPIs first; empty when nothing is published yet."""
    if not warehouse.is_published():
        return ()
    month = latest_complete_month(run_date)
    previous_month = (month - timedelta(days=1)).replace(day=1)
    with warehouse.read_published() as session:
        tables = {name for _, name in session.relations(("marts",))}
        if "kpi_values" not in tables:
            return ()
        catalog = (
            "select kpi, label, unit from marts.kpi_catalog"
            if "kpi_catalog" in tables
            else "select distinct kpi, kpi as label, '' as unit from marts.kpi_values"
        )
        rows = session.execute(
            f"""
            with catalog as ({catalog}),
            overall as (
                select kpi, grain, period_start::date as period_start, value
                from marts.kpi_values
                where dimension_set = 'overall' and not coalesce(is_suppressed, false)
            )
            select c.kpi, c.label, c.unit,
                max(value) filter (where grain = 'day' and period_start = $run_date),
                max(value) filter (where grain = 'day' and period_start = $run_date - 1),
                max(value) filter (where grain = 'month' and period_start = $month),
                max(value) filter (where grain = 'month' and period_start = $previous_month)
            from catalog as c
            left join overall as o on o.kpi = c.kpi
            group by c.kpi, c.label, c.unit
            """,
            {"run_date": run_date, "month": month, "previous_month": previous_month},
        ).fetchall()
    changes = [KpiChange(str(k), str(label), str(unit or ""), *values) for k, label, unit, *values in rows]
    order = {name: position for position, name in enumerate(HEADLINE_KPIS)}
    return tuple(sorted(changes, key=lambda c: (order.get(c.kpi, len(order)), c.kpi)))


def headline(changes: tuple[KpiChange, ...], limit: int = 8) -> tuple[KpiChange, ...]:
    """The headline KPIs that exist, or the first few when none of them do."""
    chosen = tuple(change for change in changes if change.is_headline)
    return chosen or changes[:limit]


def format_value(value: float | None, unit: str) -> str:
    """Display only (marts keep full precision): rates as percentages, counts whole, the rest to 2 decimals."""
    if value is None:
        return _DASH
    if unit in _RATE_UNITS:
        return f"{value * 100:.2f}%"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_change(current: float | None, previous: float | None, unit: str) -> str:
    """Rates change in percentage points; everything else in percent of the previous value."""
    if current is None or previous is None:
        return _DASH
    if unit in _RATE_UNITS:
        return f"{(current - previous) * 100:+.2f} pp"
    if previous == 0:
        return _DASH
    return f"{(current - previous) / abs(previous) * 100:+.1f}%"


def table_rows(changes: tuple[KpiChange, ...], run_date: date) -> list[dict[str, str]]:
    """Rows for the Prefect table artifact and the console table; column names say what they hold."""
    month = latest_complete_month(run_date)
    month_label = f"{month:%Y-%m}"
    return [
        {
            "KPI": change.label,
            f"{run_date}": format_value(change.day, change.unit),
            "vs previous day": format_change(change.day, change.previous_day, change.unit),
            month_label: format_value(change.month, change.unit),
            "vs previous month": format_change(change.month, change.previous_month, change.unit),
        }
        for change in changes
    ]


def markdown_table(rows: tuple[dict[str, str], ...]) -> str:
    if not rows:
        return "_No KPI values published yet._"
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row[column] for column in header) + " |" for row in rows]
    return "\n".join(lines)


def quality_markdown(gate: GateOutcome, run_date: date) -> str:
    verdict = "passed" if gate.passed else "FAILED: nothing was built or published"
    docs = f"\n\nData Docs: [{gate.data_docs_path}]({gate.data_docs_path.as_uri()})" if gate.data_docs_path else ""
    return f"## Input checks for {run_date}: {verdict}\n\n```\n{gate.summary_text.strip()}\n```{docs}\n"


def run_markdown(run_date: date, published: str, kpis: KpiReport, stage_lines: list[str]) -> str:
    stages = "\n".join(f"- {line}" for line in stage_lines)
    return (
        f"## kpiflow nightly run for {run_date}\n\nPublished: `{published}`\n\n"
        f"### Headline KPIs\n\n{markdown_table(kpis.headline_rows)}\n\n### Stages\n\n{stages}\n"
    )
