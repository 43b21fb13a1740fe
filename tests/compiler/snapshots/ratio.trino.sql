-- test_snapshot[ratio-trino]: ('upt',) by ('metric_time__month', 'store__region')
with metric_units as (
  select
    cast(date_trunc('MONTH', base.sold_on) as date) as metric_time__month,
    store.region as store__region,
    sum(base.quantity) as value
  from intermediate.int_sales as base
  left join intermediate.dim_stores as store
    on base.store_id = store.store_id
  where
    not base.sold_on is null
  group by
    cast(date_trunc('MONTH', base.sold_on) as date),
    store.region
), metric_order_count as (
  select
    cast(date_trunc('MONTH', base.sold_on) as date) as metric_time__month,
    store.region as store__region,
    count(distinct base.order_id) as value
  from intermediate.int_sales as base
  left join intermediate.dim_stores as store
    on base.store_id = store.store_id
  where
    not base.sold_on is null
  group by
    cast(date_trunc('MONTH', base.sold_on) as date),
    store.region
), metric_upt__keys as (
  select
    metric_time__month,
    store__region
  from metric_units
  union
  select
    metric_time__month,
    store__region
  from metric_order_count
), metric_upt as (
  select
    keys.metric_time__month,
    keys.store__region,
    cast(units.value as double) / nullif(cast(order_count.value as double), 0) as value
  from metric_upt__keys as keys
  left join metric_units as units
    on keys.metric_time__month is not distinct from units.metric_time__month
    and keys.store__region is not distinct from units.store__region
  left join metric_order_count as order_count
    on keys.metric_time__month is not distinct from order_count.metric_time__month
    and keys.store__region is not distinct from order_count.store__region
)
select
  metric_time__month,
  store__region,
  value as upt
from metric_upt
order by
  metric_time__month asc,
  store__region asc
