select
    cast(application_id as {{ dbt.type_string() }}) as application_id,
    cast(requisition_id as {{ dbt.type_string() }}) as requisition_id,
    department,
    applied_on,
    hired_on,
    is_qualified,
    {{ dbt.datediff('applied_on', 'hired_on', 'day') }} as days_to_hire
from {{ ref('stg_job_applications') }}
