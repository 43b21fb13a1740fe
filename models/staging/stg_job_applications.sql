with source as (

    select * from {{ source('raw', 'job_applications') }}
    where {{ kpiflow_through_as_of('applied_on') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        application_id,
        requisition_id,
        department,
        job_role,
        applied_on,
        is_qualified,
        {{ kpiflow_known_as_of('hired_on') }} as hired_on,
        {{ kpiflow_known_as_of('hired_employee_id', 'hired_on') }} as hired_employee_id

    from source

)

select * from renamed
