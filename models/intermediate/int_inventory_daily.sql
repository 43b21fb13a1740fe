-- End-of-day book inventory valued at cost, with the opening balance (the previous day's close; NULL on the
-- first day of data, when nothing earlier is known).
with snapshots as (
    select * from {{ ref('stg_inventory_snapshots') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

valued as (
    select
        snapshots.snapshot_date,
        snapshots.store_id,
        snapshots.product_id,
        products.category,
        snapshots.units_on_hand,
        cast(snapshots.units_on_hand * snapshots.unit_cost as decimal(18, 2)) as inventory_value
    from snapshots
    left join products on snapshots.product_id = products.product_id
),

final as (
    select
        {{ dbt.concat(["store_id", "'-'", "product_id", "'-'", "cast(snapshot_date as varchar)"]) }} as snapshot_id,
        snapshot_date,
        store_id,
        product_id,
        category,
        units_on_hand,
        inventory_value,
        lag(units_on_hand) over (partition by store_id, product_id order by snapshot_date) as opening_units,
        lag(inventory_value) over (partition by store_id, product_id order by snapshot_date) as opening_value,
        units_on_hand = 0 as is_stockout
    from valued
)

select * from final
