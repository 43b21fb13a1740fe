-- Pay columns stay in staging: HR marts never carry salaries (DECISIONS rule 14).
select employee_id, store_id, department, job_role, hire_date, termination_date, termination_reason
from {{ ref('stg_employees') }}
