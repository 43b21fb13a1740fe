select product_id, sku, product_name, category, unit_cost, list_price
from {{ ref('stg_products') }}
