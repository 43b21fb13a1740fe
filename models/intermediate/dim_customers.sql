select customer_id, region, signup_date
from {{ ref('stg_customers') }}
