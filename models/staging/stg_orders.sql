with source as (

    select * from {{ source('raw', 'orders') }}
    where {{ kpiflow_through_as_of('order_ts') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        order_id,
        order_ts as ordered_at,
        cast(order_ts as date) as order_date,
        store_id,
        channel,
        customer_id,
        employee_id

    from source

)

select * from renamed
