"""Orders, order lines, returns and store traffic.

Orders come from three origins: anonymous walk-ins (physical stores; volume follows store size, season,
weekday and trend), identified customers' visits (customers.py) and leads won by sales managers (crm.py).
Each order draws lines from the product popularity curve; a line only sells what is on the shelf (the
weekly replenishment cycle of inventory.py caps it), so stock never goes negative. Order ids are
`yyyymmdd * 10^7 + rank within the day`, which keeps them stable when days are appended.
"""

from __future__ import annotations

from kpiflow.demo.sqlkit import Step

PAIR_LEVELS = Step(
    "t_pair_levels",
    """
select
    m.store_no,
    p.product_no,
    7 * m.base_orders_per_day * $lines_per_order * p.demand_share * p.mean_quantity
      * (1.25 + 1.6 * rnd('stock_cover', m.store_id, p.product_id, 0)) as weekly_units
from t_store_model m cross join t_product_model p
""",
)

ORDER_HEADS = Step(
    "t_order_heads",
    """
with anonymous as (
    select
        m.store_id, d.dt,
        m.base_anonymous_per_day * season(d.dt) * weekday_factor(d.dt, false) * trend(d.dt) as expected_orders
    from t_store_model m cross join t_work_days d
    where not m.is_online
), heads as (
    select
        store_id, dt, 'anonymous' as origin, store_id as origin_key,
        unnest(range(greatest(0, round(expected_orders + sqrt(expected_orders)
                                       * rnorm('anonymous_orders', store_id, dt, 0)))::int)) as origin_no,
        null::varchar as customer_id, null::varchar as lead_employee_id, null::timestamp as lead_order_ts
    from anonymous
    union all
    select store_id, dt, 'customer', customer_id, visit_no, customer_id, null, null
    from t_customer_purchases
    union all
    select store_id, dt, 'lead', store_id, lead_no, customer_id, owner_employee_id, won_order_ts
    from t_leads
    where is_won
), timed as (
    select
        h.*,
        m.is_online,
        m.store_no,
        m.delivery_dow,
        coalesce(h.lead_order_ts, h.dt::timestamp + to_seconds(case
            when m.is_online
                then floor(86399 * (0.15 + 0.85 * sqrt(rnd('order_time', h.origin_key, h.origin_no, h.dt))))
            else floor(32400 + 43200 * (rnd('order_time', h.origin_key, h.origin_no, h.dt)
                                        + rnd('order_time_2', h.origin_key, h.origin_no, h.dt)) / 2)
            end::bigint)) as order_ts
    from heads h join t_store_model m using (store_id)
), numbered as (
    select
        *,
        event_id(dt, row_number() over (partition by dt order by order_ts, store_id, origin, origin_key, origin_no))
            as order_id
    from timed
), seller_counts as (
    select distinct store_id, dt, seller_count from t_sellers
)
select
    n.order_id, n.dt, n.order_ts, n.store_id, n.store_no, n.delivery_dow, n.is_online, n.origin, n.origin_key,
    n.origin_no,
    case when n.is_online then 'online' else 'store' end as channel,
    n.customer_id,
    coalesce(n.lead_employee_id, s.employee_id) as employee_id
from numbered n
left join seller_counts c
  on c.store_id = n.store_id and c.dt = n.dt and not n.is_online
 and rnd('order_has_seller', n.order_id, 0, 0) < 0.9
left join t_sellers s
  on s.store_id = c.store_id and s.dt = c.dt
 and s.seller_no = 1 + floor(rnd('order_seller', n.order_id, 0, 0) * c.seller_count)::int
""",
)

DEMAND_LINES = Step(
    "t_demand_lines",
    """
with sized as (
    select order_id, dt, order_ts, store_id, store_no, delivery_dow,
           least(6, 1 + floor(ln(1.0 - rnd('order_lines', order_id, 0, 0)) / ln(0.52)))::int as line_count
    from t_order_heads
), lines as (
    select *, unnest(range(1, line_count + 1)) as line_no from sized
), picked as (
    select
        *,
        floor(rnd('line_product', order_id, line_no, 0) * (select max(weight_total) from t_product_model))::bigint
            as product_pick,
        rnd('line_quantity', order_id, line_no, 0) as quantity_draw
    from lines
)
select
    l.order_id, l.line_no, l.dt, l.order_ts, l.store_id, l.store_no,
    cycle_start(l.dt, l.delivery_dow) as cycle_day,
    p.product_id, p.product_no, p.list_price as unit_price, p.unit_cost, p.return_factor,
    case when p.bulk_buy then 1 + floor(l.quantity_draw * 4)::int
         when l.quantity_draw < 0.74 then 1
         when l.quantity_draw < 0.93 then 2
         when l.quantity_draw < 0.98 then 3
         else 4 end as quantity_wanted,
    case when rnd('line_promo', l.order_id, l.line_no, 0) < promo_share(l.dt)
         then [0.10, 0.15, 0.20, 0.25, 0.30][1 + floor(rnd('promo_depth', l.order_id, l.line_no, 0) * 5)::int]
         else 0.0 end as discount_rate
from picked l asof join t_product_model p on l.product_pick >= p.weight_lo
""",
)

ORDER_LINES_WORK = Step(
    "t_order_lines",
    """
with capped as (
    select
        l.*,
        stock_level(pl.weekly_units, l.cycle_day) as stock_level,
        sum(l.quantity_wanted) over (
            partition by l.store_no, l.product_no, l.cycle_day
            order by l.order_id, l.line_no  -- order ids rank orders by time
            rows unbounded preceding
        ) as wanted_through
    from t_demand_lines l join t_pair_levels pl using (store_no, product_no)
), filled as (
    select *, greatest(0, least(quantity_wanted, stock_level - (wanted_through - quantity_wanted)))::int as quantity
    from capped
)
select
    order_id,
    row_number() over (partition by order_id order by line_no)::int as line_no,
    dt, cycle_day, order_ts, store_id, store_no, product_id, product_no, quantity, unit_price,
    round(quantity * unit_price * discount_rate, 2)::decimal(12, 2) as discount_amount,
    unit_cost, return_factor
from filled
where quantity > 0
""",
)

ORDERS_WORK = Step(
    "t_orders",
    """
select h.*
from t_order_heads h
where exists (select 1 from t_order_lines l where l.order_id = h.order_id)
""",
)

ORDERS = Step(
    "orders",
    """
select order_id, order_ts, store_id, channel, customer_id, employee_id
from t_orders
where dt >= $first_day
""",
    emitted=True,
    order_by="order_id",
)

ORDER_LINES = Step(
    "order_lines",
    """
select order_id, line_no, product_id, quantity, unit_price, discount_amount, unit_cost
from t_order_lines
where dt >= $first_day
""",
    emitted=True,
    order_by="order_id, line_no",
)

RETURNS = Step(
    "returns",
    """
with returned as (
    select l.*, m.is_online
    from t_order_lines l join t_store_model m using (store_id)
    where rnd('return', l.order_id, l.line_no, 0) < (case when m.is_online then 0.085 else 0.03 end) * l.return_factor
), dated as (
    select
        *,
        (dt + case when is_online then 3 + floor(rnd('return_lag', order_id, line_no, 0) * 28)
                   else 1 + floor(rnd('return_lag', order_id, line_no, 0) * 14) end::int)::date as return_date,
        case when quantity = 1 then 1
             else 1 + floor(rnd('return_quantity', order_id, line_no, 0) * quantity)::int end as returned_units
    from returned
)
select
    event_id(return_date, row_number() over (partition by return_date order by order_id, line_no)) as return_id,
    order_id,
    line_no,
    return_date::timestamp + to_seconds(floor(36000 + rnd('return_time', order_id, line_no, 0) * 36000)::bigint)
        as return_ts,
    returned_units as quantity,
    round(returned_units * (unit_price - discount_amount / quantity), 2)::decimal(12, 2) as refund_amount
from dated
where return_date between $first_day and $last_day
""",
    emitted=True,
    order_by="return_id",
)

STORE_TRAFFIC = Step(
    "store_traffic",
    """
with daily_orders as (
    select store_id, dt, count(*) as orders from t_orders group by store_id, dt
)
select
    m.store_id,
    d.dt as traffic_date,
    greatest(
        coalesce(o.orders, 0) + 1 + floor(rnd('traffic_floor', m.store_id, d.dt, 0) * 3)::int,
        round(coalesce(o.orders, 0) / (m.conversion_base * (0.85 + 0.3 * rnd('traffic', m.store_id, d.dt, 0))))::int
    )::int as visitors
from t_store_model m
cross join t_work_days d
left join daily_orders o on o.store_id = m.store_id and o.dt = d.dt
where not m.is_online and d.dt >= $first_day
""",
    emitted=True,
    order_by="traffic_date, store_id",
)

WORK_STEPS = (PAIR_LEVELS, ORDER_HEADS, DEMAND_LINES, ORDER_LINES_WORK, ORDERS_WORK)
EMITTED_STEPS = (ORDERS, ORDER_LINES, RETURNS, STORE_TRAFFIC)
