with source as (

    select * from {{ source('raw', 'inventory_snapshots') }}
    where {{ kpiflow_through_as_of('snapshot_date') }}  -- as of the run date (macros/kpiflow_as_of.sql)

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
