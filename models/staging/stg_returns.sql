with source as (

    select * from {{ source('raw', 'returns') }}
    where {{ kpiflow_through_as_of('return_ts') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        return_id,
        order_id,
        line_no,
        return_ts as returned_at,
        cast(return_ts as date) as return_date,
        quantity,
        refund_amount

    from source

)

select * from renamed
