with source as (

    select * from {{ source('raw', 'absences') }}

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
