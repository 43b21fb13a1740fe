with stores as (
    select * from {{ ref('stg_stores') }}
)

select
    store_id,
    store_name,
    store_type,
    region,
    city,
    cast(selling_area_sqft as {{ kpiflow_type_double() }}) as selling_area_sqft,
    cast(total_area_sqft as {{ kpiflow_type_double() }}) as total_area_sqft,
    opened_on,
    store_type = 'physical' as is_physical
from stores
