-- test_snapshot[retention-duckdb]: ('retention',) by ('metric_time__month',)
with metric_retention__active as (
  select distinct
    cast(date_trunc('MONTH', base.sold_on) as date) as metric_time__month,
    base.customer_id as __entity
  from intermediate.int_sales as base
  where
    not base.sold_on is null and not base.customer_id is null
), metric_retention__previous as (
  select
    cast(date_trunc('MONTH', metric_time__month + interval 1 month) as date) as metric_time__month,
    __entity
  from metric_retention__active
), metric_retention as (
  select
    previous.metric_time__month,
    cast(count(active.__entity) as double) / nullif(count(*), 0) as value
  from metric_retention__previous as previous
  left join metric_retention__active as active
    on previous.metric_time__month is not distinct from active.metric_time__month
    and previous.__entity = active.__entity
  where
    previous.metric_time__month <= (
      select
        max(metric_time__month)
      from metric_retention__active
    )
  group by
    previous.metric_time__month
)
select
  metric_time__month,
  value as retention
from metric_retention
order by
  metric_time__month asc
