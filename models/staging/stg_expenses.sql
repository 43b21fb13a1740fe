with source as (

    select * from {{ source('raw', 'expenses') }}

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
