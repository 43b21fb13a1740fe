select
    {{ dbt.concat(["store_id", "'-'", "cast(expense_date as varchar)", "'-'", "category"]) }} as expense_id,
    expense_date,
    store_id,
    category as expense_category,
    cast(amount as decimal(18, 2)) as amount
from {{ ref('stg_expenses') }}
