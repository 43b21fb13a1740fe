-- test_snapshot[semi_additive_average-postgres]: ('avg_inventory',) by ('metric_time__quarter',)
with metric_avg_inventory__daily as (
  select
    base.snapshot_date as __day,
    sum(base.value) as value
  from intermediate.int_inventory as base
  group by
    base.snapshot_date
), metric_avg_inventory__days as (
  select
    cast(date_trunc('QUARTER', __day) as date) as __period,
    count(distinct __day) as __days
  from metric_avg_inventory__daily
  group by
    cast(date_trunc('QUARTER', __day) as date)
), metric_avg_inventory as (
  select
    cast(date_trunc('QUARTER', daily.__day) as date) as metric_time__quarter,
    cast(sum(daily.value) as double precision) / max(day_counts.__days) as value
  from metric_avg_inventory__daily as daily
  inner join metric_avg_inventory__days as day_counts
    on cast(date_trunc('QUARTER', daily.__day) as date) = day_counts.__period
  group by
    cast(date_trunc('QUARTER', daily.__day) as date)
)
select
  metric_time__quarter,
  value as avg_inventory
from metric_avg_inventory
order by
  metric_time__quarter asc
