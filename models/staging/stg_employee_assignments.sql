with source as (

    select * from {{ source('raw', 'employee_assignments') }}

),

renamed as (

    select
        employee_id,
        store_id,
        valid_from,
        valid_to

    from source

)

select * from renamed
