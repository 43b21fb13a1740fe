-- test_snapshot[cumulative_window-snowflake]: ('revenue_7d',) by ('metric_time__day',)
with metric_revenue_7d__daily as (
  select
    base.sold_on as __day,
    sum(base.amount) as value
  from intermediate.int_sales as base
  group by
    base.sold_on
), metric_revenue_7d__bounds as (
  select
    min(__day) as __lo,
    max(__day) as __hi
  from metric_revenue_7d__daily
), metric_revenue_7d__spine as (
  select
    spine.date_day as __day
  from intermediate.metricflow_time_spine as spine
  join metric_revenue_7d__bounds as bounds
    on spine.date_day between bounds.__lo and bounds.__hi
), metric_revenue_7d__grid as (
  select
    spine.__day
  from metric_revenue_7d__spine as spine
), metric_revenue_7d__windowed as (
  select
    grid.__day,
    sum(daily.value) over (order by grid.__day rows between 6 preceding and current row) as value,
    count(daily.value) over (order by grid.__day rows between 6 preceding and current row) as __rows
  from metric_revenue_7d__grid as grid
  left join metric_revenue_7d__daily as daily
    on grid.__day = daily.__day
), metric_revenue_7d__running as (
  select
    __day,
    value
  from metric_revenue_7d__windowed
  where
    __rows > 0
), metric_revenue_7d__edges as (
  select
    *,
    max(__day) over (partition by cast(__day as date)) as __edge
  from metric_revenue_7d__running
), metric_revenue_7d as (
  select
    cast(__day as date) as metric_time__day,
    value
  from metric_revenue_7d__edges
  where
    __day = __edge
)
select
  metric_time__day,
  value as revenue_7d
from metric_revenue_7d
order by
  metric_time__day asc
