with source as (

    select * from {{ source('raw', 'inventory_receipts') }}

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
