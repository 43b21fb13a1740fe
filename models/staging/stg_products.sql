with source as (

    select * from {{ source('raw', 'products') }}

),

renamed as (

    select
        product_id,
        sku,
        product_name,
        category,
        unit_cost,
        list_price

    from source

)

select * from renamed
