-- test_snapshot[multi_metric-duckdb]: ('revenue', 'order_count') by ('metric_time__year',)
with metric_revenue as (
  select
    cast(date_trunc('YEAR', base.sold_on) as date) as metric_time__year,
    sum(base.amount) as value
  from intermediate.int_sales as base
  where
    not base.sold_on is null
  group by
    cast(date_trunc('YEAR', base.sold_on) as date)
), metric_order_count as (
  select
    cast(date_trunc('YEAR', base.sold_on) as date) as metric_time__year,
    count(distinct base.order_id) as value
  from intermediate.int_sales as base
  where
    not base.sold_on is null
  group by
    cast(date_trunc('YEAR', base.sold_on) as date)
), query__keys as (
  select
    metric_time__year
  from metric_revenue
  union
  select
    metric_time__year
  from metric_order_count
)
select
  keys.metric_time__year,
  revenue.value as revenue,
  order_count.value as order_count
from query__keys as keys
left join metric_revenue as revenue
  on keys.metric_time__year is not distinct from revenue.metric_time__year
left join metric_order_count as order_count
  on keys.metric_time__year is not distinct from order_count.metric_time__year
order by
  metric_time__year asc
