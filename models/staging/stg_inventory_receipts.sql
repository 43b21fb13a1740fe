with source as (

    select * from {{ source('raw', 'inventory_receipts') }}
    where {{ kpiflow_through_as_of('received_on') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        receipt_id,
        received_on,
        store_id,
        product_id,
        quantity,
        unit_cost

    from source

)

select * from renamed
