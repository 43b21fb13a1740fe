with source as (

    select * from {{ source('raw', 'trainings') }}
    where {{ kpiflow_through_as_of('completed_on') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        employee_id,
        course_id,
        course_name,
        completed_on,
        pre_score,
        post_score,
        passed as is_passed

    from source

)

select * from renamed
