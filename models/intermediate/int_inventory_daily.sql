-- End-of-day book inventory valued at cost, with the opening balance (the previous day's close; NULL on the
-- first day of data, when nothing earlier is known).
-- Incremental: a nightly run replaces the days from the window start on; the opening balance of the window's first
-- day comes from each store and product's last row already built.
{{ config(materialized='incremental', incremental_strategy='kpiflow_window',
          window_column='snapshot_date', unique_key='snapshot_date', on_schema_change='fail') }}

with snapshots as (
    select * from {{ ref('stg_inventory_snapshots') }}
    {% if is_incremental() %}
    where snapshot_date >= {{ kpiflow_window_start() }}
    {% endif %}
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
    {% if is_incremental() %}
    union all
    select
        built.snapshot_date,
        built.store_id,
        built.product_id,
        built.category,
        built.units_on_hand,
        built.inventory_value
    from {{ this }} as built
    inner join (
        select store_id, product_id, max(snapshot_date) as snapshot_date
        from {{ this }}
        where snapshot_date < {{ kpiflow_window_start() }}
        group by store_id, product_id
    ) as last_built
        on built.store_id = last_built.store_id
        and built.product_id = last_built.product_id
        and built.snapshot_date = last_built.snapshot_date
    {% endif %}
),

final as (
    select
        {{ dbt.concat(["store_id", "'-'", "product_id", "'-'", dbt.cast("snapshot_date", dbt.type_string())]) }} as snapshot_id,
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
{% if is_incremental() %}
where snapshot_date >= {{ kpiflow_window_start() }}
{% endif %}
