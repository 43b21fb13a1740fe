-- test_snapshot[semi_additive_last-snowflake]: ('inventory_value',) by ('metric_time__month', 'store')
with metric_inventory_value__daily as (
  select
    base.store_id as store,
    base.snapshot_date as __day,
    sum(base.value) as value
  from intermediate.int_inventory as base
  group by
    base.store_id,
    base.snapshot_date
), metric_inventory_value__edges as (
  select
    *,
    max(__day) over (partition by cast(date_trunc('MONTH', __day) as date)) as __edge
  from metric_inventory_value__daily
), metric_inventory_value as (
  select
    cast(date_trunc('MONTH', __day) as date) as metric_time__month,
    store,
    value
  from metric_inventory_value__edges
  where
    __day = __edge
)
select
  metric_time__month,
  store,
  value as inventory_value
from metric_inventory_value
order by
  metric_time__month asc,
  store asc
