"""Book inventory per store and product: weekly replenishment, end-of-day balances, monthly counts.

Each store receives goods on its delivery weekday, enough to bring every product back up to its stock
level (an order-up-to policy; the level follows the trend). Between deliveries sales draw the shelf down
and stop at zero, so the end-of-day balance is `level - units sold since the delivery`, which is
consistent with receipts and sales by construction:
    on_hand(d) = on_hand(d - 1) + received(d) - sold(d).
The opening balance on the first day is not a receipt. Returned goods are not restocked (they go back to
the vendor). Physical counts on the last day of each month find slightly fewer units than the book
(shrinkage about 1.5%); the book is not adjusted by the count.
"""

from __future__ import annotations

from kpiflow.demo.sqlkit import Step

SOLD_BY_CYCLE = Step(
    "t_sold_by_cycle",
    """
select store_no, product_no, cycle_day, dt, sum(quantity)::bigint as units_sold
from t_order_lines
group by store_no, product_no, cycle_day, dt
""",
)

STOCK = Step(
    "t_stock",
    """
with grid as (
    select m.store_no, p.product_no, d.dt, cycle_start(d.dt, m.delivery_dow) as cycle_day
    from t_store_model m cross join t_product_model p cross join t_work_days d
    where d.dt >= $first_day
), sold_in_cycle as (
    select store_no, product_no, cycle_day, dt,
           sum(units_sold) over (partition by store_no, product_no, cycle_day order by dt rows unbounded preceding)
               as sold_through
    from t_sold_by_cycle
)
select
    g.store_no, g.product_no, g.dt,
    stock_level(pl.weekly_units, g.cycle_day) - coalesce(s.sold_through, 0) as units_on_hand
from grid g
join t_pair_levels pl using (store_no, product_no)
asof left join sold_in_cycle s
  on s.store_no = g.store_no and s.product_no = g.product_no and s.cycle_day = g.cycle_day and s.dt <= g.dt
""",
)

INVENTORY_SNAPSHOTS = Step(
    "inventory_snapshots",
    """
select k.dt as snapshot_date, m.store_id, p.product_id, k.units_on_hand::int as units_on_hand, p.unit_cost
from t_stock k
join t_store_model m using (store_no)
join t_product_model p using (product_no)
""",
    emitted=True,
    order_by="snapshot_date, store_id, product_id",
)

INVENTORY_RECEIPTS = Step(
    "inventory_receipts",
    """
with deliveries as (
    select m.store_no, m.store_id, d.dt, cycle_start((d.dt - 1)::date, m.delivery_dow) as previous_cycle_day
    from t_store_model m cross join t_work_days d
    where d.dt >= $first_day and d.dt > $meta_start and cycle_start(d.dt, m.delivery_dow) = d.dt
), previous_cycle as (
    select store_no, product_no, cycle_day, sum(units_sold) as units_sold
    from t_sold_by_cycle
    group by store_no, product_no, cycle_day
), received as (
    select
        d.dt, d.store_id, p.product_id, p.unit_cost,
        (stock_level(pl.weekly_units, d.dt)
         - (stock_level(pl.weekly_units, d.previous_cycle_day) - coalesce(s.units_sold, 0)))::int as quantity
    from deliveries d
    cross join t_product_model p
    join t_pair_levels pl on pl.store_no = d.store_no and pl.product_no = p.product_no
    left join previous_cycle s
      on s.store_no = d.store_no and s.product_no = p.product_no and s.cycle_day = d.previous_cycle_day
)
select
    event_id(dt, row_number() over (partition by dt order by store_id, product_id)) as receipt_id,
    dt as received_on,
    store_id,
    product_id,
    quantity,
    unit_cost
from received
where quantity > 0
""",
    emitted=True,
    order_by="receipt_id",
)

INVENTORY_COUNTS = Step(
    "inventory_counts",
    """
with counted as (
    select
        k.dt, m.store_id, p.product_id, k.units_on_hand::int as book_units, p.unit_cost,
        floor(k.units_on_hand * 0.045 * rnd('shrink_rate', m.store_id, p.product_id, k.dt)
              + rnd('shrink_rounding', m.store_id, p.product_id, k.dt))::int as missing_units,
        rnd('count_found', m.store_id, p.product_id, k.dt) < 0.015 as found_extra
    from t_stock k
    join t_store_model m using (store_no)
    join t_product_model p using (product_no)
    where k.dt = last_day(k.dt)
)
select
    dt as count_date,
    store_id,
    product_id,
    book_units,
    case when found_extra then book_units + 1 else greatest(0, book_units - missing_units) end as counted_units,
    unit_cost
from counted
""",
    emitted=True,
    order_by="count_date, store_id, product_id",
)

WORK_STEPS = (SOLD_BY_CYCLE, STOCK)
EMITTED_STEPS = (INVENTORY_SNAPSHOTS, INVENTORY_RECEIPTS, INVENTORY_COUNTS)
