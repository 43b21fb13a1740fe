-- test_snapshot[simple-bigquery]: ('revenue',) by ('metric_time__month', 'store__region')
with metric_revenue as (
  select
    cast(date_trunc(base.sold_on, month) as date) as metric_time__month,
    store.region as store__region,
    sum(base.amount) as value
  from intermediate.int_sales as base
  left join intermediate.dim_stores as store
    on base.store_id = store.store_id
  where
    not base.sold_on is null
  group by
    cast(date_trunc(base.sold_on, month) as date),
    store.region
)
select
  metric_time__month,
  store__region,
  value as revenue
from metric_revenue
order by
  metric_time__month asc nulls last,
  store__region asc nulls last
