"""Monthly revenue plans per store and per sales manager, written into the warehouse's raw schema.

Plans are input data like orders: they belong to the warehouse they were made for (raw.sales_plans,
raw.store_plans, gated like every raw table), never to the project's files, so two warehouses never
share plans. A plan is what a planner would have set: the trailing three months' net revenue,
seasonally adjusted to the planned month, times an uplift of 0-8%. A month without history (the
first month, a new manager) takes its own seasonally adjusted actuals.
"""

from __future__ import annotations

import duckdb

from kpiflow.demo.spec import DemoSpec, GenerationWindow
from kpiflow.demo.sqlkit import install_macros, render
from kpiflow.plans.loading import PLAN_OWNER_COLUMNS, plan_table_ddl

PLAN_TABLES: tuple[str, ...] = tuple(PLAN_OWNER_COLUMNS)

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


def install_plan_macros(con: duckdb.DuckDBPyConnection, spec: DemoSpec) -> None:
    """The macros the plan queries use; call outside the transaction that writes the plans."""
    install_macros(con, spec, GenerationWindow.for_days(spec, spec.start, spec.end))


def write_plan_tables(con: duckdb.DuckDBPyConnection, spec: DemoSpec, schema: str) -> dict[str, int]:
    """Replace `schema`.sales_plans and .store_plans with plans for every month of spec.start..spec.end.

    Reads the raw tables already in `schema`, so call it after they are in place (inside the same
    transaction, readers see data and plans change together). Returns rows written per table.
    """
    window = GenerationWindow.for_days(spec, spec.start, spec.end)
    written: dict[str, int] = {}
    for table, actuals in (("sales_plans", SALES_MANAGER_ACTUALS), ("store_plans", STORE_ACTUALS)):
        plans = render(NET_REVENUE + actuals + PLAN_FROM_ACTUALS, spec, window)
        con.execute(f"create or replace table {plan_table_ddl(table)}")
        con.execute(f'insert into {schema}."{table}" select * from ({plans}) order by all')
        written[table] = con.execute(f'select count(*) from {schema}."{table}"').fetchone()[0]  # type: ignore[index]
    return written
