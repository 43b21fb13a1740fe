-- test_snapshot[ratio-bigquery]: ('upt',) by ('metric_time__month', 'store__region')
with metric_units as (
  select
    cast(date_trunc(base.sold_on, month) as date) as metric_time__month,
    store.region as store__region,
    sum(base.quantity) as value
  from intermediate.int_sales as base
  left join intermediate.dim_stores as store
    on base.store_id = store.store_id
  where
    not base.sold_on is null
  group by
    cast(date_trunc(base.sold_on, month) as date),
    store.region
), metric_order_count as (
  select
    cast(date_trunc(base.sold_on, month) as date) as metric_time__month,
    store.region as store__region,
    count(distinct base.order_id) as value
  from intermediate.int_sales as base
  left join intermediate.dim_stores as store
    on base.store_id = store.store_id
  where
    not base.sold_on is null
  group by
    cast(date_trunc(base.sold_on, month) as date),
    store.region
), metric_upt__keys as (
  select
    metric_time__month,
    store__region
  from metric_units
  union distinct
  select
    metric_time__month,
    store__region
  from metric_order_count
), metric_upt as (
  select
    k.metric_time__month,
    k.store__region,
    cast(in_0.value as float64) / nullif(cast(in_1.value as float64), 0) as value
  from metric_upt__keys as k
  left join metric_units as in_0
    on k.metric_time__month is not distinct from in_0.metric_time__month
    and k.store__region is not distinct from in_0.store__region
  left join metric_order_count as in_1
    on k.metric_time__month is not distinct from in_1.metric_time__month
    and k.store__region is not distinct from in_1.store__region
)
select
  metric_time__month,
  store__region,
  value as upt
from metric_upt
order by
  metric_time__month asc nulls last,
  store__region asc nulls last
