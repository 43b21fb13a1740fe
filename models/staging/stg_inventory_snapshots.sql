with source as (

    select * from {{ source('raw', 'inventory_snapshots') }}

),

renamed as (

    select
        snapshot_date,
        store_id,
        product_id,
        units_on_hand,
        unit_cost

    from source

)

select * from renamed
