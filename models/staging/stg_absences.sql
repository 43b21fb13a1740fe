with source as (

    select * from {{ source('raw', 'absences') }}
    where {{ kpiflow_through_as_of('absence_date') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        employee_id,
        absence_date,
        hours,
        absence_type

    from source

)

select * from renamed
