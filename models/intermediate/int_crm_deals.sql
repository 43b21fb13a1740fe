-- A lead is won by the order linked to it; the deal is dated by that order.
with leads as (
    select * from {{ ref('stg_crm_leads') }}
),

orders as (
    select * from {{ ref('int_orders') }}
)

select
    cast(leads.lead_id as {{ dbt.type_string() }}) as lead_id,
    orders.ordered_at as won_at,
    orders.order_date as won_date,
    leads.owner_employee_id as employee_id,
    leads.store_id,
    cast(orders.net_amount as decimal(18, 2)) as deal_amount
from leads
inner join orders on leads.won_order_id = orders.order_id
