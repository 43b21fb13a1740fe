with receipts as (
    select * from {{ ref('stg_inventory_receipts') }}
),

products as (
    select * from {{ ref('dim_products') }}
)

select
    cast(receipts.receipt_id as {{ dbt.type_string() }}) as receipt_id,
    receipts.received_on,
    receipts.store_id,
    receipts.product_id,
    products.category,
    receipts.quantity,
    cast(receipts.quantity * receipts.unit_cost as decimal(18, 2)) as receipt_value
from receipts
left join products on receipts.product_id = products.product_id
