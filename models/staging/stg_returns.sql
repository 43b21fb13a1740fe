with source as (

    select * from {{ source('raw', 'returns') }}

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
