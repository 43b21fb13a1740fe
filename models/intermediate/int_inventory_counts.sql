-- Shrinkage = book value - counted value at a physical count (DECISIONS rule 12).
with counts as (
    select * from {{ ref('stg_inventory_counts') }}
),

products as (
    select * from {{ ref('dim_products') }}
)

select
    {{ dbt.concat(["counts.store_id", "'-'", "counts.product_id", "'-'", dbt.cast("counts.count_date", dbt.type_string())]) }}
        as count_id,
    counts.count_date,
    counts.store_id,
    counts.product_id,
    products.category,
    cast(counts.book_units * counts.unit_cost as decimal(18, 2)) as book_value,
    cast(counts.counted_units * counts.unit_cost as decimal(18, 2)) as counted_value,
    cast((counts.book_units - counts.counted_units) * counts.unit_cost as decimal(18, 2)) as shrinkage_value
from counts
left join products on counts.product_id = products.product_id
