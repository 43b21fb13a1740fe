with source as (

    select * from {{ source('raw', 'order_lines') }}

),

renamed as (

    select
        order_id,
        line_no,
        product_id,
        quantity,
        unit_price,
        discount_amount,
        unit_cost

    from source

)

select * from renamed
