with source as (

    select * from {{ source('raw', 'customers') }}

),

renamed as (

    select
        customer_id,
        region,
        signup_date,
        home_store_id

    from source

)

select * from renamed
