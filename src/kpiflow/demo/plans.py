"""Monthly revenue plans per store and per sales manager, written as dbt seed CSVs.

A plan is what a planner would have set: the trailing three months' net revenue, seasonally adjusted to
the planned month, times an uplift of 0-8%. A month without history (the first month, a new manager)
takes its own seasonally adjusted actuals. Files are sorted with fixed decimals so that the same warehouse
always gives the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from kpiflow.demo.spec import DemoSpec, GenerationWindow
from kpiflow.demo.sqlkit import install_macros, render

STORE_PLAN_FILE = "plans_store_monthly.csv"
SALES_MANAGER_PLAN_FILE = "plans_sales_manager_monthly.csv"

NET_REVENUE = """
with months as (
    select m::date as month_start
    from range(date_trunc('month', $meta_start), $last_day + interval 1 day, interval 1 month) t(m)
), order_revenue as (
    select o.store_id, o.employee_id, date_trunc('month', o.order_ts)::date as month_start,
           sum(l.quantity * l.unit_price - l.discount_amount) as amount
    from raw.orders o join raw.order_lines l using (order_id)
    group by o.store_id, o.employee_id, date_trunc('month', o.order_ts)::date
), refunds as (
    select o.store_id, o.employee_id, date_trunc('month', r.return_ts)::date as month_start,
           -sum(r.refund_amount) as amount
    from raw.returns r join raw.orders o using (order_id)
    group by o.store_id, o.employee_id, date_trunc('month', r.return_ts)::date
), net as (
    select store_id, employee_id, month_start, sum(amount) as net_revenue
    from (select * from order_revenue union all select * from refunds)
    group by store_id, employee_id, month_start
)
"""

PLAN_FROM_ACTUALS = """
, indexed as (
    select
        *,
        month_season(month_start) * day(last_day(month_start)) * trend(month_start + 14) as month_index
    from actuals
), adjusted as (
    select *, actual / month_index as adjusted_actual from indexed
), smoothed as (
    select
        *,
        avg(adjusted_actual) over (
            partition by plan_owner order by month_start rows between 3 preceding and 1 preceding
        )
            as trailing_adjusted
    from adjusted
)
select
    plan_owner,
    month_start,
    greatest(100, round(coalesce(trailing_adjusted, adjusted_actual) * month_index
                        * (1.00 + 0.08 * rnd('plan_uplift', plan_owner, month_start, 0)), 2))::decimal(14, 2)
        as plan_net_revenue
from smoothed
order by plan_owner, month_start
"""

STORE_ACTUALS = """
, actuals as (
    select s.store_id as plan_owner, m.month_start, coalesce(sum(n.net_revenue), 0)::double as actual
    from raw.stores s
    cross join months m
    left join net n on n.store_id = s.store_id and n.month_start = m.month_start
    group by s.store_id, m.month_start
)
"""

SALES_MANAGER_ACTUALS = """
, actuals as (
    select e.employee_id as plan_owner, m.month_start, coalesce(sum(n.net_revenue), 0)::double as actual
    from raw.employees e
    join months m
      on e.hire_date <= last_day(m.month_start)
     and (e.termination_date is null or e.termination_date > m.month_start)
    left join net n on n.employee_id = e.employee_id and n.month_start = m.month_start
    where e.job_role = 'sales_manager'
    group by e.employee_id, m.month_start
)
"""


def write_plan_seeds(con: duckdb.DuckDBPyConnection, spec: DemoSpec, seeds_dir: Path) -> dict[str, int]:
    """Write both plan CSVs for every month of spec.start..spec.end; returns rows written per file."""
    window = GenerationWindow.for_days(spec, spec.start, spec.end)
    install_macros(con, spec, window)
    seeds_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for file_name, owner_column, actuals in (
        (STORE_PLAN_FILE, "store_id", STORE_ACTUALS),
        (SALES_MANAGER_PLAN_FILE, "employee_id", SALES_MANAGER_ACTUALS),
    ):
        rows = con.execute(render(NET_REVENUE + actuals + PLAN_FROM_ACTUALS, spec, window)).fetchall()
        lines = [f"{owner_column},month_start,plan_net_revenue"]
        lines += [f"{owner},{month.isoformat()},{amount:.2f}" for owner, month, amount in rows]
        _write_atomically(seeds_dir / file_name, "\n".join(lines) + "\n")
        written[file_name] = len(rows)
    return written


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8", newline="\n")
    os.replace(temporary, path)
