select
    {{ dbt.concat(["store_id", "'-'", dbt.cast("expense_date", dbt.type_string()), "'-'", "category"]) }} as expense_id,
    expense_date,
    store_id,
    category as expense_category,
    cast(amount as decimal(18, 2)) as amount
from {{ ref('stg_expenses') }}
