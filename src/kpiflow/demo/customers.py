"""Customers and when they come back.

Customers sign up (with their first purchase) at a rate that grows with the trend. About 40% never buy
again; the others return roughly every `gap_days` (lognormal, median 40) until their lifetime ends. A
candidate visit is kept with a probability that follows season and weekday, which shapes the calendar.
Customer numbers follow signup order, so a customer's identity never depends on the warehouse's end.
"""

from __future__ import annotations

from kpiflow.demo.sqlkit import Step

SIGNUP_DAYS = Step(
    "t_signup_days",
    """
with days as (
    select d::date as dt from range($origin, $last_day + interval 1 day, interval 1 day) t(d)
), counts as (
    select dt, floor($scale * $signups * trend(dt) * month_season(dt) + rnd('signups', dt, 0, 0))::int as signups
    from days
)
select
    dt,
    signups,
    coalesce(sum(signups) over (order by dt rows between unbounded preceding and 1 preceding), 0)::bigint
        as customers_before
from counts
""",
)

CUSTOMER_POOL = Step(
    "t_customer_pool",
    """
with expanded as (
    select dt as signup_date, customers_before + unnest(range(signups)) + 1 as customer_no
    from t_signup_days
    where signups > 0
), traits as (
    select
        customer_no,
        signup_date,
        rnd('customer_home', customer_no, 0, 0) < $online_home_share as is_online_home,
        floor(rnd('customer_store', customer_no, 0, 0) * (select max(weight_total) from t_store_model))::bigint
            as store_pick,
        rnd('customer_type', customer_no, 0, 0) >= 0.40 as is_repeat,
        exp(ln(40.0) + 0.6 * rnorm('customer_gap', customer_no, 0, 0)) as gap_days,
        -ln(1.0 - rnd('customer_life', customer_no, 0, 0)) * 450.0 as lifetime_days
    from expanded
), homed as (
    select t.*, m.store_id as physical_store_id, m.region as physical_region
    from traits t asof join (select store_id, region, weight_lo from t_store_model where not is_online) m
        on t.store_pick >= m.weight_lo
)
select
    customer_no,
    'C' || lpad(customer_no::varchar, 8, '0') as customer_id,
    signup_date,
    is_online_home,
    case when is_online_home then (select store_id from t_store_model where is_online) else physical_store_id end
        as home_store_id,
    case when is_online_home
         then ['North', 'South', 'East', 'West', 'Central']
                  [1 + floor(rnd('customer_region', customer_no, 0, 0) * 5)::int]
         else physical_region end as region,
    gap_days,
    case when is_repeat then floor(lifetime_days / gap_days)::int else 0 end as repeat_visits
from homed
""",
)

CUSTOMERS = Step(
    "customers",
    """
select customer_id, region, signup_date, home_store_id
from t_customer_pool
where signup_date <= $last_day
""",
    emitted=True,
    order_by="customer_id",
)

CUSTOMER_PURCHASES = Step(
    "t_customer_purchases",
    """
with candidates as (
    select
        customer_no, customer_id, signup_date, home_store_id, is_online_home, gap_days,
        greatest(1, floor(datediff('day', signup_date, $work_start) / gap_days - 0.5)::int) as k_lo,
        least(repeat_visits, ceil(datediff('day', signup_date, $last_day) / gap_days + 0.5)::int) as k_hi
    from t_customer_pool
    where repeat_visits > 0 and signup_date <= $last_day
), expanded as (
    select *, unnest(range(k_lo, k_hi + 1)) as visit_no from candidates where k_hi >= k_lo
), dated as (
    select
        customer_no, customer_id, home_store_id, is_online_home, visit_no,
        (signup_date + round(visit_no * gap_days
            + (rnd('customer_jitter', customer_no, visit_no, 0) - 0.5) * 0.8 * gap_days)::int)::date as dt,
        rnd('customer_visit', customer_no, visit_no, 0) as visit_draw,
        floor(rnd('customer_visit_store', customer_no, visit_no, 0)
              * (select max(weight_total) from t_store_model))::bigint as store_pick
    from expanded
), placed as (
    select
        d.*,
        case when d.is_online_home or d.visit_draw < 0.10 then (select store_id from t_store_model where is_online)
             when d.visit_draw < 0.25 then m.store_id
             else d.home_store_id end as store_id
    from dated d asof join (select store_id, weight_lo from t_store_model where not is_online) m
        on d.store_pick >= m.weight_lo
    where d.dt between $work_start and $last_day
), repeat_visits as (
    select p.customer_id, p.visit_no, p.dt, p.store_id
    from placed p join t_store_model m using (store_id)
    where rnd('customer_accept', p.customer_no, p.visit_no, 0) < season(p.dt) * weekday_factor(p.dt, m.is_online) / 2.2
)
select customer_id, 0 as visit_no, signup_date as dt, home_store_id as store_id
from t_customer_pool
where signup_date between $work_start and $last_day
union all
select customer_id, visit_no, dt, store_id from repeat_visits
""",
)

STEPS = (SIGNUP_DAYS, CUSTOMER_POOL, CUSTOMERS, CUSTOMER_PURCHASES)
