-- test_snapshot[derived_offset-bigquery]: ('revenue_yoy',) by ('metric_time__month',)
with metric_revenue as (
  select
    cast(date_trunc(base.sold_on, month) as date) as metric_time__month,
    sum(base.amount) as value
  from intermediate.int_sales as base
  where
    not base.sold_on is null
  group by
    cast(date_trunc(base.sold_on, month) as date)
), metric_revenue__offset_1_year as (
  select
    cast(date_trunc(date_add(metric_time__month, interval 1 year), month) as date) as metric_time__month,
    value
  from metric_revenue
), metric_revenue_yoy__keys as (
  select distinct
    metric_time__month
  from metric_revenue
), metric_revenue_yoy as (
  select
    keys.metric_time__month,
    cast((
      revenue.value - revenue_prior.value
    ) as float64) / nullif(revenue_prior.value, 0) as value
  from metric_revenue_yoy__keys as keys
  left join metric_revenue as revenue
    on keys.metric_time__month is not distinct from revenue.metric_time__month
  left join metric_revenue__offset_1_year as revenue_prior
    on keys.metric_time__month is not distinct from revenue_prior.metric_time__month
)
select
  metric_time__month,
  value as revenue_yoy
from metric_revenue_yoy
order by
  metric_time__month asc nulls last
