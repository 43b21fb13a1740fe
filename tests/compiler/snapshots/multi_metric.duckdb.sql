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
  k.metric_time__year,
  m_0.value as revenue,
  m_1.value as order_count
from query__keys as k
left join metric_revenue as m_0
  on k.metric_time__year is not distinct from m_0.metric_time__year
left join metric_order_count as m_1
  on k.metric_time__year is not distinct from m_1.metric_time__year
order by
  metric_time__year asc
