with source as (

    select * from {{ source('raw', 'trainings') }}

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
