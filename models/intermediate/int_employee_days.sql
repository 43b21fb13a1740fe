-- An employee is active on day d when hire_date <= d and (termination_date is NULL or termination_date > d)
-- (DECISIONS rule 13). Days run over the data's date range; the store is the assignment valid that day.
-- Scheduled hours: 8 on weekdays, none on weekends (assumption: the warehouse has no rosters).
with employees as (
    select * from {{ ref('dim_employees') }}
),

assignments as (
    select * from {{ ref('stg_employee_assignments') }}
),

spine as (
    select * from {{ ref('metricflow_time_spine') }}
),

data_range as (
    select min(order_date) as first_day, max(order_date) as last_day from {{ ref('stg_orders') }}
),

active_days as (
    select
        employees.employee_id,
        employees.department,
        spine.date_day
    from employees
    inner join data_range on true
    inner join spine
        on spine.date_day between data_range.first_day and data_range.last_day
        and spine.date_day >= employees.hire_date
        and (employees.termination_date is null or spine.date_day < employees.termination_date)
),

final as (
    select
        {{ dbt.concat(["active_days.employee_id", "'-'", dbt.cast("active_days.date_day", dbt.type_string())]) }}
            as employee_day_id,
        active_days.date_day,
        active_days.employee_id,
        coalesce(assignments.store_id, employees.store_id) as store_id,
        active_days.department,
        case when {{ kpiflow_is_weekend("active_days.date_day") }} then 0.0 else 8.0 end as scheduled_hours
    from active_days
    inner join employees on active_days.employee_id = employees.employee_id
    left join assignments
        on active_days.employee_id = assignments.employee_id
        and active_days.date_day >= assignments.valid_from
        and (assignments.valid_to is null or active_days.date_day <= assignments.valid_to)
)

select * from final
