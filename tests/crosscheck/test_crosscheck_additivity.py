"""Additive KPIs add up: for every month, the cells of each natural breakdown (store, region, channel, category,
department as the catalog declares them) sum to the overall value."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from crosscheck_support import DIMENSION_SETS, DataWindow, same_number

pytestmark = pytest.mark.slow  # reads the demo warehouse that dbt builds once per session

ADDITIVE_KPIS = (
    "net_revenue",
    "gross_revenue",
    "cogs",
    "order_count",
    "units_sold",
    "visitors",
    "operating_expenses",
    "hires",
    "terminations",
)


def _natural_dimension_sets(connection: duckdb.DuckDBPyConnection, kpi: str) -> list[str]:
    (declared,) = connection.execute(
        "select natural_dimensions from marts.kpi_catalog where kpi = $kpi", {"kpi": kpi}
    ).fetchone()  # type: ignore[misc]
    tokens = [token.strip() for token in (declared or "").split(",") if token.strip()]
    return [DIMENSION_SETS[token] for token in tokens if DIMENSION_SETS.get(token) != "employee"]


def _months(first_day: date, last_day: date) -> set[date]:
    months, month = set(), first_day.replace(day=1)
    while month <= last_day:
        months.add(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


@pytest.mark.parametrize("kpi", ADDITIVE_KPIS)
def test_breakdowns_sum_to_the_overall_value(
    kpi: str, demo_db: duckdb.DuckDBPyConnection, data_window: DataWindow
) -> None:
    dimension_sets = _natural_dimension_sets(demo_db, kpi)
    assert "store" in dimension_sets, f"{kpi} should be broken down by store"
    for dimension_set in dimension_sets:
        rows = demo_db.execute(
            """
            with parts as (
                select period_start, sum(coalesce(value, 0)) as total, bool_or(is_suppressed) as any_suppressed
                from marts.kpi_values
                where kpi = $kpi and grain = 'month' and dimension_set = $dimension_set
                group by period_start
            )
            select overall.period_start, overall.value, coalesce(parts.total, 0)
            from marts.kpi_values as overall
            left join parts on parts.period_start = overall.period_start
            where overall.kpi = $kpi and overall.grain = 'month' and overall.dimension_set = 'overall'
                and not overall.is_suppressed and not coalesce(parts.any_suppressed, false)
            order by overall.period_start
            """,
            {"kpi": kpi, "dimension_set": dimension_set},
        ).fetchall()
        mismatches = [
            f"{period}: overall {overall!r}, sum by {dimension_set} {total!r}"
            for period, overall, total in rows
            if not same_number(overall, float(total))
        ]
        assert not mismatches, f"{kpi} does not add up:\n" + "\n".join(mismatches)
        compared = {period for period, *_ in rows}
        missing = _months(data_window.first_day, data_window.last_day) - compared
        assert not missing, f"{kpi} by {dimension_set}: months with data not compared (suppressed?): {sorted(missing)}"
