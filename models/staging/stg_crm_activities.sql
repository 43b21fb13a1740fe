with source as (

    select * from {{ source('raw', 'crm_activities') }}
    where {{ kpiflow_through_as_of('activity_ts') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        activity_id,
        employee_id,
        lead_id,
        activity_ts as activity_at,
        cast(activity_ts as date) as activity_date,
        activity_type,
        outcome

    from source

)

select * from renamed
