-- Activities are credited to the store the sales manager was assigned to on the day.
with activities as (
    select * from {{ ref('stg_crm_activities') }}
),

employees as (
    select * from {{ ref('dim_employees') }}
),

assignments as (
    select * from {{ ref('stg_employee_assignments') }}
)

select
    cast(activities.activity_id as {{ dbt.type_string() }}) as activity_id,
    activities.activity_date,
    activities.employee_id,
    coalesce(assignments.store_id, employees.store_id) as store_id,
    cast(activities.lead_id as {{ dbt.type_string() }}) as lead_id,
    activities.activity_type,
    activities.activity_type = 'call' as is_call,
    activities.activity_type = 'meeting' as is_meeting,
    activities.activity_type = 'follow_up' as is_follow_up,
    activities.activity_type = 'call' and activities.outcome = 'agreement' as is_agreement
from activities
left join employees on activities.employee_id = employees.employee_id
left join assignments
    on activities.employee_id = assignments.employee_id
    and activities.activity_date >= assignments.valid_from
    and (assignments.valid_to is null or activities.activity_date <= assignments.valid_to)
