select
    {{ dbt.concat(["store_id", "'-'", "cast(traffic_date as varchar)"]) }} as traffic_id,
    store_id,
    traffic_date,
    visitors
from {{ ref('stg_store_traffic') }}
