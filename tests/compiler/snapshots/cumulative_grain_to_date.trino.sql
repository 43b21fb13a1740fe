-- test_snapshot[cumulative_grain_to_date-trino]: ('revenue_ytd',) by ('metric_time__month',)
with metric_revenue_ytd__daily as (
  select
    base.sold_on as __day,
    sum(base.amount) as value
  from intermediate.int_sales as base
  group by
    base.sold_on
), metric_revenue_ytd__bounds as (
  select
    min(__day) as __lo,
    max(__day) as __hi
  from metric_revenue_ytd__daily
), metric_revenue_ytd__spine as (
  select
    spine.date_day as __day
  from intermediate.metricflow_time_spine as spine
  join metric_revenue_ytd__bounds as bounds
    on spine.date_day between bounds.__lo and bounds.__hi
), metric_revenue_ytd__grid as (
  select
    spine.__day
  from metric_revenue_ytd__spine as spine
), metric_revenue_ytd__windowed as (
  select
    grid.__day,
    sum(daily.value) over (
      partition by cast(date_trunc('YEAR', grid.__day) as date)
      order by grid.__day
      rows between unbounded preceding and current row
    ) as value,
    count(daily.value) over (
      partition by cast(date_trunc('YEAR', grid.__day) as date)
      order by grid.__day
      rows between unbounded preceding and current row
    ) as __rows
  from metric_revenue_ytd__grid as grid
  left join metric_revenue_ytd__daily as daily
    on grid.__day = daily.__day
), metric_revenue_ytd__running as (
  select
    __day,
    value
  from metric_revenue_ytd__windowed
  where
    __rows > 0
), metric_revenue_ytd__edges as (
  select
    *,
    max(__day) over (partition by cast(date_trunc('MONTH', __day) as date)) as __edge
  from metric_revenue_ytd__running
), metric_revenue_ytd as (
  select
    cast(date_trunc('MONTH', __day) as date) as metric_time__month,
    value
  from metric_revenue_ytd__edges
  where
    __day = __edge
)
select
  metric_time__month,
  value as revenue_ytd
from metric_revenue_ytd
order by
  metric_time__month asc
