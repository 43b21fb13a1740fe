with trainings as (
    select * from {{ ref('stg_trainings') }}
),

employees as (
    select * from {{ ref('dim_employees') }}
)

select
    {{ dbt.concat(["trainings.employee_id", "'-'", "cast(trainings.course_id as varchar)", "'-'",
                   "cast(trainings.completed_on as varchar)"]) }} as training_id,
    trainings.completed_on,
    trainings.employee_id,
    employees.store_id,
    employees.department,
    cast(trainings.pre_score as double) as pre_score,
    cast(trainings.post_score as double) as post_score,
    cast(trainings.post_score - trainings.pre_score as double) as score_gain,
    trainings.is_passed as passed
from trainings
left join employees on trainings.employee_id = employees.employee_id
