select
    {{ dbt.concat(["store_id", "'-'", dbt.cast("traffic_date", dbt.type_string())]) }} as traffic_id,
    store_id,
    traffic_date,
    visitors
from {{ ref('stg_store_traffic') }}
