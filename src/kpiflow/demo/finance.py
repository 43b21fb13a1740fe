"""Operating expenses by store and category.

Expenses are a share of each store's *expected* revenue (the volume model, not the realised sales), so
that net margins look plausible at every scale and an expense never depends on another day's sales.
Rent and other fixed costs are booked on the 1st, utilities on the 15th, payroll on the last day of the
month, marketing every Monday, maintenance on random days.
"""

from __future__ import annotations

from kpiflow.demo.sqlkit import Step

EXPENSES = Step(
    "expenses",
    """
with line_value as (
    select (sum(demand_weight * list_price * round(mean_quantity * 100)::bigint) / sum(demand_weight) / 100)::double
        as average_line_value
    from t_product_model
), store_days as (
    select
        m.store_id, m.is_online, d.dt,
        m.base_orders_per_day * $lines_per_order * v.average_line_value * month_season(d.dt) * trend(d.dt) * 30.4
            as expected_monthly_revenue
    from t_store_model m cross join t_work_days d cross join line_value v
    where d.dt >= $first_day
), booked as (
    select store_id, dt, 'rent' as category, expected_monthly_revenue * case when is_online then 0.012 else 0.055 end
        as amount
    from store_days where day(dt) = 1
    union all
    select store_id, dt, 'other', expected_monthly_revenue * 0.010 from store_days where day(dt) = 1
    union all
    select store_id, dt, 'utilities',
           expected_monthly_revenue * 0.012 * case when month(dt) in (1, 2, 7, 8, 12) then 1.3 else 1.0 end
    from store_days where day(dt) = 15
    union all
    select store_id, dt, 'payroll', expected_monthly_revenue * case when is_online then 0.07 else 0.11 end
    from store_days where dt = last_day(dt)
    union all
    select store_id, dt, 'marketing', expected_monthly_revenue * case when is_online then 0.07 else 0.03 end / 4.35
    from store_days where dayofweek(dt) = 1
    union all
    select store_id, dt, 'maintenance',
           expected_monthly_revenue * 0.006 * (0.5 + rnd('maintenance_size', store_id, dt, 0))
    from store_days where rnd('maintenance', store_id, dt, 0) < 0.05
)
select
    dt as expense_date,
    store_id,
    category,
    greatest(0.01, round(amount * (0.9 + 0.2 * rnd('expense', store_id, dt, category)), 2))::decimal(12, 2) as amount
from booked
""",
    emitted=True,
    order_by="expense_date, store_id, category",
)

EMITTED_STEPS = (EXPENSES,)
