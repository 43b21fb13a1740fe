with source as (

    select * from {{ source('raw', 'stores') }}

),

renamed as (

    select
        store_id,
        store_name,
        store_type,
        region,
        city,
        selling_area_sqft,
        total_area_sqft,
        opened_on

    from source

)

select * from renamed
