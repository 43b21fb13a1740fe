with plans as (
    select * from {{ ref('stg_sales_plans') }}
),

employees as (
    select * from {{ ref('dim_employees') }}
)

select
    {{ dbt.concat(["plans.employee_id", "'-'", dbt.cast("plans.month_start", dbt.type_string())]) }} as plan_id,
    cast(plans.month_start as date) as month_start,
    plans.employee_id,
    employees.store_id,
    cast(plans.plan_net_revenue as decimal(18, 2)) as plan_net_revenue
from plans
left join employees on plans.employee_id = employees.employee_id
