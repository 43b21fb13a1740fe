with leads as (
    select * from {{ ref('stg_crm_leads') }}
),

final as (
    select
        cast(lead_id as {{ dbt.type_string() }}) as lead_id,
        created_at,
        created_date,
        owner_employee_id as employee_id,
        store_id,
        lead_source as source,
        cast({{ dbt.datediff('created_at', 'first_responded_at', 'second') }} as {{ kpiflow_type_double() }}) / 60.0
            as first_response_minutes,
        coalesce({{ dbt.datediff('created_at', 'first_responded_at', 'second') }} <= 3600, false)
            as is_responded_within_1h,
        cast(won_order_id as {{ dbt.type_string() }}) as won_order_id
    from leads
)

select * from final
