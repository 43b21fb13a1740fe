with source as (

    select * from {{ source('raw', 'crm_leads') }}
    where {{ kpiflow_through_as_of('created_ts') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        lead_id,
        created_ts as created_at,
        cast(created_ts as date) as created_date,
        owner_employee_id,
        {{ kpiflow_known_as_of('first_response_ts') }} as first_responded_at,
        source as lead_source,
        won_order_id,
        store_id

    from source

)

select * from renamed
