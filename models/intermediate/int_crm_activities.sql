with activities as (
    select * from {{ ref('stg_crm_activities') }}
),

employees as (
    select * from {{ ref('dim_employees') }}
)

select
    cast(activities.activity_id as varchar) as activity_id,
    activities.activity_date,
    activities.employee_id,
    employees.store_id,
    cast(activities.lead_id as varchar) as lead_id,
    activities.activity_type,
    activities.activity_type = 'call' as is_call,
    activities.activity_type = 'meeting' as is_meeting,
    activities.activity_type = 'follow_up' as is_follow_up,
    activities.activity_type = 'call' and activities.outcome = 'agreement' as is_agreement
from activities
left join employees on activities.employee_id = employees.employee_id
