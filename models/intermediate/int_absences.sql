with absences as (
    select * from {{ ref('stg_absences') }}
),

employee_days as (
    select * from {{ ref('int_employee_days') }}
)

select
    {{ dbt.concat(["absences.employee_id", "'-'", dbt.cast("absences.absence_date", dbt.type_string())]) }} as absence_id,
    absences.absence_date,
    absences.employee_id,
    employee_days.store_id,
    employee_days.department,
    cast(absences.hours as {{ kpiflow_type_double() }}) as hours,
    absences.absence_type
from absences
left join employee_days
    on absences.employee_id = employee_days.employee_id
    and absences.absence_date = employee_days.date_day
