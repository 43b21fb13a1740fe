with source as (

    select * from {{ source('raw', 'inventory_counts') }}

),

renamed as (

    select
        count_date,
        store_id,
        product_id,
        book_units,
        counted_units,
        unit_cost

    from source

)

select * from renamed
