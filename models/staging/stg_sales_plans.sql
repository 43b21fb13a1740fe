with source as (

    select * from {{ source('raw', 'sales_plans') }}

),

renamed as (

    select
        employee_id,
        month_start,
        plan_net_revenue

    from source

)

select * from renamed
