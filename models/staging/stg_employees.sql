with source as (

    select * from {{ source('raw', 'employees') }}

),

renamed as (

    select
        employee_id,
        store_id,
        department,
        job_role,
        hire_date,
        termination_date,
        termination_reason,
        monthly_base_pay,
        monthly_variable_pay

    from source

)

select * from renamed
