-- test_snapshot[simple_filtered-postgres]: ('north_revenue',) by ('metric_time__month',)
with metric_north_revenue as (
  select
    cast(date_trunc('MONTH', base.sold_on) as date) as metric_time__month,
    sum(base.amount) as value
  from intermediate.int_sales as base
  left join intermediate.dim_stores as store
    on base.store_id = store.store_id
  where
    store.region = 'north' and not base.sold_on is null
  group by
    cast(date_trunc('MONTH', base.sold_on) as date)
)
select
  metric_time__month,
  value as north_revenue
from metric_north_revenue
order by
  metric_time__month asc
