with source as (

    select * from {{ source('raw', 'inventory_counts') }}
    where {{ kpiflow_through_as_of('count_date') }}  -- as of the run date (macros/kpiflow_as_of.sql)

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
