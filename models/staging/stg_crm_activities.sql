with source as (

    select * from {{ source('raw', 'crm_activities') }}

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
