with source as (

    select * from {{ source('raw', 'store_traffic') }}
    where {{ kpiflow_through_as_of('traffic_date') }}  -- as of the run date (macros/kpiflow_as_of.sql)

),

renamed as (

    select
        store_id,
        traffic_date,
        visitors

    from source

)

select * from renamed
