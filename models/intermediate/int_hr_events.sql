-- Hires and terminations as dated events, with the store the employee was assigned to at the time.
with employees as (
    select * from {{ ref('dim_employees') }}
),

assignments as (
    select * from {{ ref('stg_employee_assignments') }}
),

events as (
    select employee_id, 'hire' as event_type, hire_date as event_date, department,
           cast(null as {{ dbt.type_string() }}) as termination_reason, store_id as current_store_id
    from employees
    union all
    select employee_id, 'termination' as event_type, termination_date as event_date, department,
           termination_reason, store_id as current_store_id
    from employees
    where termination_date is not null
),

dated as (
    select
        events.*,
        -- the store on the day of a hire, and on the last working day before a termination
        case when event_type = 'hire' then event_date
             else {{ dbt.dateadd('day', -1, 'event_date') }} end as as_of_date
    from events
),

final as (
    select
        {{ dbt.concat(["events.employee_id", "'-'", "events.event_type"]) }} as hr_event_id,
        events.event_type,
        events.event_date,
        events.employee_id,
        coalesce(assignments.store_id, events.current_store_id) as store_id,
        events.department,
        events.termination_reason
    from dated as events
    left join assignments
        on events.employee_id = assignments.employee_id
        and cast(events.as_of_date as date) >= assignments.valid_from
        and (assignments.valid_to is null or cast(events.as_of_date as date) <= assignments.valid_to)
)

select * from final
