with source as (

    select * from {{ source('raw', 'expenses') }}
    where {{ kpiflow_through_as_of('expense_date') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        expense_date,
        store_id,
        category,
        amount

    from source

)

select * from renamed
