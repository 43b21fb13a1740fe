with source as (

    select * from {{ source('raw', 'store_plans') }}

),

renamed as (

    select
        store_id,
        month_start,
        plan_net_revenue

    from source

)

select * from renamed
