-- Selling area is a balance: one row per open physical store and day within the data's date range.
with stores as (
    select * from {{ ref('dim_stores') }}
),

spine as (
    select * from {{ ref('metricflow_time_spine') }}
),

data_range as (
    select min(order_date) as first_day, max(order_date) as last_day from {{ ref('stg_orders') }}
)

select
    {{ dbt.concat(["stores.store_id", "'-'", dbt.cast("spine.date_day", dbt.type_string())]) }} as store_day_id,
    stores.store_id,
    spine.date_day,
    stores.selling_area_sqft
from stores
inner join data_range on true
inner join spine
    on spine.date_day between data_range.first_day and data_range.last_day
    and spine.date_day >= stores.opened_on
where stores.is_physical
