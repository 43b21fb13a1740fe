with source as (

    select * from {{ source('raw', 'store_traffic') }}

),

renamed as (

    select
        store_id,
        traffic_date,
        visitors

    from source

)

select * from renamed
