-- Trainings are credited to the store the employee was assigned to on the completion date, like every HR event.
with trainings as (
    select * from {{ ref('stg_trainings') }}
),

employees as (
    select * from {{ ref('dim_employees') }}
),

assignments as (
    select * from {{ ref('stg_employee_assignments') }}
)

select
    {{ dbt.concat(["trainings.employee_id", "'-'", dbt.cast("trainings.course_id", dbt.type_string()), "'-'",
                   dbt.cast("trainings.completed_on", dbt.type_string())]) }} as training_id,
    trainings.completed_on,
    trainings.employee_id,
    coalesce(assignments.store_id, employees.store_id) as store_id,
    employees.department,
    cast(trainings.pre_score as {{ kpiflow_type_double() }}) as pre_score,
    cast(trainings.post_score as {{ kpiflow_type_double() }}) as post_score,
    cast(trainings.post_score - trainings.pre_score as {{ kpiflow_type_double() }}) as score_gain,
    trainings.is_passed as passed
from trainings
left join employees on trainings.employee_id = employees.employee_id
left join assignments
    on trainings.employee_id = assignments.employee_id
    and trainings.completed_on >= assignments.valid_from
    and (assignments.valid_to is null or trainings.completed_on <= assignments.valid_to)
