with source as (

    select * from {{ source('raw', 'job_applications') }}

),

renamed as (

    select
        application_id,
        requisition_id,
        department,
        job_role,
        applied_on,
        is_qualified,
        hired_on,
        hired_employee_id

    from source

)

select * from renamed
