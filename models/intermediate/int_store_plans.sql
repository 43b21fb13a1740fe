select
    {{ dbt.concat(["store_id", "'-'", dbt.cast("month_start", dbt.type_string())]) }} as plan_id,
    cast(month_start as date) as month_start,
    store_id,
    cast(plan_net_revenue as decimal(18, 2)) as plan_net_revenue
from {{ ref('stg_store_plans') }}
