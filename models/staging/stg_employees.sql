with source as (

    select * from {{ source('raw', 'employees') }}
    where {{ kpiflow_through_as_of('hire_date') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        employee_id,
        store_id,
        department,
        job_role,
        hire_date,
        {{ kpiflow_known_as_of('termination_date') }} as termination_date,
        {{ kpiflow_known_as_of('termination_reason', 'termination_date') }} as termination_reason,
        monthly_base_pay,
        monthly_variable_pay

    from source

)

select * from renamed
